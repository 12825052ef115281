package server

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/opencontainers/go-digest"
)

// redirectBlob answers a blob GET with a 307 to a presigned storage URL, so
// the bytes go from the object store to the client without passing through
// the registry (Distribution's storage "redirect" middleware). The caller has
// checked that the repository holds the blob.
func (s *Server) redirectBlob(c echo.Context, d digest.Digest) error {
	u, err := s.store.BlobURL(c.Request().Context(), d, s.cfg.StorageRedirect)
	if err != nil {
		return s.fail(c, err)
	}
	h := c.Response().Header()
	h.Del("Accept-Ranges")
	h.Del("Cache-Control") // the URL expires; the redirect must not outlive it
	h.Set("Location", u)
	c.Response().WriteHeader(http.StatusTemporaryRedirect)
	return nil
}

// etagMatch reports whether an If-None-Match or If-Range value names the
// blob's ETag (the quoted digest), weakly compared as RFC 9110 allows for
// If-None-Match; "*" matches any existing blob.
func etagMatch(header, dgst string) bool {
	if header == "" {
		return false
	}
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == `"`+dgst+`"` {
			return true
		}
	}
	return false
}

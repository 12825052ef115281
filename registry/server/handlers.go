package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/mlos-foundation/axon/registry/names"
	"github.com/mlos-foundation/axon/registry/repostore"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func badDigest(err error) *apiError {
	return errorf(http.StatusBadRequest, codeDigestInvalid, err.Error())
}

// ---- blobs ----

func (s *Server) getBlob(c echo.Context, rt route) error {
	d, err := names.ParseDigest(rt.arg)
	if err != nil {
		return writeError(c, badDigest(err))
	}
	ctx := c.Request().Context()
	bi, err := s.store.StatBlob(ctx, rt.name, d)
	if err != nil {
		return s.fail(c, err)
	}
	h := c.Response().Header()
	h.Set("Docker-Content-Digest", d.String())
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Accept-Ranges", "bytes")
	h.Set("ETag", `"`+d.String()+`"`)
	h.Set("Cache-Control", "max-age=31536000")
	req := c.Request()
	if etagMatch(req.Header.Get("If-None-Match"), d.String()) {
		// the client has these bytes: a digest names them forever
		c.Response().WriteHeader(http.StatusNotModified)
		return nil
	}
	if req.Method == http.MethodGet && s.cfg.StorageRedirect > 0 {
		return s.redirectBlob(c, d)
	}
	rangeHeader := req.Header.Get("Range")
	if ir := req.Header.Get("If-Range"); ir != "" && !etagMatch(ir, d.String()) {
		rangeHeader = "" // the client's partial copy is of other bytes: send them all
	}
	start, end, partial, rerr := parseRange(rangeHeader, bi.Size)
	if rerr != nil {
		h.Set("Content-Range", fmt.Sprintf("bytes */%d", bi.Size))
		// the blob exists, so not BLOB_UNKNOWN: the spec has no range code, the size is what is off
		return writeError(c, errorf(http.StatusRequestedRangeNotSatisfiable, codeSizeInvalid, fmt.Sprintf("%v: the blob is %d bytes", rerr, bi.Size)))
	}
	status := http.StatusOK
	length := bi.Size
	if partial {
		status = http.StatusPartialContent
		length = end - start + 1
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end, bi.Size))
	}
	h.Set("Content-Length", strconv.FormatInt(length, 10))
	if c.Request().Method == http.MethodHead {
		c.Response().WriteHeader(status)
		return nil
	}
	rc, err := s.store.OpenBlob(ctx, rt.name, d, start)
	if err != nil {
		h.Del("Content-Length")
		h.Del("Content-Range")
		return s.fail(c, err)
	}
	defer rc.Close()
	c.Response().WriteHeader(status)
	// straight to net/http's writer: for a file on disk it uses sendfile(2)
	n, err := io.Copy(c.Response().Writer, io.LimitReader(rc, length))
	c.Response().Size += n
	s.metrics.bytesOut.Add(float64(n))
	if err != nil && ctx.Err() == nil {
		s.log.Warn("blob send interrupted", "digest", d, "sent", n, "err", err)
	}
	return nil
}

// parseRange parses a single "bytes=" range. Syntactically unusable headers are
// ignored (a full response), unsatisfiable ones are an error (416).
func parseRange(h string, size int64) (start, end int64, partial bool, err error) {
	if h == "" {
		return 0, size - 1, false, nil
	}
	spec, ok := strings.CutPrefix(strings.TrimSpace(h), "bytes=")
	if !ok || strings.Contains(spec, ",") {
		return 0, size - 1, false, nil
	}
	a, b, ok := strings.Cut(spec, "-")
	if !ok {
		return 0, size - 1, false, nil
	}
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	unsat := errors.New("range not satisfiable")
	switch {
	case a == "" && b == "":
		return 0, size - 1, false, nil
	case a == "": // suffix: last b bytes
		n, perr := strconv.ParseInt(b, 10, 64)
		if perr != nil || n < 0 {
			return 0, size - 1, false, nil
		}
		if n == 0 || size == 0 {
			return 0, 0, false, unsat
		}
		if n > size {
			n = size
		}
		return size - n, size - 1, true, nil
	}
	first, perr := strconv.ParseInt(a, 10, 64)
	if perr != nil || first < 0 {
		return 0, size - 1, false, nil
	}
	last := size - 1
	if b != "" {
		l, perr := strconv.ParseInt(b, 10, 64)
		if perr != nil || l < 0 {
			return 0, size - 1, false, nil
		}
		if l < first {
			return 0, 0, false, unsat
		}
		if l < last {
			last = l
		}
	}
	if first >= size {
		return 0, 0, false, unsat
	}
	return first, last, true, nil
}

func (s *Server) deleteBlob(c echo.Context, rt route) error {
	d, err := names.ParseDigest(rt.arg)
	if err != nil {
		return writeError(c, badDigest(err))
	}
	if err := s.store.DeleteBlob(c.Request().Context(), rt.name, d); err != nil {
		return s.fail(c, err)
	}
	return c.NoContent(http.StatusAccepted)
}

// ---- uploads ----

func uploadURL(name, id string) string { return "/v2/" + name + "/blobs/uploads/" + id }

func (s *Server) uploadHeaders(c echo.Context, name string, up repostore.UploadInfo) {
	h := c.Response().Header()
	h.Set("Location", uploadURL(name, up.ID))
	end := up.Offset - 1
	if end < 0 {
		end = 0
	}
	h.Set("Range", fmt.Sprintf("0-%d", end))
	h.Set("Docker-Upload-UUID", up.ID)
	h.Set("Blob-Upload-Session-ID", up.ID)
}

func (s *Server) created(c echo.Context, name string, d digest.Digest) error {
	h := c.Response().Header()
	h.Set("Location", "/v2/"+name+"/blobs/"+d.String())
	h.Set("Docker-Content-Digest", d.String())
	return c.NoContent(http.StatusCreated)
}

// declaredLength is the request's Content-Length, or -1 when unknown (chunked).
func declaredLength(r *http.Request) int64 {
	if r.ContentLength >= 0 {
		return r.ContentLength
	}
	return -1
}

func (s *Server) startUpload(c echo.Context, rt route) error {
	req := c.Request()
	ctx := req.Context()
	q := req.URL.Query()
	if m := q.Get("mount"); m != "" {
		if d, err := names.ParseDigest(m); err == nil {
			from := q.Get("from")
			allowed := from == "" || (names.ValidName(from) && s.allowed(c, from, "pull"))
			if allowed {
				if _, err := s.store.Mount(ctx, rt.name, from, d); err == nil {
					return s.created(c, rt.name, d)
				} else if !errors.Is(err, repostore.ErrBlobUnknown) {
					return s.fail(c, err)
				}
			}
		}
		// the spec's fallback: an ordinary upload session
	}
	if ds := q.Get("digest"); ds != "" {
		d, err := names.ParseDigest(ds)
		if err != nil {
			return writeError(c, badDigest(err))
		}
		began := time.Now()
		bi, err := s.store.PutBlob(ctx, rt.name, d, declaredLength(req), req.Body)
		if err != nil {
			return s.fail(c, err)
		}
		s.metrics.uploadSeconds.Observe(time.Since(began).Seconds())
		return s.created(c, rt.name, bi.Digest)
	}
	alg := digest.Algorithm(q.Get("digest-algorithm"))
	if alg != "" && alg != digest.SHA256 && alg != digest.SHA512 {
		return writeError(c, errorf(http.StatusBadRequest, codeDigestInvalid, "unsupported digest algorithm "+strconv.Quote(string(alg))))
	}
	up, err := s.store.StartUpload(ctx, rt.name, alg)
	if err != nil {
		return s.fail(c, err)
	}
	s.uploadHeaders(c, rt.name, up)
	return c.NoContent(http.StatusAccepted)
}

func (s *Server) uploadStatus(c echo.Context, rt route) error {
	up, err := s.store.UploadStatus(c.Request().Context(), rt.name, rt.arg)
	if err != nil {
		return s.fail(c, err)
	}
	s.uploadHeaders(c, rt.name, up)
	return c.NoContent(http.StatusNoContent)
}

// contentRange parses a chunk's "start-end" (also "bytes start-end/total" and
// "bytes=start-end"); ok=false when absent, err when malformed.
func contentRange(h string) (start, length int64, ok bool, err error) {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0, 0, false, nil
	}
	h = strings.TrimPrefix(h, "bytes=")
	h = strings.TrimPrefix(h, "bytes ")
	if i := strings.IndexByte(h, '/'); i >= 0 {
		h = h[:i]
	}
	a, b, found := strings.Cut(h, "-")
	if !found {
		return 0, 0, true, errors.New("malformed Content-Range")
	}
	first, err1 := strconv.ParseInt(a, 10, 64)
	last, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || first < 0 || last < first {
		return 0, 0, true, errors.New("malformed Content-Range")
	}
	return first, last - first + 1, true, nil
}

func (s *Server) rangeRefused(c echo.Context, rt route, err error) error {
	if up, serr := s.store.UploadStatus(c.Request().Context(), rt.name, rt.arg); serr == nil {
		s.uploadHeaders(c, rt.name, up)
	}
	return writeError(c, errorf(http.StatusRequestedRangeNotSatisfiable, codeBlobUploadInvalid, err.Error()))
}

func (s *Server) patchUpload(c echo.Context, rt route) error {
	req := c.Request()
	start, length, hasRange, err := contentRange(req.Header.Get("Content-Range"))
	if err != nil {
		return s.rangeRefused(c, rt, err)
	}
	if !hasRange {
		start, length = -1, declaredLength(req)
	} else if req.ContentLength >= 0 && req.ContentLength != length {
		return writeError(c, errorf(http.StatusBadRequest, codeSizeInvalid, "Content-Length does not match Content-Range"))
	}
	up, err := s.store.WriteUpload(req.Context(), rt.name, rt.arg, start, length, req.Body)
	if err != nil {
		if errors.Is(err, repostore.ErrRangeInvalid) {
			return s.rangeRefused(c, rt, err)
		}
		return s.fail(c, err)
	}
	s.uploadHeaders(c, rt.name, up)
	return c.NoContent(http.StatusAccepted)
}

func (s *Server) putUpload(c echo.Context, rt route) error {
	req := c.Request()
	ds := req.URL.Query().Get("digest")
	if ds == "" {
		return writeError(c, errorf(http.StatusBadRequest, codeDigestInvalid, "the digest query parameter is required to complete an upload"))
	}
	d, err := names.ParseDigest(ds)
	if err != nil {
		return writeError(c, badDigest(err))
	}
	start, length, hasRange, err := contentRange(req.Header.Get("Content-Range"))
	if err != nil {
		return s.rangeRefused(c, rt, err)
	}
	if !hasRange {
		start, length = -1, declaredLength(req)
	}
	began := time.Now()
	bi, err := s.store.FinishUpload(req.Context(), rt.name, rt.arg, d, start, length, req.Body)
	if err != nil {
		if errors.Is(err, repostore.ErrRangeInvalid) {
			return s.rangeRefused(c, rt, err)
		}
		return s.fail(c, err)
	}
	s.metrics.uploadSeconds.Observe(time.Since(began).Seconds())
	return s.created(c, rt.name, bi.Digest)
}

func (s *Server) cancelUpload(c echo.Context, rt route) error {
	if err := s.store.CancelUpload(c.Request().Context(), rt.name, rt.arg); err != nil {
		return s.fail(c, err)
	}
	return c.NoContent(http.StatusNoContent)
}

// ---- manifests ----

func (s *Server) parseRef(c echo.Context, arg string) (names.Reference, *apiError) {
	ref, err := names.ParseReference(arg)
	if err != nil {
		return ref, s.classify(c, err)
	}
	return ref, nil
}

func (s *Server) getManifest(c echo.Context, rt route) error {
	ref, aerr := s.parseRef(c, rt.arg)
	if aerr != nil {
		return writeError(c, aerr)
	}
	ctx := c.Request().Context()
	h := c.Response().Header()
	if c.Request().Method == http.MethodHead {
		desc, err := s.store.ResolveRef(ctx, rt.name, ref)
		if err != nil {
			return s.fail(c, err)
		}
		h.Set("Content-Type", servedType(desc.MediaType))
		h.Set("Content-Length", strconv.FormatInt(desc.Size, 10))
		h.Set("Docker-Content-Digest", desc.Digest.String())
		h.Set("ETag", `"`+desc.Digest.String()+`"`)
		return c.NoContent(http.StatusOK)
	}
	desc, body, err := s.store.GetManifest(ctx, rt.name, ref)
	if err != nil {
		return s.fail(c, err)
	}
	h.Set("Docker-Content-Digest", desc.Digest.String())
	h.Set("ETag", `"`+desc.Digest.String()+`"`)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	s.metrics.bytesOut.Add(float64(len(body)))
	return c.Blob(http.StatusOK, servedType(desc.MediaType), body)
}

// servedType is the Content-Type a stored manifest is served with: its own
// when it is a manifest type, else (stored before types were checked) bytes.
func servedType(mt string) string {
	if repostore.ManifestMediaType(mt) {
		return mt
	}
	return "application/octet-stream"
}

func (s *Server) putManifest(c echo.Context, rt route) error {
	ref, aerr := s.parseRef(c, rt.arg)
	if aerr != nil {
		return writeError(c, aerr)
	}
	req := c.Request()
	limit := s.cfg.MaxManifestSize
	tooLarge := errorf(http.StatusRequestEntityTooLarge, codeSizeInvalid, fmt.Sprintf("manifest larger than %d bytes", limit))
	if req.ContentLength > limit {
		return writeError(c, tooLarge)
	}
	// bounded memory: manifest bodies are buffered whole (they are hashed and
	// parsed), so all requests together hold at most manifestBudget bytes of
	// them; the rest wait their turn (a few KiB each, typically, pass at once)
	weight := limit
	if req.ContentLength >= 0 {
		weight = max(req.ContentLength, 1)
	}
	if err := s.manifestMem.Acquire(req.Context(), weight); err != nil {
		return nil // the client went away while waiting
	}
	defer s.manifestMem.Release(weight)
	body, err := readBody(req.Body, req.ContentLength, limit)
	if err != nil {
		return writeError(c, errorf(http.StatusBadRequest, codeManifestInvalid, "could not read the manifest body: "+err.Error()))
	}
	if int64(len(body)) > limit {
		return writeError(c, tooLarge)
	}
	ctx := req.Context()
	res, err := s.store.PutManifest(ctx, rt.name, ref, req.Header.Get("Content-Type"), body)
	if err != nil {
		return s.fail(c, err)
	}
	// OCI 1.1 tag parameters: PUT by digest with ?tag=a&tag=b
	for _, t := range req.URL.Query()["tag"] {
		if err := s.store.Tag(ctx, rt.name, t, res.Descriptor); err != nil {
			return s.fail(c, err)
		}
	}
	h := c.Response().Header()
	for _, t := range req.URL.Query()["tag"] {
		h.Add("OCI-Tag", t)
	}
	h.Set("Location", "/v2/"+rt.name+"/manifests/"+res.Descriptor.Digest.String())
	h.Set("Docker-Content-Digest", res.Descriptor.Digest.String())
	if res.Subject != nil {
		h.Set("OCI-Subject", res.Subject.Digest.String())
	}
	return c.NoContent(http.StatusCreated)
}

// readBody reads at most limit+1 bytes, into one buffer of the declared size
// when there is one (io.ReadAll would grow and copy it several times).
func readBody(r io.Reader, declared, limit int64) ([]byte, error) {
	if declared < 0 {
		return io.ReadAll(io.LimitReader(r, limit+1))
	}
	b := make([]byte, declared)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	return b, nil
}

func (s *Server) deleteManifest(c echo.Context, rt route) error {
	ref, aerr := s.parseRef(c, rt.arg)
	if aerr != nil {
		return writeError(c, aerr)
	}
	if err := s.store.DeleteManifest(c.Request().Context(), rt.name, ref); err != nil {
		return s.fail(c, err)
	}
	return c.NoContent(http.StatusAccepted)
}

// ---- listings ----

// pageParams reads n and last; n = -1 means all.
func pageParams(c echo.Context) (int, string, *apiError) {
	q := c.Request().URL.Query()
	n := -1
	if v := q.Get("n"); v != "" {
		i, err := strconv.Atoi(v)
		if err != nil || i < 0 {
			return 0, "", errorf(http.StatusBadRequest, codeUnsupported, "n must be a non-negative integer")
		}
		n = i
	}
	return n, q.Get("last"), nil
}

// paginate fetches one more than asked to know whether a next page exists.
func paginate(list func(n int, last string) ([]string, error), n int, last string) ([]string, bool, error) {
	if n < 0 {
		all, err := list(-1, last)
		return all, false, err
	}
	if n == 0 {
		return []string{}, false, nil
	}
	items, err := list(n+1, last)
	if err != nil {
		return nil, false, err
	}
	if len(items) > n {
		return items[:n], true, nil
	}
	return items, false, nil
}

func (s *Server) tagsList(c echo.Context, rt route) error {
	n, last, aerr := pageParams(c)
	if aerr != nil {
		return writeError(c, aerr)
	}
	ctx := c.Request().Context()
	if n == 0 {
		// still 404 for unknown repositories
		if _, err := s.store.ListTags(ctx, rt.name, 0, ""); err != nil {
			return s.fail(c, err)
		}
	}
	tags, more, err := paginate(func(n int, last string) ([]string, error) {
		return s.store.ListTags(ctx, rt.name, n, last)
	}, n, last)
	if err != nil {
		return s.fail(c, err)
	}
	return writePage(c, "/v2/"+rt.name+"/tags/list", n, tags, more, map[string]any{"name": rt.name}, "tags")
}

// writePage answers one page of a listing, items under key in body, with a Link
// to the next page when there is one.
func writePage(c echo.Context, path string, n int, items []string, more bool, body map[string]any, key string) error {
	if items == nil {
		items = []string{}
	}
	if more {
		v := url.Values{"n": {strconv.Itoa(n)}, "last": {items[len(items)-1]}}
		c.Response().Header().Set("Link", fmt.Sprintf(`<%s?%s>; rel="next"`, path, v.Encode()))
	}
	body[key] = items
	return c.JSON(http.StatusOK, body)
}

func (s *Server) catalog(c echo.Context) error {
	n, last, aerr := pageParams(c)
	if aerr != nil {
		return writeError(c, aerr)
	}
	ctx := c.Request().Context()
	repos, more, err := paginate(func(n int, last string) ([]string, error) {
		return s.store.ListRepositories(ctx, n, last)
	}, n, last)
	if err != nil {
		return s.fail(c, err)
	}
	return writePage(c, "/v2/_catalog", n, repos, more, map[string]any{}, "repositories")
}

func (s *Server) referrers(c echo.Context, rt route) error {
	d, err := names.ParseDigest(rt.arg)
	if err != nil {
		return writeError(c, badDigest(err))
	}
	at := c.Request().URL.Query().Get("artifactType")
	descs, err := s.store.ListReferrers(c.Request().Context(), rt.name, d, at)
	if err != nil {
		return s.fail(c, err)
	}
	if at != "" {
		c.Response().Header().Set("OCI-Filters-Applied", "artifactType")
	}
	idx := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: descs}
	idx.SchemaVersion = 2
	b, err := json.Marshal(idx)
	if err != nil {
		return s.fail(c, err)
	}
	return c.Blob(http.StatusOK, ocispec.MediaTypeImageIndex, b)
}

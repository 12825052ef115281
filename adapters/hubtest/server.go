package hubtest

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"
)

// serve starts a server for h, closed when the test ends, and returns its URL.
func serve(t testing.TB, h http.HandlerFunc) string {
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s.URL
}

// serveElsewhere is serve with the URL naming the host "localhost" rather than
// 127.0.0.1, so that a redirect there plainly goes to another host (and a
// client must drop the origin's Authorization header).
func serveElsewhere(t testing.TB, h http.HandlerFunc) string {
	return strings.Replace(serve(t, h), "127.0.0.1", "localhost", 1)
}

// newCommit makes a commit of files at when: their blobs (also entered in
// byHash, keyed by sha256, for the CDN), sorted paths, and a sha1 id over head
// and each path with the blob id the hub lists (oid).
func newCommit(files []File, when time.Time, head string, oid func(*blob) string, byHash map[string]*blob) (*hfCommit, error) {
	c := &hfCommit{files: map[string]*blob{}, time: when}
	id := sha1.New()
	io.WriteString(id, head)
	for _, f := range files {
		b, err := newBlob(f)
		if err != nil {
			return nil, err
		}
		c.files[f.Path] = b
		c.paths = append(c.paths, f.Path)
		byHash[b.sha256] = b
		fmt.Fprintf(id, "%s %s\n", f.Path, oid(b))
	}
	sort.Strings(c.paths)
	c.sha = hex.EncodeToString(id.Sum(nil))
	return c, nil
}

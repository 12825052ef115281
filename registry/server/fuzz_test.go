package server

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/mlos-foundation/axon/registry/storage/driver/fs"
	"github.com/opencontainers/go-digest"
)

func FuzzParseRoute(f *testing.F) {
	for _, s := range []string{"/v2/", "/v2/_catalog", "/v2/a/b/tags/list", "/v2/a/blobs/uploads/", "/v2/a/blobs/uploads/x", "/v2/a/manifests/latest", "/v2/a/referrers/sha256:0", "/v2//blobs/", "/v3/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		rt := parseRoute(p)
		if rt.kind != rNotFound && !strings.HasPrefix(p, "/v2") {
			t.Fatalf("%q routed to %s", p, rt.kind)
		}
		if strings.Contains(rt.arg, "/") {
			t.Fatalf("%q: argument %q has a slash", p, rt.arg)
		}
	})
}

func FuzzRanges(f *testing.F) {
	for _, s := range []string{"bytes=0-0", "bytes=-5", "bytes=5-", "bytes=5-1", "0-99", "bytes 0-9/10", "garbage", "bytes=1-2,3-4", "bytes=-0"} {
		f.Add(s, int64(10))
	}
	f.Fuzz(func(t *testing.T, h string, size int64) {
		if size < 0 {
			size = -size
		}
		if size < 0 {
			return
		}
		start, end, partial, err := parseRange(h, size)
		if err == nil && partial && (start < 0 || end >= size || start > end) {
			t.Fatalf("parseRange(%q, %d) = %d-%d", h, size, start, end)
		}
		first, length, ok, err := contentRange(h)
		if ok && err == nil && (first < 0 || length <= 0) {
			t.Fatalf("contentRange(%q) = %d+%d", h, first, length)
		}
	})
}

// FuzzRequests throws arbitrary requests at a real server: whatever the client
// sends, the answer is never a 5xx.
func FuzzRequests(f *testing.F) {
	d, err := fs.New(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	ts := startServer(f, d, Config{MaxManifestSize: 64 << 10})
	h := ts.Srv.Handler()
	// something to find: a blob and a manifest
	blob := []byte("{}")
	bd := digest.FromBytes(blob)
	req := httptest.NewRequest("POST", "/v2/a/b/blobs/uploads/?digest="+bd.String(), bytes.NewReader(blob))
	h.ServeHTTP(httptest.NewRecorder(), req)

	seeds := []struct{ method, target, hdr, body string }{
		{"GET", "/v2/", "", ""},
		{"GET", "/v2/a/b/blobs/" + bd.String(), "Range: bytes=0-", ""},
		{"HEAD", "/v2/a/b/manifests/latest", "", ""},
		{"PUT", "/v2/a/b/manifests/v1", "Content-Type: application/vnd.oci.image.manifest.v1+json", `{"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"` + bd.String() + `","size":2},"layers":[]}`},
		{"POST", "/v2/a/b/blobs/uploads/?mount=" + bd.String() + "&from=x/y", "", ""},
		{"PATCH", "/v2/a/b/blobs/uploads/00000000-0000-0000-0000-000000000000", "Content-Range: 0-3", "abcd"},
		{"GET", "/v2/a/b/referrers/" + bd.String() + "?artifactType=x", "", ""},
		{"GET", "/v2/_catalog?n=1&last=a", "", ""},
		{"DELETE", "/v2/a/b/manifests/" + bd.String(), "", ""},
		{"GET", "/v2/a/b/tags/list?n=999999999999999999999", "", ""},
	}
	for _, s := range seeds {
		f.Add(s.method, s.target, s.hdr, s.body)
	}
	f.Fuzz(func(t *testing.T, method, target, hdr, body string) {
		switch method {
		case "GET", "HEAD", "PUT", "POST", "PATCH", "DELETE":
		default:
			return
		}
		if !strings.HasPrefix(target, "/") || strings.ContainsAny(target, " \r\n\x00#") {
			return
		}
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return
		}
		req, err := http.NewRequest(method, "http://registry"+u.RequestURI(), strings.NewReader(body))
		if err != nil {
			return
		}
		if k, v, ok := strings.Cut(hdr, ": "); ok && httpguts(k) && !strings.ContainsAny(v, "\r\n\x00") {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s (%q): %d %s", method, target, hdr, rec.Code, rec.Body.String())
		}
	})
}

// httpguts: a plausible header name (the fuzzer's random bytes often are not).
func httpguts(k string) bool {
	if k == "" {
		return false
	}
	for _, c := range k {
		if !(c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

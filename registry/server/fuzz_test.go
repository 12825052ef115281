package server

import (
	"strings"
	"testing"
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

package driver

import (
	"errors"
	"path"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckPath(t *testing.T) {
	for _, p := range []string{"a", "a/b", "blobs/sha256/ab/abcdef/data", "_uploads/x-y.z/data", "...", "a..b", ".hidden"} {
		if err := CheckPath(p); err != nil {
			t.Errorf("CheckPath(%q) = %v", p, err)
		}
	}
	for _, p := range []string{"", "/", "/a", "a/", "a//b", ".", "..", "a/.", "a/../b", "a\\b", "a\x00", "x/.axon-tmp-1", "y.axon-parts"} {
		if err := CheckPath(p); !errors.Is(err, ErrInvalidPath) {
			t.Errorf("CheckPath(%q) = %v, want ErrInvalidPath", p, err)
		}
	}
	if CheckDir("") != nil || CheckDir("/") == nil {
		t.Error("CheckDir: the root is \"\" only")
	}
}

// An accepted path never escapes the directory it is joined to, and is kept
// as is by cleaning (no ".", "..", "//" or trailing slash).
func FuzzCheckPath(f *testing.F) {
	for _, p := range []string{"a/b", "../x", "a/./b", "a\\..\\b", "blobs/sha256/ab/cd/data"} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if CheckPath(p) != nil {
			return
		}
		joined := filepath.Join("/root", p)
		if !strings.HasPrefix(joined, "/root/") {
			t.Fatalf("accepted %q escapes: %s", p, joined)
		}
		if path.Clean(p) != p || strings.ContainsAny(p, "\\\x00") {
			t.Fatalf("accepted unclean %q", p)
		}
	})
}

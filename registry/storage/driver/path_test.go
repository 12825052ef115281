package driver

import (
	"context"
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
// Begin checks every path before the context; BeginDir also takes "" (the root).
func TestBegin(t *testing.T) {
	ctx := context.Background()
	done, cancel := context.WithCancel(ctx)
	cancel()
	for _, c := range []struct {
		what string
		err  error
		want error
	}{
		{"valid paths", Begin(ctx, "a/b", "c"), nil},
		{"no paths", Begin(ctx), nil},
		{"second path invalid", Begin(ctx, "a", "../b"), ErrInvalidPath},
		{"root as a file", Begin(ctx, ""), ErrInvalidPath},
		{"invalid path, done context", Begin(done, "a//b"), ErrInvalidPath},
		{"done context", Begin(done, "a"), context.Canceled},
		{"root dir", BeginDir(ctx, ""), nil},
		{"dir", BeginDir(ctx, "a/b"), nil},
		{"invalid dir", BeginDir(ctx, "a/"), ErrInvalidPath},
		{"dir, done context", BeginDir(done, ""), context.Canceled},
	} {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: %v, want %v", c.what, c.err, c.want)
		}
	}
}

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

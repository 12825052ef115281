package fsutil

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestPlaceLinksAndReplaces(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	dst := filepath.Join(dir, "a", "b", "dst")
	os.WriteFile(src, []byte("weights"), 0o644)
	os.MkdirAll(filepath.Dir(dst), 0o755)
	os.WriteFile(dst, []byte("old"), 0o644)
	if err := Place(context.Background(), src, dst); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(dst); string(b) != "weights" {
		t.Fatalf("dst = %q", b)
	}
	si, _ := os.Stat(src)
	di, _ := os.Stat(dst)
	if !os.SameFile(si, di) {
		t.Errorf("same file system: want a hard link")
	}
}

func TestCopyHonoursContextAndLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	os.WriteFile(src, make([]byte, 3<<20), 0o644)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dst := filepath.Join(dir, "dst")
	if err := Copy(ctx, src, dst); err == nil {
		t.Fatal("copy with a cancelled context succeeded")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("a cancelled copy left files behind: %v", entries)
	}
	if err := Copy(context.Background(), src, dst); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(dst); fi.Size() != 3<<20 {
		t.Errorf("copied %d bytes", fi.Size())
	}
}

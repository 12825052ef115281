package fsutil

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"
)

func blobDir(t *testing.T) (string, func(digest.Digest) string) {
	root := t.TempDir()
	return root, func(d digest.Digest) string { return filepath.Join(root, "blobs", d.Encoded()) }
}

func TestWriterVerifiesBeforeVisible(t *testing.T) {
	ctx := context.Background()
	root, blob := blobDir(t)
	content := []byte("the blob")
	want := digest.FromBytes(content)

	w, err := NewWriter(ctx, filepath.Join(root, "ingest"), "", blob)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("not the blob"))
	if _, err := w.Commit(ctx, -1, want); !errors.Is(err, ErrMismatch) {
		t.Fatalf("commit of other content under %s: %v", want, err)
	}
	if _, err := os.Stat(blob(want)); !os.IsNotExist(err) {
		t.Fatalf("a mismatching blob became visible: %v", err)
	}
	w.Close()
	if left, _ := os.ReadDir(filepath.Join(root, "ingest")); len(left) != 0 {
		t.Fatalf("staging files left: %v", left)
	}

	w, _ = NewWriter(ctx, filepath.Join(root, "ingest"), "", blob)
	w.Write(content)
	if _, err := w.Commit(ctx, int64(len(content))+1, ""); !errors.Is(err, ErrMismatch) {
		t.Fatalf("commit with the wrong size: %v", err)
	}
	got, err := w.Commit(ctx, int64(len(content)), want)
	if err != nil || got != want {
		t.Fatalf("commit: %s %v", got, err)
	}
	w.Close()
	b, err := os.ReadFile(blob(want))
	if err != nil || string(b) != string(content) {
		t.Fatalf("blob: %q %v", b, err)
	}
	if fi, _ := os.Stat(blob(want)); fi.Mode().Perm()&0o222 != 0 {
		t.Errorf("blob is writable: %v", fi.Mode())
	}
}

func TestWriterResumes(t *testing.T) {
	ctx := context.Background()
	root, blob := blobDir(t)
	dir := filepath.Join(root, "partial")
	content := []byte("0123456789abcdef")
	w, err := NewWriter(ctx, dir, "k.part", blob)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(content[:7])
	w.Close() // cut off: kept
	w, err = NewWriter(ctx, dir, "k.part", blob)
	if err != nil {
		t.Fatal(err)
	}
	if w.Offset() != 7 {
		t.Fatalf("resumed at %d, want 7", w.Offset())
	}
	w.Write(content[7:])
	if _, err := w.Commit(ctx, int64(len(content)), digest.FromBytes(content)); err != nil {
		t.Fatalf("commit of the resumed blob: %v", err)
	}
	w.Close()
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("partial files left: %v", left)
	}
	if _, err := NewWriter(ctx, dir, "../escape", blob); err == nil {
		t.Fatal("a partial name with a path was accepted")
	}
	// The partial is locked: a second writer waits, and gives up with ctx.
	a, _ := NewWriter(ctx, dir, "busy.part", blob)
	defer a.Close()
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := NewWriter(cctx, dir, "busy.part", blob); !errors.Is(err, context.Canceled) {
		t.Fatalf("second writer on a busy partial: %v", err)
	}
}

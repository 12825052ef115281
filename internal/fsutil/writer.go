package fsutil

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"github.com/opencontainers/go-digest"
)

// Writer writes one blob of a content-addressed directory: it hashes
// (sha256) every byte it is given, and Commit checks size and digest itself
// before the blob becomes visible under its digest, so no caller can file
// content under a digest it does not have. A Writer opened on a partial file
// continues it (Offset says from where); one writer per partial file at a time,
// also across processes.
//
// Stores construct Writers (NewWriter is their tool, not their callers'): see
// localstore.Store.Writer and the download engine's cache.
type Writer struct {
	f      *os.File
	h      hash.Hash
	n      int64
	keep   bool // a resumable partial: kept on Close without Commit
	unlock func()
	blob   func(digest.Digest) string
	done   bool
}

// NewWriter opens a writer. With partial != "", the file is created or
// continued (its bytes hashed again) under an exclusive lock on the file
// itself that waits for ctx; with partial == "", a fresh file is made in dir.
// blob maps a digest to the file it is committed as.
func NewWriter(ctx context.Context, dir, partial string, blob func(digest.Digest) string) (*Writer, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	w := &Writer{h: sha256.New(), blob: blob, unlock: func() {}}
	if partial == "" {
		f, err := os.CreateTemp(dir, "stage-*")
		if err != nil {
			return nil, err
		}
		w.f = f
		return w, nil
	}
	if filepath.Base(partial) != partial || partial == "." || partial == ".." {
		return nil, fmt.Errorf("partial %q: not a plain file name", partial)
	}
	p := filepath.Join(dir, partial)
	var f *os.File
	for {
		var err error
		if f, err = lockFile(ctx, p, syscall.LOCK_EX); err != nil {
			return nil, err
		}
		// The holder before may have committed (renamed) the file this one
		// waited on: lock the file now at p instead.
		fi, ferr := f.Stat()
		pi, perr := os.Stat(p)
		if ferr == nil && perr == nil && os.SameFile(fi, pi) {
			break
		}
		f.Close()
		if ferr != nil {
			return nil, ferr
		}
	}
	w.f, w.keep = f, true
	w.unlock = func() {}      // closing f releases its lock
	n, err := io.Copy(w.h, f) // leaves the offset at the end
	if err != nil {
		w.Close()
		return nil, err
	}
	w.n = n
	return w, nil
}

// Offset is how many bytes the writer holds (a continued partial's included).
func (w *Writer) Offset() int64 { return w.n }

// Write appends p.
func (w *Writer) Write(p []byte) (int, error) {
	if w.done {
		return 0, errors.New("write after commit")
	}
	n, err := w.f.Write(p)
	w.h.Write(p[:n])
	w.n += int64(n)
	return n, err
}

// ReadAt reads back what was written (a resuming caller re-hashes the prefix
// with a checksum of its own).
func (w *Writer) ReadAt(p []byte, off int64) (int, error) { return w.f.ReadAt(p, off) }

// Truncate drops everything written: the next Write starts the blob again.
func (w *Writer) Truncate() error {
	if err := w.f.Truncate(0); err != nil {
		return err
	}
	if _, err := w.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	w.h.Reset()
	w.n = 0
	return nil
}

// Digest is the sha256 digest of what was written so far.
func (w *Writer) Digest() digest.Digest { return digest.NewDigest(digest.SHA256, w.h) }

// Commit checks what was written against size (skipped when < 0) and
// expected (skipped when ""), then makes it visible as the blob of its digest,
// read-only; the digest is returned. A blob already present is kept and the
// written copy dropped. Content that does not match is discarded.
func (w *Writer) Commit(ctx context.Context, size int64, expected digest.Digest) (digest.Digest, error) {
	if w.done {
		return "", errors.New("commit twice")
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	got := w.Digest()
	if size >= 0 && w.n != size {
		if w.n > size {
			w.Truncate()
		}
		return "", fmt.Errorf("%w: %d bytes, want %d", ErrMismatch, w.n, size)
	}
	if expected != "" && got != expected {
		w.Truncate()
		return "", fmt.Errorf("%w: content has digest %s, want %s", ErrMismatch, got, expected)
	}
	// No fsync: like oras-go's OCI store, blobs are verified when read, so a
	// crash-torn blob is caught at use rather than paid for on every write.
	// The file stays open (and locked) until it is renamed: a writer waiting
	// for it then finds it gone and starts on a new file.
	w.done = true
	defer w.unlock()
	defer w.f.Close()
	name := w.f.Name()
	target := w.blob(got)
	if fi, err := os.Stat(target); err == nil && fi.Size() == w.n {
		os.Remove(name)
		return got, nil
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		w.drop()
		return "", err
	}
	// Blobs are shared by hard links: keep them read-only.
	if err := os.Chmod(name, 0o444); err != nil {
		w.drop()
		return "", err
	}
	if err := os.Rename(name, target); err != nil {
		w.drop()
		return "", err
	}
	return got, nil
}

// drop removes a fresh file that failed to commit; a partial stays to be resumed.
func (w *Writer) drop() {
	if !w.keep {
		os.Remove(w.f.Name())
	}
}

// ErrMismatch: what was written is not the blob it was meant to be.
var ErrMismatch = errors.New("size or digest mismatch")

// Close releases the writer. Without Commit, a partial file that holds
// bytes is kept to be continued; an empty or fresh one is removed.
func (w *Writer) Close() error {
	if w.done {
		return nil
	}
	w.done = true
	if !w.keep || w.n == 0 {
		os.Remove(w.f.Name()) // still locked: no other writer is on it
	}
	err := w.f.Close()
	w.unlock()
	return err
}

package fs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/mlos-foundation/axon/registry/storage/driver"
)

// bufSize batches the small writes HTTP bodies arrive in into fewer syscalls.
const bufSize = 256 << 10

// Writer implements driver.Driver. The staging file lives at p itself: callers
// pass staging paths (such as "_uploads/<id>/data") and Move the result later.
func (d *Driver) Writer(ctx context.Context, p string, append bool) (driver.FileWriter, error) {
	if err := driver.CheckPath(p); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	full := d.full(p)
	flags := os.O_WRONLY | os.O_CREATE
	if !append {
		flags |= os.O_TRUNC
	}
	var f *os.File
	var err error
	for range 5 { // a concurrent Delete may prune the directory we just made
		if err = d.mkdirs(filepath.Dir(full)); err != nil {
			continue
		}
		if f, err = os.OpenFile(full, flags, 0o644); err == nil || !errors.Is(err, os.ErrNotExist) {
			break
		}
	}
	if err != nil {
		if isDirErr(err) {
			return nil, fmt.Errorf("write %s: is a directory", p)
		}
		return nil, wrap("write", p, err)
	}
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		f.Close()
		return nil, wrap("write", p, err)
	}
	return &writer{d: d, path: p, f: f, buf: newStreamWriter(f, size), size: size}, nil
}

// streamWriter is how a writer's bytes reach its file: Flush writes out
// anything held back; nothing is written after it.
type streamWriter interface {
	io.Writer
	Flush() error
}

type writer struct {
	d      *Driver
	path   string
	f      *os.File
	buf    streamWriter
	size   int64
	closed bool
}

func (w *writer) Write(p []byte) (int, error) {
	if w.closed {
		return 0, fmt.Errorf("write %s: writer is closed", w.path)
	}
	n, err := w.buf.Write(p)
	w.size += int64(n)
	if err != nil {
		return n, wrap("write", w.path, err)
	}
	return n, nil
}

func (w *writer) Size() int64 { return w.size }

func (w *writer) Close() error {
	if w.closed {
		return fmt.Errorf("close %s: writer is closed", w.path)
	}
	w.closed = true
	err := w.buf.Flush()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	return wrap("close", w.path, err)
}

func (w *writer) Commit(ctx context.Context) error {
	if w.closed {
		return fmt.Errorf("commit %s: writer is closed", w.path)
	}
	w.closed = true
	err := w.buf.Flush()
	if err == nil {
		err = w.f.Sync()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	return wrap("commit", w.path, err)
}

func (w *writer) Cancel(ctx context.Context) error {
	if !w.closed {
		w.closed = true
		w.f.Close()
	}
	full := w.d.full(w.path)
	if err := os.Remove(full); err != nil && !errors.Is(err, os.ErrNotExist) {
		return wrap("cancel", w.path, err)
	}
	w.d.pruneParents(filepath.Dir(full))
	return nil
}

package fs

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/mlos-foundation/axon/registry/storage/driver"
)

var _ driver.Putter = (*Driver)(nil)

// PutStream implements driver.Putter: a temporary file next to the destination,
// fsynced and renamed over it only once r ended cleanly with the right size.
func (d *Driver) PutStream(ctx context.Context, p string, r io.Reader, size int64) (int64, error) {
	return d.writeFile(ctx, p, func(f *os.File) (int64, error) {
		buf := copyBufs.Get().(*[]byte)
		n, err := io.CopyBuffer(writerOnly{f}, ctxReader{ctx, r}, *buf)
		copyBufs.Put(buf)
		if err == nil && size >= 0 && n != size {
			err = fmt.Errorf("got %d bytes, want %d: %w", n, size, driver.ErrSizeMismatch)
		}
		return n, err
	})
}

// writeFile is every whole-file write: fill writes a temporary file next to p,
// which is fsynced and renamed over p only if fill succeeded, so readers see
// the old file or the new one, never a part.
func (d *Driver) writeFile(ctx context.Context, p string, fill func(*os.File) (int64, error)) (int64, error) {
	if err := driver.CheckPath(p); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	dst := d.full(p)
	f, err := d.createTemp(filepath.Dir(dst))
	if err != nil {
		return 0, wrap("write", p, err)
	}
	tmp := f.Name()
	n, err := fill(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, dst)
	}
	if err != nil {
		os.Remove(tmp)
		return n, wrap("write", p, err)
	}
	return n, wrap("write", p, syncDir(filepath.Dir(dst)))
}

// copyBufs turn a body into large writes: fewer syscalls than io.Copy's 32 KiB.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 1<<20); return &b }}

// writerOnly hides *os.File's ReadFrom, which would ignore our buffer.
type writerOnly struct{ io.Writer }

// ctxReader stops a copy when the context ends. It hides r's WriterTo on
// purpose, so that a network body is read in our buffer-sized steps.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(b []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(b)
}

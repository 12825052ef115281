package fs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/mlos-foundation/axon/internal/fsutil"
	"github.com/mlos-foundation/axon/registry/storage/driver"
)

var _ driver.Putter = (*Driver)(nil)

// PutStream implements driver.Putter: a temporary file next to the destination,
// fsynced and renamed over it only once r ended cleanly with the right size.
func (d *Driver) PutStream(ctx context.Context, p string, r io.Reader, size int64) (int64, error) {
	return d.writeFile(ctx, p, func(f *os.File) (int64, error) {
		buf := copyBufs.Get().(*[]byte)
		n, err := io.CopyBuffer(newWriteback(f, 0), fsutil.ContextReader(ctx, r), *buf)
		copyBufs.Put(buf)
		if err == nil && size >= 0 && n != size {
			err = fmt.Errorf("got %d bytes, want %d: %w", n, size, driver.ErrSizeMismatch)
		}
		return n, err
	})
}

// writeFile is every whole-file write. fill writes a temporary file in the
// root's staging directory, which is fsynced and then renamed into place only
// if fill succeeded, so readers see the old file or the new one, never a part.
//
// Directories the file needs that do not exist yet are built around it in the
// staging area and renamed into place with it, so a directory never appears
// empty or holding only an unfinished file: a tag or a revision is listed
// exactly when its link is readable. A concurrent Delete pruning an emptied
// parent meanwhile is met by trying again.
func (d *Driver) writeFile(ctx context.Context, p string, fill func(*os.File) (int64, error)) (int64, error) {
	if err := driver.CheckPath(p); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	dst := d.full(p)
	stage, err := d.stageDir()
	if err != nil {
		return 0, wrap("write", p, err)
	}
	defer os.RemoveAll(stage)
	tmp := filepath.Join(stage, "f")
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return 0, wrap("write", p, err)
	}
	// a shared lock for as long as the file is ours: Clean removes only files
	// whose writer is gone (the kernel drops the lock when a process dies)
	syscall.Flock(int(f.Fd()), syscall.LOCK_SH)
	n, err := fill(f)
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = d.place(tmp, dst, stage)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, wrap("write", p, err)
	}
	return n, nil
}

// place renames the finished file tmp to dst, creating dst's missing
// directories atomically with it (built under stage, renamed in one step).
func (d *Driver) place(tmp, dst, stage string) error {
	var err error
	for range 50 {
		// the deepest existing ancestor of dst's directory, and what is missing below it
		dir := filepath.Dir(dst)
		var missing []string
		for dir != d.root {
			if fi, serr := os.Stat(dir); serr == nil && fi.IsDir() {
				break
			}
			missing = append([]string{filepath.Base(dir)}, missing...)
			dir = filepath.Dir(dir)
		}
		if len(missing) == 0 {
			if err = os.Rename(tmp, dst); err == nil {
				return syncDir(dir)
			}
			if errors.Is(err, fs.ErrNotExist) {
				continue // the directory was pruned just now: build it again
			}
			return err
		}
		build := filepath.Join(stage, "d")
		inner := filepath.Join(append([]string{build}, missing...)...)
		if err = os.MkdirAll(inner, 0o755); err != nil {
			return err
		}
		if err = os.Rename(tmp, filepath.Join(inner, filepath.Base(dst))); err != nil {
			return err
		}
		for q := inner; q != stage; q = filepath.Dir(q) {
			syncDir(q) // the new directories' entries, durable before they appear
		}
		err = os.Rename(filepath.Join(build, missing[0]), filepath.Join(dir, missing[0]))
		if err == nil {
			return syncDir(dir)
		}
		// someone else created that directory (with content) meanwhile: take the file back, go deeper
		if rerr := os.Rename(filepath.Join(inner, filepath.Base(dst)), tmp); rerr != nil {
			return rerr
		}
		os.RemoveAll(build)
		if !errors.Is(err, fs.ErrExist) && !errors.Is(err, syscall.ENOTEMPTY) && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return err
}

// stagingName is the root's directory of in-flight writes; List and Walk skip it.
const stagingName = tmpPrefix + "staging"

// stageDir makes a private directory for one write.
func (d *Driver) stageDir() (string, error) {
	base := filepath.Join(d.root, stagingName)
	dir, err := os.MkdirTemp(base, tmpPrefix)
	if errors.Is(err, fs.ErrNotExist) {
		if err = os.MkdirAll(base, 0o755); err == nil {
			dir, err = os.MkdirTemp(base, tmpPrefix)
		}
	}
	return dir, err
}

// copyBufs turn a body into large writes: fewer syscalls than io.Copy's 32 KiB.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 1<<20); return &b }}

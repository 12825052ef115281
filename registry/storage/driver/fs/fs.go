// Package fs is the filesystem storage driver: one file per path under a root
// directory. Whole-file writes go to a temporary file in the destination's
// directory, are fsynced and then renamed over the destination (and the directory
// fsynced), so a crash at any moment leaves either the old or the new file, never
// a part of one.
package fs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/mlos-foundation/axon/registry/storage/driver"
)

// tmpPrefix names in-flight temporary files; driver.CheckPath refuses it for callers.
const tmpPrefix = driver.Reserved + "tmp-"

// Driver stores files under Root.
type Driver struct {
	root string
}

var _ driver.Driver = (*Driver)(nil)

// New opens (creating if needed) a filesystem store rooted at root.
func New(root string) (*Driver, error) {
	if root == "" {
		return nil, errors.New("filesystem storage: empty root directory")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("filesystem storage %s: %w", root, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("filesystem storage: %w", err)
	}
	return &Driver{root: abs}, nil
}

// Name implements driver.Driver.
func (d *Driver) Name() string { return "filesystem" }

// Root is the directory the driver stores under.
func (d *Driver) Root() string { return d.root }

func (d *Driver) full(p string) string {
	if p == "" {
		return d.root
	}
	return filepath.Join(d.root, filepath.FromSlash(p))
}

// wrap turns OS errors into driver errors, keeping the storage path (not the
// on-disk path) in the message.
func wrap(op, p string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, driver.ErrNotFound) || isNotDir(err) {
		return fmt.Errorf("%s %s: %w", op, p, driver.ErrNotFound)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("%s %s: %w", op, p, err)
}

// GetContent implements driver.Driver.
func (d *Driver) GetContent(ctx context.Context, p string) ([]byte, error) {
	if err := driver.Begin(ctx, p); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(d.full(p))
	if err != nil {
		if isDirErr(err) {
			err = driver.ErrNotFound
		}
		return nil, wrap("read", p, err)
	}
	return b, nil
}

// PutContent implements driver.Driver.
func (d *Driver) PutContent(ctx context.Context, p string, content []byte) error {
	_, err := d.writeFile(ctx, p, func(f *os.File) (int64, error) {
		n, err := f.Write(content)
		return int64(n), err
	})
	return err
}

// createTemp creates a new temporary file in dir, creating dir first. A
// concurrent Delete may prune the freshly created dir, hence the retries.
func (d *Driver) createTemp(dir string) (*os.File, error) {
	var err error
	for range 5 {
		if err = d.mkdirs(dir); err != nil {
			continue
		}
		var f *os.File
		f, err = os.OpenFile(filepath.Join(dir, tmpPrefix+randHex()), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
	}
	return nil, err
}

func randHex() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// syncDir makes a rename or create in dir durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func isDirErr(err error) bool { return errors.Is(err, syscall.EISDIR) }

// Reader implements driver.Driver.
func (d *Driver) Reader(ctx context.Context, p string, offset int64) (io.ReadCloser, error) {
	if err := driver.CheckPath(p); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.Open(d.full(p))
	if err != nil {
		return nil, wrap("read", p, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, wrap("read", p, err)
	}
	if fi.IsDir() {
		f.Close()
		return nil, wrap("read", p, driver.ErrNotFound)
	}
	if offset < 0 || offset > fi.Size() {
		f.Close()
		return nil, fmt.Errorf("read %s at %d (size %d): %w", p, offset, fi.Size(), driver.ErrInvalidOffset)
	}
	if offset > 0 {
		if _, err := f.Seek(offset, io.SeekStart); err != nil {
			f.Close()
			return nil, wrap("read", p, err)
		}
	}
	return f, nil
}

// Stat implements driver.Driver.
func (d *Driver) Stat(ctx context.Context, p string) (driver.FileInfo, error) {
	if err := driver.Begin(ctx, p); err != nil {
		return driver.FileInfo{}, err
	}
	fi, err := os.Stat(d.full(p))
	if err != nil {
		return driver.FileInfo{}, wrap("stat", p, err)
	}
	info := driver.FileInfo{Path: p, ModTime: fi.ModTime(), IsDir: fi.IsDir()}
	if !fi.IsDir() {
		info.Size = fi.Size()
	}
	return info, nil
}

// List implements driver.Driver.
func (d *Driver) List(ctx context.Context, p string) ([]string, error) {
	if err := driver.BeginDir(ctx, p); err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(d.full(p))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || isNotDir(err) {
			err = driver.ErrNotFound
		}
		return nil, wrap("list", p, err)
	}
	out := make([]string, 0, len(ents))
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), tmpPrefix) {
			continue
		}
		out = append(out, join(p, e.Name()))
	}
	sort.Strings(out)
	return out, nil
}

func isNotDir(err error) bool { return errors.Is(err, syscall.ENOTDIR) }

func join(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

// Move implements driver.Driver.
func (d *Driver) Move(ctx context.Context, src, dst string) error {
	if err := driver.Begin(ctx, src, dst); err != nil {
		return err
	}
	from, to := d.full(src), d.full(dst)
	// Durable data before the rename makes it visible: a crash after the rename
	// must not expose a file whose blocks never reached the disk.
	if err := syncFile(from); err != nil {
		return wrap("move", src, err)
	}
	var err error
	for range 5 {
		if err = d.mkdirs(filepath.Dir(to)); err != nil {
			continue
		}
		if err = os.Rename(from, to); err == nil || !errors.Is(err, fs.ErrNotExist) {
			break
		}
		if _, serr := os.Stat(from); serr != nil {
			break // src vanished: report not found, no retry
		}
	}
	if err != nil {
		return wrap("move "+src+" to", dst, err)
	}
	if err := syncDir(filepath.Dir(to)); err != nil {
		return wrap("move", dst, err)
	}
	if filepath.Dir(from) != filepath.Dir(to) {
		syncDir(filepath.Dir(from))
		d.pruneParents(filepath.Dir(from)) // as on S3, where an emptied prefix is gone
	}
	return nil
}

func syncFile(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.IsDir() {
		return err
	}
	return f.Sync()
}

// Delete implements driver.Driver.
func (d *Driver) Delete(ctx context.Context, p string) error {
	if err := driver.Begin(ctx, p); err != nil {
		return err
	}
	full := d.full(p)
	if _, err := os.Lstat(full); err != nil {
		return wrap("delete", p, err)
	}
	if err := os.RemoveAll(full); err != nil {
		return wrap("delete", p, err)
	}
	d.pruneParents(filepath.Dir(full))
	return nil
}

// pruneParents removes directories left empty, up to the root, so that an empty
// directory is never listed (S3 has no empty directories either). os.Remove
// refuses non-empty directories, so a concurrent writer's files are safe.
func (d *Driver) pruneParents(dir string) {
	for dir != d.root && strings.HasPrefix(dir, d.root+string(filepath.Separator)) {
		if os.Remove(dir) != nil {
			return
		}
		dir = filepath.Dir(dir)
	}
}

// mkdirs is os.MkdirAll that also fsyncs the parent of every directory it
// creates: a file made durable in a new directory must not vanish with the
// directory's own entry after a power loss.
func (d *Driver) mkdirs(dir string) error {
	if fi, err := os.Stat(dir); err == nil {
		if !fi.IsDir() {
			return &fs.PathError{Op: "mkdir", Path: dir, Err: syscall.ENOTDIR}
		}
		return nil
	}
	parent := filepath.Dir(dir)
	if dir == d.root || !strings.HasPrefix(dir, d.root+string(filepath.Separator)) {
		return os.MkdirAll(dir, 0o755)
	}
	if err := d.mkdirs(parent); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return syncDir(parent)
}

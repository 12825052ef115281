package fs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/mlos-foundation/axon/registry/storage/driver"
)

var _ driver.Conditional = (*Driver)(nil)

// version of a file's content: its SHA-256 (callers put a nonce in what they
// write, so equal content means the same write).
func version(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// lockedDir runs fn with an exclusive flock on p's directory, the one lock that
// every process sharing the root sees.
// With create false, a missing directory is a failed precondition (the file
// is not there either), and no directory is made.
func (d *Driver) lockedDir(ctx context.Context, p string, create bool, fn func() error) error {
	if err := driver.Begin(ctx, p); err != nil {
		return err
	}
	dir := filepath.Dir(d.full(p))
	for range 5 {
		if !create {
			if _, err := os.Stat(dir); err != nil {
				return fmt.Errorf("replace %s: gone: %w", p, driver.ErrPrecondition)
			}
		} else if err := d.mkdirs(dir); err != nil {
			return wrap("lock", p, err)
		}
		f, err := os.Open(dir)
		if err != nil {
			continue // pruned meanwhile
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			f.Close()
			return wrap("lock", p, err)
		}
		// the directory may have been pruned (and recreated) while we waited
		if _, err := os.Stat(dir); err != nil {
			f.Close()
			continue
		}
		err = fn()
		f.Close() // releases the lock
		return err
	}
	return fmt.Errorf("lock %s: directory keeps vanishing", p)
}

// PutIfAbsent implements driver.Conditional.
func (d *Driver) PutIfAbsent(ctx context.Context, p string, content []byte) (string, error) {
	err := d.lockedDir(ctx, p, true, func() error {
		if _, err := os.Lstat(d.full(p)); err == nil {
			return fmt.Errorf("create %s: exists: %w", p, driver.ErrPrecondition)
		}
		return d.PutContent(ctx, p, content)
	})
	if err != nil {
		return "", err
	}
	return version(content), nil
}

// PutIfMatch implements driver.Conditional.
func (d *Driver) PutIfMatch(ctx context.Context, p string, content []byte, ver string) (string, error) {
	err := d.lockedDir(ctx, p, false, func() error {
		b, err := os.ReadFile(d.full(p))
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("replace %s: gone: %w", p, driver.ErrPrecondition)
		}
		if err != nil {
			return wrap("replace", p, err)
		}
		if version(b) != ver {
			return fmt.Errorf("replace %s: changed: %w", p, driver.ErrPrecondition)
		}
		return d.PutContent(ctx, p, content)
	})
	if err != nil {
		return "", err
	}
	return version(content), nil
}

// GetVersioned implements driver.Conditional.
func (d *Driver) GetVersioned(ctx context.Context, p string) ([]byte, string, error) {
	b, err := d.GetContent(ctx, p)
	if err != nil {
		return nil, "", err
	}
	return b, version(b), nil
}

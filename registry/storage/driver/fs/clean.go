package fs

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/mlos-foundation/axon/registry/storage/driver"
)

var _ driver.Cleaner = (*Driver)(nil)

// Clean implements driver.Cleaner: it removes temporary files that a crash left
// behind (a live write renews its file's mtime with every write).
func (d *Driver) Clean(ctx context.Context, olderThan time.Duration) (int, error) {
	cutoff := time.Now().Add(-olderThan)
	n := 0
	err := filepath.WalkDir(d.root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if e.IsDir() || (!strings.HasPrefix(e.Name(), tmpPrefix) && !strings.Contains(p, stagingName)) {
			return nil
		}
		info, err := e.Info()
		if err != nil {
			return nil
		}
		// a live writer holds a shared lock on its file: what we can lock
		// exclusively was left by a process that died (kill -9, power loss)
		if info.ModTime().After(cutoff) && !abandoned(p) {
			return nil
		}
		if os.Remove(p) == nil {
			n++
		}
		return nil
	})
	if err != nil {
		return n, wrap("clean", "", err)
	}
	// the emptied per-write directories of the staging area
	if ents, err := os.ReadDir(filepath.Join(d.root, stagingName)); err == nil {
		for _, e := range ents {
			sub := filepath.Join(d.root, stagingName, e.Name())
			info, err := e.Info()
			if err != nil || !e.IsDir() || info.ModTime().After(cutoff) || hasFiles(sub) {
				continue
			}
			os.RemoveAll(sub) // directories built for a write that died
		}
	}
	return n, nil
}

func hasFiles(dir string) bool {
	found := false
	filepath.WalkDir(dir, func(_ string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			found = true
			return filepath.SkipAll
		}
		return nil
	})
	return found
}

// abandoned reports whether no process holds the file's writer lock.
func abandoned(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil
}

package fs

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
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
		if e.IsDir() || !strings.HasPrefix(e.Name(), tmpPrefix) {
			return nil
		}
		info, err := e.Info()
		if err != nil || info.ModTime().After(cutoff) {
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
	return n, nil
}

package fs

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"sort"
	"strings"

	"github.com/mlos-foundation/axon/registry/storage/driver"
)

// Walk implements driver.Driver. Files come in the byte order of their full
// paths (the order an S3 listing gives), so both drivers walk alike: within a
// directory, a subdirectory "b" sorts as "b/", after a file "b-x".
func (d *Driver) Walk(ctx context.Context, p string, fn func(driver.FileInfo) error) error {
	if err := driver.BeginDir(ctx, p); err != nil {
		return err
	}
	fi, err := os.Stat(d.full(p))
	if err != nil {
		return wrap("walk", p, err)
	}
	if !fi.IsDir() {
		err := fn(driver.FileInfo{Path: p, Size: fi.Size(), ModTime: fi.ModTime()})
		if errors.Is(err, driver.ErrSkipDir) {
			return nil
		}
		return err
	}
	err = d.walkDir(ctx, p, fn)
	if errors.Is(err, driver.ErrSkipDir) {
		return nil
	}
	return err
}

// walkDir returns ErrSkipDir when fn asked to skip the rest of dir.
func (d *Driver) walkDir(ctx context.Context, dir string, fn func(driver.FileInfo) error) error {
	ents, err := os.ReadDir(d.full(dir))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // removed while walking
		}
		return wrap("walk", dir, err)
	}
	key := func(e fs.DirEntry) string {
		if e.IsDir() {
			return e.Name() + "/"
		}
		return e.Name()
	}
	sort.Slice(ents, func(i, j int) bool { return key(ents[i]) < key(ents[j]) })
	for _, e := range ents {
		if err := ctx.Err(); err != nil {
			return err
		}
		if strings.HasPrefix(e.Name(), tmpPrefix) {
			continue
		}
		p := join(dir, e.Name())
		if e.IsDir() {
			if err := d.walkDir(ctx, p, fn); err != nil && !errors.Is(err, driver.ErrSkipDir) {
				return err
			}
			continue
		}
		info, err := e.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return wrap("walk", p, err)
		}
		if !info.Mode().IsRegular() {
			continue
		}
		if err := fn(driver.FileInfo{Path: p, Size: info.Size(), ModTime: info.ModTime()}); err != nil {
			return err
		}
	}
	return nil
}

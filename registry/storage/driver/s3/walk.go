package s3

import (
	"context"
	"errors"
	"strings"

	"github.com/minio/minio-go/v7"

	"github.com/mlos-foundation/axon/registry/storage/driver"
)

// Walk implements driver.Driver with one flat listing, in key order. The parts
// of a staged file are reported once, as that file with their summed size.
func (d *Driver) Walk(ctx context.Context, p string, fn func(driver.FileInfo) error) error {
	if err := driver.BeginDir(ctx, p); err != nil {
		return err
	}
	var (
		found   bool
		skip    string // a directory ("dir/") whose remaining files are skipped
		pending *driver.FileInfo
		stop    error // ends the walk; errStop for a clean end
	)
	errStop := errors.New("stop")
	visit := func(fi driver.FileInfo) {
		if skip != "" && strings.HasPrefix(fi.Path, skip) {
			return
		}
		err := fn(fi)
		if errors.Is(err, driver.ErrSkipDir) {
			dir := ""
			if i := strings.LastIndexByte(fi.Path, '/'); i >= 0 {
				dir = fi.Path[:i]
			}
			if dir == p {
				stop = errStop
				return
			}
			skip = dir + "/"
			return
		}
		if err != nil {
			stop = err
		}
	}
	staged := strings.TrimSuffix(partsSuffix, "/") + "/"
	err := d.list(ctx, d.dirKey(p), true, func(o minio.ObjectInfo) bool {
		if err := ctx.Err(); err != nil {
			stop = err
			return false
		}
		found = true
		path := d.path(o.Key)
		fi := driver.FileInfo{Path: path, Size: o.Size, ModTime: o.LastModified}
		if i := strings.Index(path, staged); i >= 0 {
			fi.Path = path[:i]
		}
		if pending != nil && pending.Path != fi.Path {
			visit(*pending)
			pending = nil
			if stop != nil {
				return false
			}
		}
		if fi.Path != path { // a part: sum until the next file
			if pending == nil {
				pending = &fi
			} else {
				pending.Size += fi.Size
				if fi.ModTime.After(pending.ModTime) {
					pending.ModTime = fi.ModTime
				}
			}
			return true
		}
		visit(fi)
		return stop == nil
	})
	if err == nil && stop == nil && pending != nil {
		visit(*pending)
	}
	switch {
	case err != nil:
		return wrap(ctx, "walk", p, err)
	case errors.Is(stop, errStop):
		return nil
	case stop != nil:
		return stop
	case found || p == "":
		return nil
	}
	// Not a directory: maybe a file.
	fi, serr := d.Stat(ctx, p)
	if serr != nil {
		return wrap(ctx, "walk", p, serr)
	}
	if err := fn(fi); err != nil && !errors.Is(err, driver.ErrSkipDir) {
		return err
	}
	return nil
}

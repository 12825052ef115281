package s3

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/mlos-foundation/axon/registry/storage/driver"
)

var noOwner = false

// list calls fn for each listed key (and, unless recursive, each common
// prefix, with a trailing '/') until fn returns false.
func (d *Driver) list(ctx context.Context, prefix string, recursive bool, fn func(minio.ObjectInfo) bool) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends the listing goroutines when fn stops early
	for obj := range d.client.ListObjectsIter(ctx, d.bucket, minio.ListObjectsOptions{
		Prefix: prefix, Recursive: recursive, MaxKeys: 1000, FetchOwner: &noOwner,
	}) {
		if obj.Err != nil {
			return obj.Err
		}
		if !fn(obj) {
			return nil
		}
	}
	return ctx.Err()
}

// part is one Writer session's object of a staged file.
type part struct {
	key  string
	size int64
	info minio.ObjectInfo
}

// parts lists the part objects of the staged file p, in order.
func (d *Driver) parts(ctx context.Context, p string) ([]part, error) {
	var out []part
	err := d.list(ctx, d.partsKey(p), true, func(o minio.ObjectInfo) bool {
		out = append(out, part{key: o.Key, size: o.Size, info: o})
		return true
	})
	return out, err
}

// GetContent implements driver.Driver.
func (d *Driver) GetContent(ctx context.Context, p string) ([]byte, error) {
	r, err := d.Reader(ctx, p, 0)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, wrap(ctx, "read", p, err)
	}
	return b, nil
}

// PutContent implements driver.Driver. One PutObject: S3 makes it visible whole or not at all.
func (d *Driver) PutContent(ctx context.Context, p string, content []byte) error {
	if err := driver.Begin(ctx, p); err != nil {
		return err
	}
	return wrap(ctx, "write", p, d.putBytes(ctx, d.key(p), content))
}

// putBytes writes one whole object with its Content-MD5. The checksum is what
// keeps a request cut short (a killed process) from storing a truncated
// object: versitygw v1.8.0 otherwise keeps whatever part of the body arrived.
func (d *Driver) putBytes(ctx context.Context, key string, b []byte) error {
	sum := md5.Sum(b)
	return d.putReader(ctx, key, bytes.NewReader(b), int64(len(b)), base64.StdEncoding.EncodeToString(sum[:]))
}

func (d *Driver) putReader(ctx context.Context, key string, r io.Reader, size int64, md5Base64 string) error {
	_, err := d.core.PutObject(ctx, d.bucket, key, r, size, md5Base64, "", putOptions())
	if isDirRace(err) {
		if s, ok := r.(io.Seeker); ok {
			for i := range 5 {
				time.Sleep(time.Duration(10*(i+1)) * time.Millisecond)
				if _, serr := s.Seek(0, io.SeekStart); serr != nil {
					break
				}
				if _, err = d.core.PutObject(ctx, d.bucket, key, r, size, md5Base64, "", putOptions()); !isDirRace(err) {
					break
				}
			}
		}
	}
	return err
}

// isDirRace: versitygw's posix backend (v1.8.0) answers a PUT "Existing Object
// is a directory" when a concurrent delete prunes the key's parent directory
// while the PUT creates it; the same PUT a moment later succeeds. Keys here
// never name a directory, so the answer is always that race.
func isDirRace(err error) bool {
	if err == nil {
		return false
	}
	e := minio.ToErrorResponse(err)
	return e.Code == "ExistingObjectIsDirectory" || strings.Contains(e.Message, "is a directory")
}

func putOptions() minio.PutObjectOptions {
	return minio.PutObjectOptions{ContentType: "application/octet-stream", DisableContentSha256: true}
}

// Reader implements driver.Driver.
func (d *Driver) Reader(ctx context.Context, p string, offset int64) (io.ReadCloser, error) {
	if err := driver.Begin(ctx, p); err != nil {
		return nil, err
	}
	if offset < 0 {
		return nil, fmt.Errorf("read %s at %d: %w", p, offset, driver.ErrInvalidOffset)
	}
	r, err := d.getObject(ctx, d.key(p), offset)
	if err == nil {
		return r, nil
	}
	if isInvalidRange(err) {
		// Past the end, or exactly at the end (S3 refuses an empty range).
		info, serr := d.client.StatObject(ctx, d.bucket, d.key(p), minio.StatObjectOptions{})
		if serr == nil && info.Size == offset {
			return io.NopCloser(strings.NewReader("")), nil
		}
		return nil, fmt.Errorf("read %s at %d: %w", p, offset, driver.ErrInvalidOffset)
	}
	if !isNotFound(err) {
		return nil, wrap(ctx, "read", p, err)
	}
	parts, perr := d.parts(ctx, p)
	if perr != nil {
		return nil, wrap(ctx, "read", p, perr)
	}
	if len(parts) == 0 {
		return nil, wrap(ctx, "read", p, driver.ErrNotFound)
	}
	return d.partsReader(ctx, p, parts, offset)
}

// getObject opens key from offset with a range GET.
func (d *Driver) getObject(ctx context.Context, key string, offset int64) (io.ReadCloser, error) {
	opts := minio.GetObjectOptions{}
	if offset > 0 {
		if err := opts.SetRange(offset, 0); err != nil {
			return nil, err
		}
	}
	r, _, _, err := d.core.GetObject(ctx, d.bucket, key, opts)
	return r, err
}

func isInvalidRange(err error) bool {
	e := minio.ToErrorResponse(err)
	return e.Code == "InvalidRange" || e.StatusCode == http.StatusRequestedRangeNotSatisfiable
}

// partsReader reads a staged file: its parts one after the other, from offset.
func (d *Driver) partsReader(ctx context.Context, p string, parts []part, offset int64) (io.ReadCloser, error) {
	var total int64
	for _, pt := range parts {
		total += pt.size
	}
	if offset > total {
		return nil, fmt.Errorf("read %s at %d (size %d): %w", p, offset, total, driver.ErrInvalidOffset)
	}
	for len(parts) > 0 && offset >= parts[0].size {
		offset -= parts[0].size
		parts = parts[1:]
	}
	return &chainReader{ctx: ctx, d: d, parts: parts, offset: offset}, nil
}

type chainReader struct {
	ctx    context.Context
	d      *Driver
	parts  []part
	offset int64 // into parts[0]
	cur    io.ReadCloser
}

func (c *chainReader) Read(b []byte) (int, error) {
	for {
		if c.cur == nil {
			if len(c.parts) == 0 {
				return 0, io.EOF
			}
			r, err := c.d.getObject(c.ctx, c.parts[0].key, c.offset)
			if err != nil {
				return 0, err
			}
			c.cur, c.offset, c.parts = r, 0, c.parts[1:]
		}
		n, err := c.cur.Read(b)
		if err == io.EOF {
			c.cur.Close()
			c.cur = nil
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
}

func (c *chainReader) Close() error {
	if c.cur != nil {
		return c.cur.Close()
	}
	return nil
}

// Stat implements driver.Driver: an object, else a directory (a prefix with
// keys under it), else a staged file (part objects).
func (d *Driver) Stat(ctx context.Context, p string) (driver.FileInfo, error) {
	if err := driver.Begin(ctx, p); err != nil {
		return driver.FileInfo{}, err
	}
	info, err := d.client.StatObject(ctx, d.bucket, d.key(p), minio.StatObjectOptions{})
	if err == nil {
		return driver.FileInfo{Path: p, Size: info.Size, ModTime: info.LastModified}, nil
	}
	if !isNotFound(err) {
		return driver.FileInfo{}, wrap(ctx, "stat", p, err)
	}
	// One listing finds both "p/" and "p.axon-parts/", which sort just before it.
	var dir, staged bool
	key := d.key(p)
	err = d.list(ctx, key, false, func(o minio.ObjectInfo) bool {
		switch {
		case o.Key == key+"/":
			dir = true
		case o.Key == d.partsKey(p):
			staged = true
		}
		return o.Key < key+"/"
	})
	switch {
	case err != nil:
		return driver.FileInfo{}, wrap(ctx, "stat", p, err)
	case dir:
		return driver.FileInfo{Path: p, IsDir: true}, nil
	case staged:
		parts, err := d.parts(ctx, p)
		if err != nil {
			return driver.FileInfo{}, wrap(ctx, "stat", p, err)
		}
		fi := driver.FileInfo{Path: p}
		for _, pt := range parts {
			fi.Size += pt.size
			if pt.info.LastModified.After(fi.ModTime) {
				fi.ModTime = pt.info.LastModified
			}
		}
		if len(parts) > 0 {
			return fi, nil
		}
	}
	return driver.FileInfo{}, wrap(ctx, "stat", p, driver.ErrNotFound)
}

// List implements driver.Driver.
func (d *Driver) List(ctx context.Context, p string) ([]string, error) {
	if err := driver.BeginDir(ctx, p); err != nil {
		return nil, err
	}
	var out []string
	err := d.list(ctx, d.dirKey(p), false, func(o minio.ObjectInfo) bool {
		name := strings.TrimSuffix(d.path(o.Key), "/")
		name = strings.TrimSuffix(name, strings.TrimSuffix(partsSuffix, "/")) // a staged file
		out = append(out, name)
		return true
	})
	if err != nil {
		return nil, wrap(ctx, "list", p, err)
	}
	if len(out) == 0 && p != "" {
		return nil, wrap(ctx, "list", p, driver.ErrNotFound)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// Delete implements driver.Driver: the object p, everything under "p/" and the
// parts of a staged p; never a sibling such as "p2" that merely shares the prefix.
func (d *Driver) Delete(ctx context.Context, p string) error {
	if err := driver.Begin(ctx, p); err != nil {
		return err
	}
	found := false
	_, err := d.client.StatObject(ctx, d.bucket, d.key(p), minio.StatObjectOptions{})
	switch {
	case err == nil:
		found = true
		if err := d.client.RemoveObject(ctx, d.bucket, d.key(p), minio.RemoveObjectOptions{}); err != nil {
			return wrap(ctx, "delete", p, err)
		}
	case !isNotFound(err):
		return wrap(ctx, "delete", p, err)
	}
	for _, prefix := range []string{d.key(p) + "/", d.partsKey(p)} {
		n, err := d.removePrefix(ctx, prefix)
		if err != nil {
			return wrap(ctx, "delete", p, err)
		}
		found = found || n > 0
	}
	if !found {
		return wrap(ctx, "delete", p, driver.ErrNotFound)
	}
	return nil
}

// removePrefix deletes every object under prefix with batched DeleteObjects.
func (d *Driver) removePrefix(ctx context.Context, prefix string) (int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	objs := d.client.ListObjectsIter(ctx, d.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true, FetchOwner: &noOwner})
	var listErr error
	n := 0
	keys := func(yield func(minio.ObjectInfo) bool) {
		for o := range objs {
			if o.Err != nil {
				listErr = o.Err
				return
			}
			n++
			if !yield(minio.ObjectInfo{Key: o.Key}) {
				return
			}
		}
	}
	results, err := d.client.RemoveObjectsWithIter(ctx, d.bucket, keys, minio.RemoveObjectsOptions{})
	if err != nil {
		return 0, err
	}
	for r := range results {
		if r.Err != nil && !isNotFound(r.Err) {
			return n, fmt.Errorf("remove %s: %w", d.path(r.ObjectName), r.Err)
		}
	}
	if listErr != nil {
		return n, listErr
	}
	return n, ctx.Err()
}

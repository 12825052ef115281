package s3

import (
	"context"
	"fmt"
	"io"

	"github.com/minio/minio-go/v7"

	"github.com/mlos-foundation/axon/registry/storage/driver"
)

// S3 limits: a single CopyObject copies at most 5 GiB, and in a multipart
// (compose) upload every part but the last must be at least 5 MiB.
const (
	maxCopy     = 5 << 30
	minComposed = 5 << 20
)

// Move implements driver.Driver: the destination object is written whole by
// one server-side operation (copy, compose or a streamed multipart upload), so
// its readers see the old or the new object; then the source goes.
func (d *Driver) Move(ctx context.Context, src, dst string) error {
	if err := driver.Begin(ctx, src, dst); err != nil {
		return err
	}
	parts, err := d.parts(ctx, src)
	if err != nil {
		return wrap(ctx, "move", src, err)
	}
	if len(parts) == 0 {
		info, err := d.client.StatObject(ctx, d.bucket, d.key(src), minio.StatObjectOptions{})
		if err != nil {
			return wrap(ctx, "move", src, err)
		}
		if err := d.copyObject(ctx, d.key(src), info.Size, d.key(dst)); err != nil {
			return wrap(ctx, "move "+src+" to", dst, err)
		}
		return wrap(ctx, "move", src, d.client.RemoveObject(ctx, d.bucket, d.key(src), minio.RemoveObjectOptions{}))
	}
	if err := d.join(ctx, parts, d.key(dst)); err != nil {
		return wrap(ctx, "move "+src+" to", dst, err)
	}
	return wrap(ctx, "move", src, d.removeParts(ctx, parts))
}

func (d *Driver) copyObject(ctx context.Context, srcKey string, size int64, dstKey string) error {
	from := minio.CopySrcOptions{Bucket: d.bucket, Object: srcKey}
	to := minio.CopyDestOptions{Bucket: d.bucket, Object: dstKey}
	if size <= maxCopy {
		_, err := d.client.CopyObject(ctx, to, from)
		return err
	}
	_, err := d.client.ComposeObject(ctx, to, from) // splits into ranged part copies
	return err
}

// join writes the concatenation of parts to dstKey: server-side when S3's part
// size rules allow, else by streaming the parts through this process.
func (d *Driver) join(ctx context.Context, parts []part, dstKey string) error {
	if len(parts) == 1 {
		return d.copyObject(ctx, parts[0].key, parts[0].size, dstKey)
	}
	composable := true
	for _, pt := range parts[:len(parts)-1] {
		composable = composable && pt.size >= minComposed
	}
	if composable {
		srcs := make([]minio.CopySrcOptions, len(parts))
		for i, pt := range parts {
			srcs[i] = minio.CopySrcOptions{Bucket: d.bucket, Object: pt.key}
		}
		_, err := d.client.ComposeObject(ctx, minio.CopyDestOptions{Bucket: d.bucket, Object: dstKey}, srcs...)
		if err == nil || ctx.Err() != nil || minio.ToErrorResponse(err).Code != "NotImplemented" {
			return err
		}
	}
	r := &chainReader{ctx: ctx, d: d, parts: parts}
	defer r.Close()
	w := d.newObjectWriter(ctx, dstKey)
	if _, err := io.Copy(w, r); err != nil {
		w.abort()
		return err
	}
	return w.finish()
}

// removeParts deletes part objects already listed, saving a listing.
func (d *Driver) removeParts(ctx context.Context, parts []part) error {
	if len(parts) == 1 {
		return d.client.RemoveObject(ctx, d.bucket, parts[0].key, minio.RemoveObjectOptions{})
	}
	keys := func(yield func(minio.ObjectInfo) bool) {
		for _, pt := range parts {
			if !yield(minio.ObjectInfo{Key: pt.key}) {
				return
			}
		}
	}
	results, err := d.client.RemoveObjectsWithIter(ctx, d.bucket, keys, minio.RemoveObjectsOptions{})
	if err != nil {
		return err
	}
	for r := range results {
		if r.Err != nil && !isNotFound(r.Err) {
			return fmt.Errorf("remove %s: %w", d.path(r.ObjectName), r.Err)
		}
	}
	return nil
}

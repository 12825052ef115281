package s3

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/mlos-foundation/axon/registry/storage/driver"
)

var _ driver.Conditional = (*Driver)(nil)

// PutIfAbsent implements driver.Conditional with S3's conditional write
// (PutObject with If-None-Match: *), which AWS S3, MinIO and versitygw honour.
func (d *Driver) PutIfAbsent(ctx context.Context, p string, content []byte) (string, error) {
	opts := putOptions()
	opts.SetMatchETagExcept("*")
	return d.condPut(ctx, "create", p, content, opts)
}

// PutIfMatch implements driver.Conditional (PutObject with If-Match: ETag).
func (d *Driver) PutIfMatch(ctx context.Context, p string, content []byte, version string) (string, error) {
	opts := putOptions()
	opts.SetMatchETag(version)
	return d.condPut(ctx, "replace", p, content, opts)
}

func (d *Driver) condPut(ctx context.Context, op, p string, content []byte, opts minio.PutObjectOptions) (string, error) {
	if err := driver.Begin(ctx, p); err != nil {
		return "", err
	}
	sum := md5.Sum(content)
	info, err := d.core.PutObject(ctx, d.bucket, d.key(p), bytes.NewReader(content), int64(len(content)),
		base64.StdEncoding.EncodeToString(sum[:]), "", opts)
	for i := 0; i < 5 && isDirRace(err); i++ {
		time.Sleep(time.Duration(10*(i+1)) * time.Millisecond)
		info, err = d.core.PutObject(ctx, d.bucket, d.key(p), bytes.NewReader(content), int64(len(content)),
			base64.StdEncoding.EncodeToString(sum[:]), "", opts)
	}
	if err != nil {
		// an If-Match write to a key that vanished answers 404 on some servers
		if isPrecondition(err) || (op == "replace" && isNotFound(err)) {
			return "", fmt.Errorf("%s %s: %w", op, p, driver.ErrPrecondition)
		}
		return "", wrap(ctx, op, p, err)
	}
	return info.ETag, nil
}

func isPrecondition(err error) bool {
	e := minio.ToErrorResponse(err)
	// 409 ConditionalRequestConflict: a concurrent conditional write won
	return e.Code == "PreconditionFailed" || e.StatusCode == http.StatusPreconditionFailed ||
		e.Code == "ConditionalRequestConflict" || e.StatusCode == http.StatusConflict
}

// GetVersioned implements driver.Conditional.
func (d *Driver) GetVersioned(ctx context.Context, p string) ([]byte, string, error) {
	if err := driver.Begin(ctx, p); err != nil {
		return nil, "", err
	}
	r, info, _, err := d.core.GetObject(ctx, d.bucket, d.key(p), minio.GetObjectOptions{})
	if err != nil {
		return nil, "", wrap(ctx, "read", p, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, "", wrap(ctx, "read", p, err)
	}
	return b, info.ETag, nil
}

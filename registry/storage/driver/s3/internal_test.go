package s3

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/mlos-foundation/axon/internal/testutil"
	"github.com/mlos-foundation/axon/registry/storage/driver"
)

// cutReader fails after n bytes, as the body of a request whose process died.
type cutReader struct {
	r io.Reader
	n int
}

func (c *cutReader) Read(p []byte) (int, error) {
	if c.n <= 0 {
		return 0, errors.New("connection cut")
	}
	n, err := c.r.Read(p[:min(len(p), c.n)])
	c.n -= n
	return n, err
}

// A whole-object write cut one byte short must leave nothing behind: the
// Content-MD5 putBytes sends is what makes the server refuse it.
func TestCutPutLeavesNothing(t *testing.T) {
	srv := testutil.StartS3(t)
	d, err := New(Config{Endpoint: srv.Host, Region: "us-east-1", Bucket: srv.Bucket, PathStyle: true,
		Creds: credentials.NewStaticV4(srv.AccessKey, srv.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	data := bytes.Repeat([]byte("manifest"), 1<<17)
	sum := md5.Sum(data)
	err = d.putReader(ctx, d.key("cut/object"), &cutReader{bytes.NewReader(data), len(data) - 1}, int64(len(data)), base64.StdEncoding.EncodeToString(sum[:]))
	if err == nil {
		t.Fatal("a cut PutObject succeeded")
	}
	time.Sleep(300 * time.Millisecond) // the server may still be handling the cut request
	if _, err := d.Stat(ctx, "cut/object"); !errors.Is(err, driver.ErrNotFound) {
		t.Fatalf("after a cut PutObject, Stat = %v; want ErrNotFound (a truncated object is visible)", err)
	}
}

// An upload whose writer died mid-stream stays as an unfinished multipart
// upload; Clean aborts it once old enough, and leaves younger ones alone.
func TestClean(t *testing.T) {
	srv := testutil.StartS3(t)
	d, err := New(Config{Endpoint: srv.Host, Region: "us-east-1", Bucket: srv.Bucket, PathStyle: true, Prefix: "pre",
		Creds: credentials.NewStaticV4(srv.AccessKey, srv.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	w, err := d.Writer(ctx, "_uploads/dead/data", false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(make([]byte, smallPart+1)); err != nil { // starts a multipart upload
		t.Fatal(err)
	}
	// The writer is never closed, as if its process had been killed.
	if n, err := d.Clean(ctx, time.Hour); err != nil || n != 0 {
		t.Fatalf("Clean(1h) = %d, %v; want nothing removed", n, err)
	}
	if n, err := d.Clean(ctx, 0); err != nil || n != 1 {
		t.Fatalf("Clean(0) = %d, %v; want 1 upload aborted", n, err)
	}
	if n, err := d.Clean(ctx, 0); err != nil || n != 0 {
		t.Fatalf("second Clean(0) = %d, %v; want nothing left", n, err)
	}
}

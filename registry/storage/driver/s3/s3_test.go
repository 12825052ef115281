package s3_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/mlos-foundation/axon/internal/testutil"
	"github.com/mlos-foundation/axon/registry/storage/driver"
	"github.com/mlos-foundation/axon/registry/storage/driver/s3"
	"github.com/mlos-foundation/axon/registry/storage/driver/testsuite"
)

// TestSuite runs the driver suite against a real S3 server (versitygw); each
// case gets its own key prefix in one bucket.
func TestSuite(t *testing.T) {
	srv := testutil.StartS3(t)
	n := 0
	testsuite.Run(t, func(t *testing.T) driver.Driver {
		n++
		d, err := s3.New(s3.Config{
			Endpoint: srv.Host, Region: "us-east-1", Bucket: srv.Bucket, PathStyle: true,
			Prefix: fmt.Sprintf("case%d", n),
			Creds:  credentials.NewStaticV4(srv.AccessKey, srv.SecretKey, ""),
		})
		if err != nil {
			t.Fatal(err)
		}
		return d
	})
}

func TestFromURL(t *testing.T) {
	srv := testutil.StartS3(t)
	for _, kv := range srv.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	d, err := s3.FromURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := d.Check(ctx); err != nil {
		t.Fatal(err)
	}
	if err := d.PutContent(ctx, "x/y", []byte("hi")); err != nil {
		t.Fatal(err)
	}
	// With a prefix, the same bucket holds the data under it.
	dp, err := s3.FromURL(strings.Replace(srv.URL(), srv.Bucket, srv.Bucket+"/pre/fix", 1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dp.GetContent(ctx, "x/y"); err == nil {
		t.Fatal("prefixed driver sees an object outside its prefix")
	}
	if err := dp.PutContent(ctx, "x/y", []byte("prefixed")); err != nil {
		t.Fatal(err)
	}
	if b, err := d.GetContent(ctx, "pre/fix/x/y"); err != nil || string(b) != "prefixed" {
		t.Fatalf("object under the prefix: %q, %v", b, err)
	}

	t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong")
	bad, err := s3.FromURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	if err := bad.Check(ctx); err == nil {
		t.Fatal("Check with a wrong secret succeeded")
	}

	for _, u := range []string{"s3://", "http://bucket", "s3://b?endpoint=ftp://x", "s3://b/../x?endpoint=http://h:1"} {
		if _, err := s3.FromURL(u); err == nil {
			t.Errorf("FromURL(%q) accepted", u)
		}
	}
}

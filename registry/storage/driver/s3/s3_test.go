package s3_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/mlos-foundation/axon/internal/testutil"
	"github.com/mlos-foundation/axon/registry/storage/driver"
	"github.com/mlos-foundation/axon/registry/storage/driver/benchsuite"
	"github.com/mlos-foundation/axon/registry/storage/driver/s3"
	"github.com/mlos-foundation/axon/registry/storage/driver/testsuite"
)

// TestSuite runs the driver suite against a real S3 server (versitygw); each
// case gets its own key prefix in one bucket.
func TestSuite(t *testing.T) {
	newDriver := drivers(t)
	testsuite.Run(t, func(t *testing.T) driver.Driver { return newDriver(t) })
}

// BenchmarkSuite runs the driver benchmarks against a real S3 server
// (versitygw on loopback): go test -run '^$' -bench . ./registry/storage/driver/s3
func BenchmarkSuite(b *testing.B) { benchsuite.Run(b, drivers(b)) }

// TestBenchSuite runs every benchmark once, so that the suite keeps working on S3.
func TestBenchSuite(t *testing.T) {
	testutil.Tool(t, "versitygw") // skip here, not in the child, when it is missing
	benchsuite.Smoke(t, "BenchmarkSuite")
}

// drivers starts a real S3 server (versitygw) for tb and returns a factory of
// drivers over it, each under its own key prefix in the one bucket.
func drivers(tb testing.TB) func(testing.TB) driver.Driver {
	srv := testutil.StartS3(tb)
	n := 0
	return func(tb testing.TB) driver.Driver {
		n++
		d, err := s3.New(s3.Config{
			Endpoint: srv.Host, Region: "us-east-1", Bucket: srv.Bucket, PathStyle: true,
			Prefix: fmt.Sprintf("case%d", n),
			Creds:  credentials.NewStaticV4(srv.AccessKey, srv.SecretKey, ""),
		})
		if err != nil {
			tb.Fatal(err)
		}
		return d
	}
}

func TestFromURL(t *testing.T) {
	srv := testutil.StartS3(t)
	srv.Setenv(t)
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

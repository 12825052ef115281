package storage_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/mlos-foundation/axon/internal/testutil"
	"github.com/mlos-foundation/axon/registry/storage"
)

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	for _, loc := range []string{filepath.Join(dir, "plain"), "file://" + filepath.Join(dir, "url")} {
		d, err := storage.Open(loc)
		if err != nil {
			t.Fatalf("Open(%q): %v", loc, err)
		}
		if d.Name() != "filesystem" {
			t.Fatalf("Open(%q) gave %s", loc, d.Name())
		}
		if err := d.PutContent(context.Background(), "a/b", []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	for _, loc := range []string{"", "gs://bucket", "file://otherhost/x", "s3://"} {
		if _, err := storage.Open(loc); err == nil {
			t.Errorf("Open(%q) accepted", loc)
		}
	}
}

func TestOpenS3(t *testing.T) {
	srv := testutil.StartS3(t)
	srv.Setenv(t)
	d, err := storage.Open(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	if d.Name() != "s3" {
		t.Fatalf("Open(s3 URL) gave %s", d.Name())
	}
	if err := d.PutContent(context.Background(), "a/b", []byte("x")); err != nil {
		t.Fatal(err)
	}
}

package fs_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/mlos-foundation/axon/registry/storage/driver"
	"github.com/mlos-foundation/axon/registry/storage/driver/benchsuite"
	"github.com/mlos-foundation/axon/registry/storage/driver/fs"
	"github.com/mlos-foundation/axon/registry/storage/driver/testsuite"
)

func newDriver(tb testing.TB) driver.Driver {
	d, err := fs.New(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

func TestSuite(t *testing.T) {
	testsuite.Run(t, func(t *testing.T) driver.Driver { return newDriver(t) })
}

// BenchmarkSuite: go test -run '^$' -bench . ./registry/storage/driver/fs
func BenchmarkSuite(b *testing.B) { benchsuite.Run(b, newDriver) }

// TestBenchSuite runs every benchmark once, so that the suite keeps working.
func TestBenchSuite(t *testing.T) { benchsuite.Smoke(t, "BenchmarkSuite") }

// withFile gives a driver over a new root directory (and the directory) that
// holds one file, p, of content "x".
func withFile(t *testing.T, p string) (*fs.Driver, string) {
	t.Helper()
	root := t.TempDir()
	d, err := fs.New(root)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.PutContent(context.Background(), p, []byte("x")); err != nil {
		t.Fatal(err)
	}
	return d, root
}

// A crash can leave a temporary file behind; it must never show up as a file.
func TestLeftoverTempInvisible(t *testing.T) {
	d, root := withFile(t, "dir/file")
	ctx := context.Background()
	if err := os.WriteFile(filepath.Join(root, "dir", ".axon-tmp-deadbeef"), []byte("partial"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := d.List(ctx, "dir")
	if err != nil || len(got) != 1 || got[0] != "dir/file" {
		t.Fatalf("List = %q, %v", got, err)
	}
	var walked []string
	if err := d.Walk(ctx, "", func(fi driver.FileInfo) error { walked = append(walked, fi.Path); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(walked) != 1 || walked[0] != "dir/file" {
		t.Fatalf("Walk = %q", walked)
	}
}

func TestClean(t *testing.T) {
	d, root := withFile(t, "a/b/file")
	ctx := context.Background()
	stale := filepath.Join(root, "a", "b", ".axon-tmp-stale")
	fresh := filepath.Join(root, "a", ".axon-tmp-fresh")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * time.Hour)
	os.Chtimes(stale, old, old)
	// a live writer holds its temporary file locked; one killed (kill -9) does not
	live, err := os.Open(fresh)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	syscall.Flock(int(live.Fd()), syscall.LOCK_SH)
	killed := filepath.Join(root, "a", ".axon-tmp-killed")
	os.WriteFile(killed, []byte("partial"), 0o644)
	n, err := d.Clean(ctx, time.Hour)
	if err != nil || n != 2 {
		t.Fatalf("Clean = %d, %v; want the stale and the killed writer's file removed", n, err)
	}
	if _, err := os.Stat(killed); !os.IsNotExist(err) {
		t.Fatal("a killed writer's temporary file survived Clean")
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatal("stale temporary file survived Clean")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Fatal("Clean removed a fresh temporary file (a write in progress)")
	}
	if b, err := d.GetContent(ctx, "a/b/file"); err != nil || string(b) != "x" {
		t.Fatalf("Clean touched a real file: %q, %v", b, err)
	}
}

package testsuite

import (
	"context"
	"errors"
	"testing"

	"github.com/mlos-foundation/axon/registry/storage/driver"
)

// every calls each path-taking operation of d on p and returns the errors by
// name. Writer and PutContent come last, as they create p.
func every(ctx context.Context, d driver.Driver, p string) map[string]error {
	errs := map[string]error{}
	_, errs["GetContent"] = d.GetContent(ctx, p)
	r, err := d.Reader(ctx, p, 0)
	if err == nil {
		r.Close()
	}
	errs["Reader"] = err
	_, errs["Stat"] = d.Stat(ctx, p)
	_, errs["List"] = d.List(ctx, p)
	errs["Move src"] = d.Move(ctx, p, "valid/dst")
	errs["Move dst"] = d.Move(ctx, "valid/src", p)
	errs["Delete"] = d.Delete(ctx, p)
	errs["Walk"] = d.Walk(ctx, p, func(driver.FileInfo) error { return nil })
	errs["PutContent"] = d.PutContent(ctx, p, []byte("x")) // last: it creates p
	w, err := d.Writer(ctx, p, false)
	if err == nil {
		w.Cancel(ctx)
	}
	errs["Writer"] = err
	return errs
}

func testInvalidPaths(t *testing.T, d driver.Driver) {
	put(t, d, "valid/src", []byte("src"))
	for _, p := range []string{"", "/abs", "/", "a/../b", "..", "../x", "a/./b", ".", "a//b", "a/", "a\\b", "a\x00b", "x/.axon-tmp-1", "a.axon-parts/1"} {
		for op, err := range every(context.Background(), d, p) {
			if p == "" && (op == "List" || op == "Walk") {
				continue // "" is the root there
			}
			if !errors.Is(err, driver.ErrInvalidPath) {
				t.Errorf("%s(%q): got %v, want ErrInvalidPath", op, p, err)
			}
		}
	}
	sameBytes(t, "valid/src after invalid calls", get(t, d, "valid/src"), []byte("src"))
}

func testNotFound(t *testing.T, d driver.Driver) {
	ctx := context.Background()
	put(t, d, "present/file", []byte("x"))
	for _, p := range []string{"absent", "present/absent", "present/file/below"} {
		errs := every(ctx, d, p)
		for _, op := range []string{"GetContent", "Reader", "Stat", "List", "Move src", "Delete", "Walk"} {
			if !errors.Is(errs[op], driver.ErrNotFound) {
				t.Errorf("%s(%q): got %v, want ErrNotFound", op, p, errs[op])
			}
		}
	}
	// A directory is not a file.
	for op, err := range map[string]error{"GetContent": getErr(d, "present"), "Reader": readerErr(d, "present")} {
		if !errors.Is(err, driver.ErrNotFound) {
			t.Errorf("%s(directory): got %v, want ErrNotFound", op, err)
		}
	}
}

func readerErr(d driver.Driver, p string) error {
	r, err := d.Reader(context.Background(), p, 0)
	if err == nil {
		r.Close()
	}
	return err
}

func testContextCanceled(t *testing.T, d driver.Driver) {
	put(t, d, "ctx/file", []byte("x"))
	put(t, d, "valid/src", []byte("x"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for op, err := range every(ctx, d, "ctx/file") {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a canceled context: got %v, want context.Canceled", op, err)
		}
	}
	sameBytes(t, "file after canceled calls", get(t, d, "ctx/file"), []byte("x"))

	// Canceled while walking.
	putWalkTree(t, d)
	ctx, cancel = context.WithCancel(context.Background())
	n := 0
	err := d.Walk(ctx, "walk", func(driver.FileInfo) error {
		n++
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) || n != 1 {
		t.Fatalf("Walk canceled in its first callback: %v after %d files", err, n)
	}
}

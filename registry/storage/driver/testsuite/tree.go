package testsuite

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/mlos-foundation/axon/registry/storage/driver"
)

func testStat(t *testing.T, d driver.Driver) {
	ctx := context.Background()
	before := time.Now().Add(-time.Minute)
	put(t, d, "stat/dir/sub/file", randomBytes(1, 1234))
	fi, err := d.Stat(ctx, "stat/dir/sub/file")
	if err != nil {
		t.Fatal(err)
	}
	if fi.IsDir || fi.Size != 1234 || fi.Path != "stat/dir/sub/file" {
		t.Fatalf("Stat(file) = %+v", fi)
	}
	if fi.ModTime.Before(before) || fi.ModTime.After(time.Now().Add(time.Minute)) {
		t.Fatalf("Stat(file).ModTime = %v, want about now", fi.ModTime)
	}
	for _, dir := range []string{"stat", "stat/dir", "stat/dir/sub"} {
		fi, err := d.Stat(ctx, dir)
		if err != nil || !fi.IsDir || fi.Path != dir {
			t.Fatalf("Stat(%q) = %+v, %v; want a directory", dir, fi, err)
		}
	}
	for _, p := range []string{"stat/di", "stat/dir/su", "stat/dir/sub/fil", "stat/dir/sub/file/x", "stat/dir/sub/filex"} {
		wantErr(t, "Stat("+p+")", statErr(d, p), driver.ErrNotFound)
	}
}

func testList(t *testing.T, d driver.Driver) {
	ctx := context.Background()
	for _, p := range []string{"list/b", "list/a/x", "list/a/y/z", "list/c-d", "list/c/e", "lista/other"} {
		put(t, d, p, []byte(p))
	}
	cases := map[string][]string{
		"list":     {"list/a", "list/b", "list/c", "list/c-d"},
		"list/a":   {"list/a/x", "list/a/y"},
		"list/a/y": {"list/a/y/z"},
		"":         {"list", "lista"},
	}
	for dir, want := range cases {
		got, err := d.List(ctx, dir)
		if err != nil {
			t.Fatalf("List(%q): %v", dir, err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("List(%q) = %q, want %q", dir, got, want)
		}
	}
	for _, p := range []string{"list/nothing", "lis", "list/b"} {
		_, err := d.List(ctx, p)
		wantErr(t, "List("+p+")", err, driver.ErrNotFound)
	}
}

func testDelete(t *testing.T, d driver.Driver) {
	ctx := context.Background()
	for _, p := range []string{"del/tree/a", "del/tree/sub/b", "del/tree/sub/deep/c", "del/keep"} {
		put(t, d, p, []byte(p))
	}
	if err := d.Delete(ctx, "del/tree/sub/b"); err != nil {
		t.Fatalf("Delete(file): %v", err)
	}
	wantErr(t, "GetContent after Delete", getErr(d, "del/tree/sub/b"), driver.ErrNotFound)
	sameBytes(t, "neighbour of a deleted file", get(t, d, "del/tree/sub/deep/c"), []byte("del/tree/sub/deep/c"))
	if err := d.Delete(ctx, "del/tree"); err != nil {
		t.Fatalf("Delete(dir): %v", err)
	}
	for _, p := range []string{"del/tree", "del/tree/a", "del/tree/sub", "del/tree/sub/deep/c"} {
		wantErr(t, "Stat after a recursive Delete: "+p, statErr(d, p), driver.ErrNotFound)
	}
	got, err := d.List(ctx, "del")
	if err != nil || !slices.Equal(got, []string{"del/keep"}) {
		t.Fatalf("List after Delete = %q, %v; want [del/keep]", got, err)
	}
	wantErr(t, "Delete of a deleted directory", d.Delete(ctx, "del/tree"), driver.ErrNotFound)
	// Emptying a directory removes it from its parent, as on S3.
	if err := d.Delete(ctx, "del/keep"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "Stat of an emptied directory", statErr(d, "del"), driver.ErrNotFound)
}

// On S3 a directory is a key prefix: deleting "a/b" must not touch "a/bc" or "a/b.x".
func testDeleteSiblingPrefix(t *testing.T, d driver.Driver) {
	ctx := context.Background()
	for _, p := range []string{"sib/b", "sib/bc", "sib/b.x", "sib/b-y/z", "sib/d/1", "sib/d2/1", "sib/d.e"} {
		put(t, d, p, []byte(p))
	}
	if err := d.Delete(ctx, "sib/b"); err != nil {
		t.Fatal(err)
	}
	if err := d.Delete(ctx, "sib/d"); err != nil {
		t.Fatal(err)
	}
	got, err := d.List(ctx, "sib")
	if want := []string{"sib/b-y", "sib/b.x", "sib/bc", "sib/d.e", "sib/d2"}; err != nil || !slices.Equal(got, want) {
		t.Fatalf("List after deleting siblings = %q, %v; want %q", got, err, want)
	}
}

// walkFiles is the tree the Walk tests use, in the order Walk must give:
// byte order of the full paths, so "b-x" comes before the directory "b".
var walkFiles = []string{"walk/a", "walk/b-x", "walk/b/c", "walk/b/d/e", "walk/b/d/f", "walk/b/g", "walk/b0", "walk/z/y"}

func putWalkTree(t *testing.T, d driver.Driver) {
	for i, p := range walkFiles {
		put(t, d, p, randomBytes(uint64(i), i*10))
	}
	put(t, d, "walkother/x", []byte("outside"))
}

func testWalk(t *testing.T, d driver.Driver) {
	putWalkTree(t, d)
	var got []string
	err := d.Walk(context.Background(), "walk", func(fi driver.FileInfo) error {
		if fi.IsDir {
			t.Errorf("Walk gave a directory: %+v", fi)
		}
		i := len(got)
		if i < len(walkFiles) && fi.Size != int64(i*10) {
			t.Errorf("Walk: %s has size %d, want %d", fi.Path, fi.Size, i*10)
		}
		got = append(got, fi.Path)
		return nil
	})
	if err != nil {
		t.Fatalf("Walk: %v", err)
	}
	if !slices.Equal(got, walkFiles) {
		t.Fatalf("Walk gave %q, want %q", got, walkFiles)
	}
	got = nil
	if err := d.Walk(context.Background(), "walk/b/d", func(fi driver.FileInfo) error {
		got = append(got, fi.Path)
		return nil
	}); err != nil || !slices.Equal(got, []string{"walk/b/d/e", "walk/b/d/f"}) {
		t.Fatalf("Walk(walk/b/d) = %q, %v", got, err)
	}
	got = nil
	if err := d.Walk(context.Background(), "", func(fi driver.FileInfo) error {
		got = append(got, fi.Path)
		return nil
	}); err != nil || !slices.Equal(got, append(append([]string{}, walkFiles...), "walkother/x")) {
		t.Fatalf("Walk of the root = %q, %v", got, err)
	}
}

func testWalkSkipDir(t *testing.T, d driver.Driver) {
	putWalkTree(t, d)
	var got []string
	err := d.Walk(context.Background(), "walk", func(fi driver.FileInfo) error {
		got = append(got, fi.Path)
		if fi.Path == "walk/b/c" {
			return driver.ErrSkipDir // skips the rest of walk/b, subdirectories included
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Walk with ErrSkipDir: %v", err)
	}
	if want := []string{"walk/a", "walk/b-x", "walk/b/c", "walk/b0", "walk/z/y"}; !slices.Equal(got, want) {
		t.Fatalf("Walk with ErrSkipDir at walk/b/c gave %q, want %q", got, want)
	}
	got = nil
	err = d.Walk(context.Background(), "walk", func(fi driver.FileInfo) error {
		got = append(got, fi.Path)
		return driver.ErrSkipDir // at the top: ends the walk without error
	})
	if err != nil || !slices.Equal(got, []string{"walk/a"}) {
		t.Fatalf("ErrSkipDir at the top gave %q, %v", got, err)
	}
}

func testWalkError(t *testing.T, d driver.Driver) {
	putWalkTree(t, d)
	boom := errors.New("boom")
	n := 0
	err := d.Walk(context.Background(), "walk", func(fi driver.FileInfo) error {
		n++
		if fi.Path == "walk/b/d/e" {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || n != 4 {
		t.Fatalf("Walk returning an error: got %v after %d files, want boom after 4", err, n)
	}
	wantErr(t, "Walk of a missing directory", d.Walk(context.Background(), "nowhere", func(driver.FileInfo) error { return nil }), driver.ErrNotFound)
}

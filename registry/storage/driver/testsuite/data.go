package testsuite

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/mlos-foundation/axon/registry/storage/driver"
)

func testPutGet(t *testing.T, d driver.Driver) {
	for i, size := range []int{0, 1, 1000, 1 << 20} {
		p := "put/get/" + string(rune('a'+i)) + "/file"
		want := randomBytes(uint64(i), size)
		put(t, d, p, want)
		sameBytes(t, "GetContent "+p, get(t, d, p), want)
		sameBytes(t, "Reader "+p, readAll(t, d, p, 0), want)
	}
	// Names registries use: digests, dashes, dots, underscores, nested repositories.
	for _, p := range []string{"blobs/sha256/ab/abcdef0123/data", "repositories/team/bert-base_v1.2/_manifests/tags/v1.0/current/link", "a-b.c_d/x", "odd/na me+x%20é~!"} {
		put(t, d, p, []byte(p))
		sameBytes(t, p, get(t, d, p), []byte(p))
	}
}

// A reader must see the old or the new content of a file being overwritten,
// never a mix, an empty file or "not found".
func testPutOverwriteAtomic(t *testing.T, d driver.Driver) {
	const p = "atomic/file"
	versions := [][]byte{bytes.Repeat([]byte("a"), 256<<10), bytes.Repeat([]byte("b"), 200<<10)}
	put(t, d, p, versions[0])
	ctx := context.Background()
	var stop atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for range 2 {
		wg.Go(func() {
			for !stop.Load() {
				b, err := d.GetContent(ctx, p)
				if err != nil {
					errs <- "GetContent during overwrite: " + err.Error()
					return
				}
				if !bytes.Equal(b, versions[0]) && !bytes.Equal(b, versions[1]) {
					errs <- "GetContent during overwrite saw a partial or mixed file"
					return
				}
			}
		})
	}
	for i := range 30 {
		if err := d.PutContent(ctx, p, versions[(i+1)%2]); err != nil {
			stop.Store(true)
			t.Fatalf("PutContent #%d: %v", i, err)
		}
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	sameBytes(t, "final content", get(t, d, p), versions[0])
}

func testReaderOffsets(t *testing.T, d driver.Driver) {
	const p = "reader/file"
	want := randomBytes(7, 3<<20+17)
	put(t, d, p, want)
	for _, off := range []int64{0, 1, 4095, 1 << 20, int64(len(want)) - 1, int64(len(want))} {
		sameBytes(t, "Reader at offset", readAll(t, d, p, off), want[off:])
	}
	ctx := context.Background()
	for _, off := range []int64{-1, int64(len(want)) + 1} {
		r, err := d.Reader(ctx, p, off)
		if err == nil {
			r.Close()
		}
		wantErr(t, "Reader at an offset outside the file", err, driver.ErrInvalidOffset)
	}
}

// 32 MiB through one Writer: several S3 parts, and memory that must not hold it all.
func testWriterLargeStream(t *testing.T, d driver.Driver) {
	const staging, final = "_uploads/large/data", "blobs/large/data"
	want := randomBytes(32, 32<<20+3)
	writeSession(t, d, staging, false, want, true)
	if err := d.Move(context.Background(), staging, final); err != nil {
		t.Fatalf("Move: %v", err)
	}
	sameBytes(t, "large file", readAll(t, d, final, 0), want)
	off := int64(17<<20 + 11) // inside a later part
	sameBytes(t, "large file from an offset", readAll(t, d, final, off), want[off:])
	fi, err := d.Stat(context.Background(), final)
	if err != nil || fi.Size != int64(len(want)) || fi.IsDir {
		t.Fatalf("Stat(%q) = %+v, %v; want a %d-byte file", final, fi, err, len(want))
	}
}

// An upload resumed over several Writer sessions (large ones first, as a
// chunked upload with big chunks does), committed and moved.
func testWriterAppendResume(t *testing.T, d driver.Driver) {
	const staging, final = "_uploads/resume/data", "blobs/resume/data"
	parts := [][]byte{randomBytes(1, 6<<20), randomBytes(2, 5<<20+512), randomBytes(3, 100<<10)}
	var want []byte
	for i, b := range parts {
		start := writeSession(t, d, staging, i > 0, b, i == len(parts)-1)
		if start != int64(len(want)) {
			t.Fatalf("session %d started at size %d, want %d", i, start, len(want))
		}
		want = append(want, b...)
	}
	if err := d.Move(context.Background(), staging, final); err != nil {
		t.Fatalf("Move: %v", err)
	}
	sameBytes(t, "resumed upload", readAll(t, d, final, 0), want)
	wantErr(t, "Stat of the moved staging file", statErr(d, staging), driver.ErrNotFound)
}

// Many small sessions, as the OCI chunked-upload tests do.
func testWriterAppendSmallSessions(t *testing.T, d driver.Driver) {
	const staging, final = "_uploads/small/data", "blobs/small/data"
	var want []byte
	for i := range 5 {
		b := randomBytes(uint64(10+i), 1000+i*333)
		writeSession(t, d, staging, i > 0, b, false)
		want = append(want, b...)
	}
	w, err := d.Writer(context.Background(), staging, true)
	if err != nil {
		t.Fatal(err)
	}
	if w.Size() != int64(len(want)) {
		t.Fatalf("Size on resume = %d, want %d", w.Size(), len(want))
	}
	if err := w.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := d.Move(context.Background(), staging, final); err != nil {
		t.Fatalf("Move: %v", err)
	}
	sameBytes(t, "small sessions", get(t, d, final), want)
}

func testWriterTruncate(t *testing.T, d driver.Driver) {
	const staging, final = "_uploads/trunc/data", "blobs/trunc/data"
	writeSession(t, d, staging, false, randomBytes(1, 10000), false)
	want := randomBytes(2, 300)
	if start := writeSession(t, d, staging, false, want, true); start != 0 {
		t.Fatalf("Writer(append=false) started at %d, want 0", start)
	}
	if err := d.Move(context.Background(), staging, final); err != nil {
		t.Fatal(err)
	}
	sameBytes(t, "truncated then rewritten", get(t, d, final), want)
}

// The empty blob is a real OCI blob: a zero-byte upload must move to a zero-byte file.
func testWriterZeroBytes(t *testing.T, d driver.Driver) {
	const staging, final = "_uploads/empty/data", "blobs/empty/data"
	writeSession(t, d, staging, false, nil, false)
	if start := writeSession(t, d, staging, true, nil, true); start != 0 {
		t.Fatalf("append to an empty staged file started at %d", start)
	}
	if err := d.Move(context.Background(), staging, final); err != nil {
		t.Fatal(err)
	}
	if b := get(t, d, final); len(b) != 0 {
		t.Fatalf("zero-byte upload moved to a %d-byte file", len(b))
	}
	fi, err := d.Stat(context.Background(), final)
	if err != nil || fi.Size != 0 || fi.IsDir {
		t.Fatalf("Stat = %+v, %v; want an empty file", fi, err)
	}
	// Appending to nothing starts an empty file.
	w, err := d.Writer(context.Background(), "_uploads/fresh/data", true)
	if err != nil {
		t.Fatal(err)
	}
	if w.Size() != 0 {
		t.Fatalf("Writer(append) on nothing: Size = %d", w.Size())
	}
	w.Cancel(context.Background())
}

func testWriterCancel(t *testing.T, d driver.Driver) {
	ctx := context.Background()
	const staging = "_uploads/cancel/data"
	writeSession(t, d, staging, false, randomBytes(1, 2000), false)
	w, err := d.Writer(ctx, staging, true)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(randomBytes(2, 3000))
	if err := w.Cancel(ctx); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	wantErr(t, "Stat after Cancel", statErr(d, staging), driver.ErrNotFound)
	if start := writeSession(t, d, staging, true, []byte("x"), false); start != 0 {
		t.Fatalf("Writer(append) after Cancel started at %d, want 0", start)
	}
	// Cancel of a writer that was already closed still discards the data.
	w, err = d.Writer(ctx, staging, true)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	if err := w.Cancel(ctx); err != nil {
		t.Fatalf("Cancel after Close: %v", err)
	}
	wantErr(t, "Stat after Cancel of a closed writer", statErr(d, staging), driver.ErrNotFound)
	wantErr(t, "Move after Cancel", d.Move(ctx, staging, "blobs/cancel"), driver.ErrNotFound)
}

// The registry reports upload progress from Stat and lists uploads to expire them.
func testWriterStagedStat(t *testing.T, d driver.Driver) {
	ctx := context.Background()
	const staging = "_uploads/stat/data"
	writeSession(t, d, staging, false, randomBytes(1, 1500), false)
	writeSession(t, d, staging, true, randomBytes(2, 500), false)
	fi, err := d.Stat(ctx, staging)
	if err != nil || fi.IsDir || fi.Size != 2000 {
		t.Fatalf("Stat(staged) = %+v, %v; want a 2000-byte file", fi, err)
	}
	put(t, d, "_uploads/stat/startedat", []byte("now"))
	got, err := d.List(ctx, "_uploads/stat")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"_uploads/stat/data", "_uploads/stat/startedat"}; !slices.Equal(got, want) {
		t.Fatalf("List = %q, want %q", got, want)
	}
	sameBytes(t, "Reader of a staged file", readAll(t, d, staging, 1000), append(randomBytes(1, 1500)[1000:], randomBytes(2, 500)...))
	if err := d.Delete(ctx, "_uploads/stat"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "Stat after deleting the upload", statErr(d, staging), driver.ErrNotFound)
}

func testMoveReplacesDst(t *testing.T, d driver.Driver) {
	ctx := context.Background()
	put(t, d, "move/dst", []byte("old content"))
	want := randomBytes(5, 70000)
	writeSession(t, d, "_uploads/m/data", false, want, true)
	if err := d.Move(ctx, "_uploads/m/data", "move/dst"); err != nil {
		t.Fatalf("Move over an existing file: %v", err)
	}
	sameBytes(t, "moved file", get(t, d, "move/dst"), want)
	// A file written whole moves too, into a directory that does not exist yet.
	put(t, d, "move/plain", []byte("plain"))
	if err := d.Move(ctx, "move/plain", "move/new/dir/plain"); err != nil {
		t.Fatal(err)
	}
	sameBytes(t, "moved plain file", get(t, d, "move/new/dir/plain"), []byte("plain"))
	wantErr(t, "GetContent of the move source", getErr(d, "move/plain"), driver.ErrNotFound)
}

func testMoveAtomicForReaders(t *testing.T, d driver.Driver) {
	ctx := context.Background()
	const dst = "blobs/swap"
	versions := [][]byte{bytes.Repeat([]byte("x"), 300<<10), bytes.Repeat([]byte("y"), 301<<10)}
	put(t, d, dst, versions[0])
	var stop atomic.Bool
	var wg sync.WaitGroup
	var bad atomic.Value
	wg.Go(func() {
		for !stop.Load() {
			b, err := d.GetContent(ctx, dst)
			if err != nil {
				bad.Store("GetContent during Move: " + err.Error())
				return
			}
			if !bytes.Equal(b, versions[0]) && !bytes.Equal(b, versions[1]) {
				bad.Store("GetContent during Move saw a partial file")
				return
			}
		}
	})
	for i := range 10 {
		writeSession(t, d, "_uploads/swap/data", false, versions[(i+1)%2], true)
		if err := d.Move(ctx, "_uploads/swap/data", dst); err != nil {
			stop.Store(true)
			wg.Wait()
			t.Fatalf("Move #%d: %v", i, err)
		}
	}
	stop.Store(true)
	wg.Wait()
	if s, ok := bad.Load().(string); ok {
		t.Fatal(s)
	}
}

func testMoveMissingSource(t *testing.T, d driver.Driver) {
	put(t, d, "keep/dst", []byte("keep"))
	wantErr(t, "Move of a missing file", d.Move(context.Background(), "nothing/here", "keep/dst"), driver.ErrNotFound)
	sameBytes(t, "dst after a failed Move", get(t, d, "keep/dst"), []byte("keep"))
}

func statErr(d driver.Driver, p string) error {
	_, err := d.Stat(context.Background(), p)
	return err
}

func getErr(d driver.Driver, p string) error {
	_, err := d.GetContent(context.Background(), p)
	return err
}

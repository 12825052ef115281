// Package benchsuite is the one benchmark set every storage driver runs, beside
// the behaviour suite (../testsuite). A driver package runs it from a Benchmark
// function of its own tests:
//
//	func BenchmarkSuite(b *testing.B) {
//		benchsuite.Run(b, func(tb testing.TB) driver.Driver { return newEmptyDriver(tb) })
//	}
//
// and `go test -run '^$' -bench . ./registry/storage/driver/fs` prints one line a
// case; those that move data report MB/s (b.SetBytes). Smoke, called from a
// test, runs every case once so that the suite cannot rot unnoticed.
//
// The factory must return a driver over empty storage for each call; it is
// called once per case (the cases use b.Loop, so setup runs outside the timer).
package benchsuite

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/mlos-foundation/axon/registry/storage/driver"
)

// Factory returns a driver over empty storage, cleaned up by tb.
type Factory func(tb testing.TB) driver.Driver

// Chunk is what one Write hands a Writer: about what a streamed HTTP body gives per read.
const Chunk = 1 << 20

const (
	kib = 1 << 10
	mib = 1 << 20
	// readFile is the size of the file the Reader cases read.
	readFile = 64 * mib
	// entries is how many files the List and Walk cases' directory holds.
	entries = 1000
)

type bench struct {
	name  string
	bytes int64 // reported as b.SetBytes; 0 for cases that move no data
	fn    func(b *testing.B, d driver.Driver, size int64)
}

var benches = []bench{
	{"PutContent/1KiB", kib, benchPutContent},
	{"PutContent/1MiB", mib, benchPutContent},
	{"GetContent/1KiB", kib, benchGetContent},
	{"GetContent/1MiB", mib, benchGetContent},
	{"WriterCommitMove/1MiB", mib, benchWriterCommitMove},
	{"WriterCommitMove/64MiB", 64 * mib, benchWriterCommitMove},
	{"PutStream/1MiB", mib, benchPutStream},
	{"PutStream/64MiB", 64 * mib, benchPutStream},
	{"Reader/64MiB", readFile, benchReaderOffsets},
	{"ReaderOffsets/1MiB", mib, benchReaderOffsets},
	{"Stat", 0, benchStat},
	{"List/1000", 0, benchList},
	{"Walk/1000", 0, benchWalk},
	{"Delete", 0, benchDelete},
}

// Run runs every case as a sub-benchmark, each over a new driver.
func Run(b *testing.B, newDriver Factory) {
	for _, c := range benches {
		b.Run(c.name, func(b *testing.B) {
			d := newDriver(b)
			if c.bytes > 0 {
				b.SetBytes(c.bytes)
			}
			c.fn(b, d, c.bytes)
		})
	}
}

// Smoke runs the benchmark function named bench (which calls Run) of this test
// binary once per case (-benchtime=1x, in a child process, as `go test -bench`
// would) and fails unless every case reported a result, with MB/s where it
// moves data. A case that fails or skips fails the test.
func Smoke(t *testing.T, bench string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^"+regexp.QuoteMeta(bench)+"$",
		"-test.benchtime=1x", "-test.count=1", "-test.timeout=10m")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s -benchtime=1x: %v\n%s", bench, err, out)
	}
	results := map[string]string{}
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		if len(f) < 4 || f[3] != "ns/op" {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue
		}
		name := f[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 { // the -GOMAXPROCS suffix
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		results[name] = line
	}
	for _, c := range benches {
		line, ok := results[bench+"/"+c.name]
		switch {
		case !ok:
			t.Errorf("%s/%s reported no result", bench, c.name)
		case c.bytes > 0 && !strings.Contains(line, "MB/s"):
			t.Errorf("%s/%s reported no MB/s: %s", bench, c.name, line)
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", out)
	}
}

// Each case below runs its setup, then times b.Loop.

// benchPutContent replaces one small file again and again.
func benchPutContent(b *testing.B, d driver.Driver, size int64) {
	data := Pattern(int(size))
	for b.Loop() {
		if err := d.PutContent(b.Context(), "bench/put/file", data); err != nil {
			b.Fatal(err)
		}
	}
}

func benchGetContent(b *testing.B, d driver.Driver, size int64) {
	if err := d.PutContent(b.Context(), "bench/get/file", Pattern(int(size))); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		got, err := d.GetContent(b.Context(), "bench/get/file")
		if err != nil || int64(len(got)) != size {
			b.Fatalf("GetContent: %d bytes, %v; want %d", len(got), err, size)
		}
	}
}

// benchWriterCommitMove is an upload: streamed into staging, committed, moved
// over the same final path each time.
func benchWriterCommitMove(b *testing.B, d driver.Driver, size int64) {
	data := Pattern(min(Chunk, int(size)))
	for b.Loop() {
		if err := WriteMove(b.Context(), d, "_uploads/bench/data", "blobs/bench/data", data, size); err != nil {
			b.Fatal(err)
		}
	}
}

func benchPutStream(b *testing.B, d driver.Driver, size int64) {
	if _, ok := d.(driver.Putter); !ok {
		b.Skipf("%s does not implement driver.Putter", d.Name())
	}
	data := Pattern(min(Chunk, int(size)))
	for b.Loop() {
		if err := PutStream(b.Context(), d, "blobs/bench/streamed", data, size); err != nil {
			b.Fatal(err)
		}
	}
}

// benchReaderOffsets reads size bytes of a readFile-sized file through Reader.
// For the whole file that is from offset 0; for less, each read starts at a
// different offset (a resumed or ranged blob GET), walking through the file.
func benchReaderOffsets(b *testing.B, d driver.Driver, size int64) {
	ctx := b.Context()
	if err := WriteMove(ctx, d, "_uploads/read/data", "blobs/read/data", Pattern(Chunk), readFile); err != nil {
		b.Fatal(err)
	}
	// A step coprime with the file's chunk count, offset off the chunk grid.
	step := 7*mib + 4093
	offset := int64(0)
	for b.Loop() {
		if err := ReadRange(ctx, d, "blobs/read/data", offset, size); err != nil {
			b.Fatal(err)
		}
		offset = (offset + int64(step)) % (readFile - size + 1)
	}
}

func benchStat(b *testing.B, d driver.Driver, _ int64) {
	if err := d.PutContent(b.Context(), "bench/stat/dir/file", Pattern(kib)); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		fi, err := d.Stat(b.Context(), "bench/stat/dir/file")
		if err != nil || fi.Size != kib {
			b.Fatalf("Stat = %+v, %v", fi, err)
		}
	}
}

// fill puts n small files in dir (on a few goroutines: on S3 each is a request).
func fill(b *testing.B, d driver.Driver, dir string, n int) {
	var wg sync.WaitGroup
	errs := make([]error, n)
	const workers = 8
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				errs[i] = d.PutContent(b.Context(), fmt.Sprintf("%s/f%04d", dir, i), []byte(dir))
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
}

func benchList(b *testing.B, d driver.Driver, _ int64) {
	fill(b, d, "bench/list", entries)
	for b.Loop() {
		got, err := d.List(b.Context(), "bench/list")
		if err != nil || len(got) != entries {
			b.Fatalf("List: %d entries, %v; want %d", len(got), err, entries)
		}
	}
}

func benchWalk(b *testing.B, d driver.Driver, _ int64) {
	fill(b, d, "bench/walk", entries)
	for b.Loop() {
		n := 0
		if err := d.Walk(b.Context(), "bench/walk", func(driver.FileInfo) error { n++; return nil }); err != nil || n != entries {
			b.Fatalf("Walk: %d files, %v; want %d", n, err, entries)
		}
	}
}

// benchDelete deletes small files one by one; they are put in batches with
// the timer stopped.
func benchDelete(b *testing.B, d driver.Driver, _ int64) {
	const batch = 100
	paths := make([]string, batch)
	for i := range paths {
		paths[i] = fmt.Sprintf("bench/delete/f%03d", i)
	}
	data := []byte("x")
	i := 0
	for b.Loop() {
		if i%batch == 0 {
			b.StopTimer()
			for _, p := range paths {
				if err := d.PutContent(b.Context(), p, data); err != nil {
					b.Fatal(err)
				}
			}
			b.StartTimer()
		}
		if err := d.Delete(b.Context(), paths[i%batch]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	if _, err := d.Stat(b.Context(), paths[(i-1)%batch]); !errors.Is(err, driver.ErrNotFound) {
		b.Fatalf("Stat after Delete: %v, want not found", err)
	}
}

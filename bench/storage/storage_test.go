// Package storage benchmarks the registry's storage drivers (filesystem and S3 on
// a real versitygw) against what this machine can do at best: sha256 while
// writing to disk, then fsync, the floor under every blob push. The operations it
// times are registry/storage/driver/benchsuite's, whose Go benchmarks (one line a
// case, per driver) `go tool task bench:storage` runs after this table.
//
//	AXON_BENCH=1 go test -count=1 -v -timeout 30m ./bench/storage
package storage

import (
	"context"
	"crypto/sha256"
	"fmt"
	"hash"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/mlos-foundation/axon/internal/testutil"
	"github.com/mlos-foundation/axon/registry/storage/driver"
	"github.com/mlos-foundation/axon/registry/storage/driver/benchsuite"
	"github.com/mlos-foundation/axon/registry/storage/driver/fs"
	"github.com/mlos-foundation/axon/registry/storage/driver/s3"
)

const (
	bigSize   = 1 << 30
	smallN    = 1000
	smallSize = 1 << 10
	workers   = 16
	runs      = 3 // each figure is the best of this many runs
)

type result struct {
	name  string
	unit  string // "MB/s" or "ops/s"
	value map[string]float64
}

func TestStorage(t *testing.T) {
	if os.Getenv("AXON_BENCH") != "1" {
		t.Skip("set AXON_BENCH=1 to run benchmarks")
	}
	data := benchsuite.Pattern(benchsuite.Chunk)
	small := make([]byte, smallSize)
	copy(small, data)

	srv := testutil.StartS3(t)
	s3d, err := s3.New(s3.Config{Endpoint: srv.Host, Region: "us-east-1", Bucket: srv.Bucket, PathStyle: true,
		Creds: credentials.NewStaticV4(srv.AccessKey, srv.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	fsd, err := fs.New(filepath.Join(t.TempDir(), "fs"))
	if err != nil {
		t.Fatal(err)
	}
	drivers := []driver.Driver{fsd, s3d}
	cols := []string{"limit", "filesystem", "s3"}

	limit := machineLimit(t, data)
	t.Logf("machine limit (1 GiB, sha256 while writing, fsync): %.0f MB/s", limit)

	ctx := context.Background()
	type bench struct {
		name, unit string
		n          int64 // bytes (MB/s) or operations (ops/s)
		run        func(d driver.Driver) error
	}
	benches := []bench{
		{"1 GiB write (Writer+Commit+Move)", "MB/s", bigSize, func(d driver.Driver) error { return writeBig(ctx, d, data) }},
		{"1 GiB write (PutStream to the final path)", "MB/s", bigSize, func(d driver.Driver) error { return putBig(ctx, d, data) }},
		{"1 GiB read", "MB/s", bigSize, func(d driver.Driver) error { return readBig(ctx, d) }},
		{"1000 x 1 KiB PutContent, 1 client", "ops/s", smallN, func(d driver.Driver) error {
			return each(smallN, 1, func(i int) error { return d.PutContent(ctx, fmt.Sprintf("small/a/%d", i), small) })
		}},
		{fmt.Sprintf("1000 x 1 KiB PutContent, %d clients", workers), "ops/s", smallN, func(d driver.Driver) error {
			return each(smallN, workers, func(i int) error { return d.PutContent(ctx, fmt.Sprintf("small/b/%d", i), small) })
		}},
		{fmt.Sprintf("1000 x 1 KiB upload (Writer+Commit+Move), %d clients", workers), "ops/s", smallN, func(d driver.Driver) error {
			return each(smallN, workers, func(i int) error { return upload(ctx, d, i, small) })
		}},
		{"1000 x 1 KiB GetContent, 1 client", "ops/s", smallN, func(d driver.Driver) error {
			return each(smallN, 1, func(i int) error { _, err := d.GetContent(ctx, fmt.Sprintf("small/a/%d", i)); return err })
		}},
		{fmt.Sprintf("1000 x 1 KiB GetContent, %d clients", workers), "ops/s", smallN, func(d driver.Driver) error {
			return each(smallN, workers, func(i int) error { _, err := d.GetContent(ctx, fmt.Sprintf("small/b/%d", i)); return err })
		}},
	}
	var results []*result
	for _, b := range benches {
		r := &result{name: b.name, unit: b.unit, value: map[string]float64{}}
		if b.unit == "MB/s" && strings.Contains(b.name, "write") {
			r.value["limit"] = limit
		}
		for _, d := range drivers {
			// The best of a few runs: this machine's disk and CPUs are shared,
			// and the best run is the closest to what the code can do.
			best := time.Duration(0)
			for range runs {
				took := timed(t, func() error { return b.run(d) })
				if best == 0 || took < best {
					best = took
				}
			}
			r.value[d.Name()] = float64(b.n) / best.Seconds()
			if b.unit == "MB/s" {
				r.value[d.Name()] /= 1e6
			}
		}
		results = append(results, r)
	}
	printTable(results, cols)
}

// machineLimit is what a registry push cannot beat: hash the bytes and write
// them once, then make them durable. It measures the parts and two ways to
// combine them (one goroutine; hashing and writing on two), logs them all and
// returns the better combination (best of a few runs each).
func machineLimit(t *testing.T, data []byte) float64 {
	dir := t.TempDir()
	hashOnly := mbps(bigSize, timed(t, func() error {
		h := sha256.New()
		for n := 0; n < bigSize; n += len(data) {
			h.Write(data)
		}
		h.Sum(nil)
		return nil
	}))
	writeOnly := mbps(bigSize, timed(t, func() error { return writeFile(filepath.Join(dir, "w"), data, nil) }))
	var serial, parallel float64
	for range runs {
		serial = max(serial, mbps(bigSize, timed(t, func() error { return writeFile(filepath.Join(dir, "s"), data, sha256.New()) })))
		parallel = max(parallel, mbps(bigSize, timed(t, func() error { return writeFileParallel(filepath.Join(dir, "p"), data) })))
	}
	t.Logf("machine: sha256 %.0f MB/s; write+fsync %.0f MB/s; both in one goroutine %.0f MB/s; hashing beside writing %.0f MB/s",
		hashOnly, writeOnly, serial, parallel)
	return max(serial, parallel)
}

// writeFile writes bigSize bytes to p (hashing them first when h is set) and fsyncs.
func writeFile(p string, data []byte, h hash.Hash) error {
	defer os.Remove(p)
	f, err := os.Create(p)
	if err != nil {
		return err
	}
	defer f.Close()
	for n := 0; n < bigSize; n += len(data) {
		if h != nil {
			h.Write(data)
		}
		if _, err := f.Write(data); err != nil {
			return err
		}
	}
	if h != nil {
		h.Sum(nil)
	}
	return f.Sync()
}

// writeFileParallel hashes each chunk on one goroutine while another writes it.
func writeFileParallel(p string, data []byte) error {
	chunks := make(chan []byte, 4)
	done := make(chan struct{})
	go func() {
		h := sha256.New()
		for c := range chunks {
			h.Write(c)
		}
		h.Sum(nil)
		close(done)
	}()
	err := writeFile(p, data, chunkTee(chunks))
	close(chunks)
	<-done
	return err
}

// chunkTee is a hash.Hash-shaped sink that hands chunks to the hashing goroutine.
type chunkTee chan []byte

func (c chunkTee) Write(b []byte) (int, error) { c <- b; return len(b), nil }
func (c chunkTee) Sum(b []byte) []byte         { return b }
func (c chunkTee) Reset()                      {}
func (c chunkTee) Size() int                   { return 0 }
func (c chunkTee) BlockSize() int              { return 64 }

func writeBig(ctx context.Context, d driver.Driver, data []byte) error {
	return benchsuite.WriteMove(ctx, d, "_uploads/big/data", "blobs/big/data", data, bigSize)
}

func putBig(ctx context.Context, d driver.Driver, data []byte) error {
	return benchsuite.PutStream(ctx, d, "blobs/streamed/data", data, bigSize)
}

func readBig(ctx context.Context, d driver.Driver) error {
	return benchsuite.ReadRange(ctx, d, "blobs/big/data", 0, bigSize)
}

func upload(ctx context.Context, d driver.Driver, i int, b []byte) error {
	return benchsuite.WriteMove(ctx, d, fmt.Sprintf("_uploads/u%d/data", i), fmt.Sprintf("blobs/u/%d/data", i), b, int64(len(b)))
}

// each runs fn(0..n-1) on the given number of goroutines.
func each(n, workers int, fn func(int) error) error {
	next := make(chan int)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				if err := fn(i); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for i := range n {
		select {
		case next <- i:
		case err := <-errs:
			close(next)
			wg.Wait()
			return err
		}
	}
	close(next)
	wg.Wait()
	close(errs)
	return <-errs
}

func timed(t *testing.T, fn func() error) time.Duration {
	t.Helper()
	start := time.Now()
	if err := fn(); err != nil {
		t.Fatal(err)
	}
	return time.Since(start)
}

func mbps(bytes int64, d time.Duration) float64 { return float64(bytes) / 1e6 / d.Seconds() }

func printTable(results []*result, cols []string) {
	fmt.Printf("\n%-58s %6s %10s %10s %10s %9s %9s\n", "storage driver benchmark", "unit", cols[0], cols[1], cols[2], "fs/limit", "s3/limit")
	for _, r := range results {
		cell := func(c string) string {
			if v, ok := r.value[c]; ok {
				return fmt.Sprintf("%.0f", v)
			}
			return "-"
		}
		ratio := func(c string) string {
			if l, ok := r.value["limit"]; ok && l > 0 {
				return fmt.Sprintf("%.2fx", r.value[c]/l)
			}
			return "-"
		}
		fmt.Printf("%-58s %6s %10s %10s %10s %9s %9s\n", r.name, r.unit, cell(cols[0]), cell(cols[1]), cell(cols[2]), ratio("filesystem"), ratio("s3"))
	}
	fmt.Println()
}

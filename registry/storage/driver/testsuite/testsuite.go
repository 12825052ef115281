// Package testsuite is the one behaviour test every storage driver must pass.
// A driver package runs it from its own tests:
//
//	testsuite.Run(t, func(t *testing.T) driver.Driver { return newEmptyDriver(t) })
//
// The factory must return a driver over empty storage for each call.
package testsuite

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/mlos-foundation/axon/registry/storage/driver"
)

// Factory returns a driver over empty storage, cleaned up by t.
type Factory func(t *testing.T) driver.Driver

// Run runs every case of the suite as a subtest.
func Run(t *testing.T, newDriver Factory) {
	cases := []struct {
		name string
		fn   func(*testing.T, driver.Driver)
	}{
		{"PutGet", testPutGet},
		{"PutOverwriteAtomic", testPutOverwriteAtomic},
		{"ReaderOffsets", testReaderOffsets},
		{"WriterLargeStream", testWriterLargeStream},
		{"PutStream", testPutStream},
		{"WriterAppendResume", testWriterAppendResume},
		{"WriterAppendSmallSessions", testWriterAppendSmallSessions},
		{"WriterTruncate", testWriterTruncate},
		{"WriterZeroBytes", testWriterZeroBytes},
		{"WriterCancel", testWriterCancel},
		{"WriterStagedStat", testWriterStagedStat},
		{"MoveReplacesDst", testMoveReplacesDst},
		{"MoveAtomicForReaders", testMoveAtomicForReaders},
		{"MoveMissingSource", testMoveMissingSource},
		{"Stat", testStat},
		{"List", testList},
		{"Delete", testDelete},
		{"DeleteSiblingPrefix", testDeleteSiblingPrefix},
		{"Walk", testWalk},
		{"WalkSkipDir", testWalkSkipDir},
		{"WalkError", testWalkError},
		{"InvalidPaths", testInvalidPaths},
		{"NotFound", testNotFound},
		{"ConcurrentWriters", testConcurrentWriters},
		{"ConcurrentReaders", testConcurrentReaders},
		{"ContextCanceled", testContextCanceled},
		{"Conditional", testConditional},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.fn(t, newDriver(t))
		})
	}
}

// randomBytes gives n pseudo-random bytes, different for each seed.
func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16), 1}))
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8 && i+j < n; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

func put(t *testing.T, d driver.Driver, p string, b []byte) {
	t.Helper()
	if err := d.PutContent(context.Background(), p, b); err != nil {
		t.Fatalf("PutContent(%q): %v", p, err)
	}
}

func get(t *testing.T, d driver.Driver, p string) []byte {
	t.Helper()
	b, err := d.GetContent(context.Background(), p)
	if err != nil {
		t.Fatalf("GetContent(%q): %v", p, err)
	}
	return b
}

// readAll reads p through Reader from offset.
func readAll(t *testing.T, d driver.Driver, p string, offset int64) []byte {
	t.Helper()
	r, err := d.Reader(context.Background(), p, offset)
	if err != nil {
		t.Fatalf("Reader(%q, %d): %v", p, offset, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read %q from %d: %v", p, offset, err)
	}
	return b
}

// sameBytes compares without dumping megabytes into the log.
func sameBytes(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if bytes.Equal(got, want) {
		return
	}
	n := 0
	for n < len(got) && n < len(want) && got[n] == want[n] {
		n++
	}
	t.Fatalf("%s: got %d bytes (sha256 %x), want %d bytes (sha256 %x); first difference at %d",
		what, len(got), sha256.Sum256(got), len(want), sha256.Sum256(want), n)
}

// writeSession streams b into p in uneven chunks and closes or commits.
func writeSession(t *testing.T, d driver.Driver, p string, append bool, b []byte, commit bool) int64 {
	t.Helper()
	ctx := context.Background()
	w, err := d.Writer(ctx, p, append)
	if err != nil {
		t.Fatalf("Writer(%q, append=%v): %v", p, append, err)
	}
	start := w.Size()
	chunks := []int{1, 7, 4096, 32 << 10, 1 << 20, 3<<20 + 5}
	for i, off := 0, 0; off < len(b); i++ {
		n := min(chunks[i%len(chunks)], len(b)-off)
		m, err := w.Write(b[off : off+n])
		if err != nil || m != n {
			w.Cancel(ctx)
			t.Fatalf("Write(%q) at %d: wrote %d of %d: %v", p, off, m, n, err)
		}
		off += n
	}
	if got, want := w.Size(), start+int64(len(b)); got != want {
		t.Fatalf("Writer(%q).Size() = %d after writing, want %d", p, got, want)
	}
	if commit {
		err = w.Commit(ctx)
	} else {
		err = w.Close()
	}
	if err != nil {
		t.Fatalf("finish writer %q (commit=%v): %v", p, commit, err)
	}
	return start
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want %v", what, err, target)
	}
}

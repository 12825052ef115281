package testsuite

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
	"testing"

	"github.com/mlos-foundation/axon/registry/storage/driver"
)

func testConcurrentWriters(t *testing.T, d driver.Driver) {
	ctx := context.Background()
	const n = 8
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			staging, final := fmt.Sprintf("_uploads/c%d/data", i), fmt.Sprintf("blobs/c%d/data", i)
			b := randomBytes(uint64(100+i), 1<<20+i)
			w, err := d.Writer(ctx, staging, false)
			if err != nil {
				errs <- err
				return
			}
			for off := 0; off < len(b); off += 64 << 10 {
				if _, err := w.Write(b[off:min(off+64<<10, len(b))]); err != nil {
					w.Cancel(ctx)
					errs <- fmt.Errorf("write %s: %w", staging, err)
					return
				}
			}
			if err := w.Commit(ctx); err != nil {
				errs <- err
				return
			}
			if err := d.Move(ctx, staging, final); err != nil {
				errs <- err
				return
			}
			got, err := d.GetContent(ctx, final)
			if err != nil {
				errs <- err
			} else if !bytes.Equal(got, b) {
				errs <- fmt.Errorf("%s: content differs after concurrent writes", final)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func testConcurrentReaders(t *testing.T, d driver.Driver) {
	ctx := context.Background()
	want := randomBytes(9, 2<<20)
	put(t, d, "shared/file", want)
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			off := int64(i) * 100_000
			r, err := d.Reader(ctx, "shared/file", off)
			if err != nil {
				errs <- err
				return
			}
			defer r.Close()
			got, err := io.ReadAll(r)
			if err != nil {
				errs <- err
			} else if !bytes.Equal(got, want[off:]) {
				errs <- fmt.Errorf("reader %d: content differs", i)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

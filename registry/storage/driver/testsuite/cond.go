package testsuite

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/mlos-foundation/axon/registry/storage/driver"
)

// testConditional: the compare-and-swap writes leases are built on. Of many
// concurrent PutIfAbsent calls exactly one wins, and of many PutIfMatch calls
// on one version exactly one wins.
func testConditional(t *testing.T, d driver.Driver) {
	c, ok := d.(driver.Conditional)
	if !ok {
		t.Fatalf("%s driver does not implement driver.Conditional", d.Name())
	}
	ctx := context.Background()
	wins := race(t, "PutIfAbsent", func(i int) error {
		_, err := c.PutIfAbsent(ctx, "cond/lease", []byte{byte(i)})
		return err
	})
	if wins != 1 {
		t.Fatalf("%d concurrent PutIfAbsent calls succeeded, want exactly 1", wins)
	}
	b, ver, err := c.GetVersioned(ctx, "cond/lease")
	if err != nil || len(b) != 1 {
		t.Fatalf("GetVersioned: %q %v", b, err)
	}
	wins = race(t, "PutIfMatch", func(i int) error {
		_, err := c.PutIfMatch(ctx, "cond/lease", []byte{100 + byte(i), 1}, ver)
		return err
	})
	if wins != 1 {
		t.Fatalf("%d concurrent PutIfMatch calls on one version succeeded, want exactly 1", wins)
	}
	if _, err := c.PutIfMatch(ctx, "cond/lease", []byte("x"), ver); !errors.Is(err, driver.ErrPrecondition) {
		t.Fatalf("PutIfMatch with a stale version: %v, want ErrPrecondition", err)
	}
	if _, err := c.PutIfMatch(ctx, "cond/absent", []byte("x"), ver); !errors.Is(err, driver.ErrPrecondition) {
		t.Fatalf("PutIfMatch on a missing file: %v, want ErrPrecondition", err)
	}
	if _, err := c.PutIfAbsent(ctx, "cond/lease", []byte("x")); !errors.Is(err, driver.ErrPrecondition) {
		t.Fatalf("PutIfAbsent on an existing file: %v", err)
	}
}

// race runs put(0..11) at once and counts the calls that succeeded; an error
// other than driver.ErrPrecondition fails the test.
func race(t *testing.T, what string, put func(i int) error) int32 {
	const n = 12
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			switch err := put(i); {
			case err == nil:
				wins.Add(1)
			case !errors.Is(err, driver.ErrPrecondition):
				t.Errorf("%s: %v", what, err)
			}
		})
	}
	wg.Wait()
	return wins.Load()
}

package mlos_test

import (
	"context"
	"testing"

	"github.com/mlos-foundation/axon/mlos"
)

// With no queue delay an idle request runs in its own goroutine and busy ones
// queue; every caller must still get its own row back, sequentially and under
// concurrency, and unloading must not strand a request.
func TestBatchingWithoutDelayAnswersEveryRow(t *testing.T) {
	m := newManager(t, t.TempDir(), mlos.BatchOptions{MaxBatchSize: 8, Executors: 1})
	ctx := context.Background()
	model := serve(t, m, affinePkg(t))
	if !model.Info().Batching {
		t.Fatal("batching is off for a dynamic-batch model")
	}
	check := func(i int) error { return affineRow(ctx, model, i) }
	for i := range 5 {
		if err := check(i); err != nil {
			t.Fatal(err)
		}
	}
	if execs := mlos.ExecCount(m, "test/affine"); execs != 5 {
		t.Fatalf("5 sequential requests took %v executions", execs)
	}
	const n = 64
	concurrently(t, n, func(i int) error { return check(100 + i) })
	if err := m.Unregister("test/affine"); err != nil {
		t.Fatal(err)
	}
	if err := check(1); err == nil {
		t.Fatal("a request to an unloaded model succeeded")
	}
}

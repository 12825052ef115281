package mlos_test

import (
	"context"
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/mlos-foundation/axon/mlos"
	"github.com/mlos-foundation/axon/mlos/mlostest"
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
	check := func(i int) error {
		x := [3]float32{float32(i), float32(-i) / 2, 1}
		outs, _, err := model.Infer(ctx, map[string]*mlos.Tensor{"x": {Name: "x", DType: mlos.Float32, Shape: []int64{1, 3}, Data: x[:]}})
		if err != nil {
			return err
		}
		want := mlostest.AffineRef(x)
		got := outs[0].Data.([]float32)
		if len(got) != 2 || outs[0].Shape[0] != 1 || math.Abs(float64(got[0]-want[0])) > 1e-4 || math.Abs(float64(got[1]-want[1])) > 1e-4 {
			return fmt.Errorf("request %d got %v, want %v", i, got, want)
		}
		return nil
	}
	for i := range 5 {
		if err := check(i); err != nil {
			t.Fatal(err)
		}
	}
	if execs := mlos.ExecCount(m, "test/affine"); execs != 5 {
		t.Fatalf("5 sequential requests took %v executions", execs)
	}
	const n = 64
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := check(100 + i); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if err := m.Unregister("test/affine"); err != nil {
		t.Fatal(err)
	}
	if err := check(1); err == nil {
		t.Fatal("a request to an unloaded model succeeded")
	}
}

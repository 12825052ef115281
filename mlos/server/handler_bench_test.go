package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"

	"github.com/mlos-foundation/axon/internal/testutil"
	"github.com/mlos-foundation/axon/mlos"
	"github.com/mlos-foundation/axon/mlos/mlostest"
	"github.com/mlos-foundation/axon/mlos/server"
)

// BenchmarkHandler is the in-process cost of one inference request through
// the whole handler (routing, middleware, body, decode, run, encode) on
// bench/runtime's small model, without the network: what mlosd adds per
// request on top of the HTTP floor. The network is in bench/runtime.
func BenchmarkHandler(b *testing.B) {
	m, err := mlos.NewManager(context.Background(), mlos.Options{DataDir: b.TempDir(), ORTLib: testutil.ORTLibrary(b), Threads: mlos.Threads{IntraOp: 1}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(m.Close)
	layout := b.TempDir()
	mlostest.Package{Namespace: "bench", Name: "mlp", Version: "1", Model: mlostest.MLP(b, 64, 256, 10)}.Layout(b, layout, "bench")
	if _, err := m.Register(context.Background(), "oci-layout://"+layout+":bench", ""); err != nil {
		b.Fatal(err)
	}
	h := server.New(m, server.Options{}).Handler()
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, 64)
	for j := range x {
		x[j] = rng.Float32()*2 - 1
	}
	seed, _ := json.Marshal(map[string]any{"input": [][]float32{x}})
	v2, _ := json.Marshal(map[string]any{"inputs": []any{map[string]any{"name": "x", "shape": []int{1, 64}, "datatype": "FP32", "data": x}}})
	for _, c := range []struct {
		name, path string
		body       []byte
	}{{"seed", "/models/bench/mlp/inference", seed}, {"v2", "/v2/models/bench/mlp/infer", v2}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, c.path, bytes.NewReader(c.body))
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("%d %s", w.Code, w.Body)
				}
			}
			// Process CPU time (ONNX Runtime's threads included) is steadier
			// than wall time on a loaded machine.
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// cpuTime is the process's user+system CPU time in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

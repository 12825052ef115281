// Package runtime_bench compares, in one run, raw in-process onnxruntime_go
// Run against mlosd's seed API and KServe v2 API (over loopback HTTP), at
// concurrency 1 and 16, with dynamic batching off and on.
//
//	AXON_BENCH=1 go test -count=1 -v -timeout 30m ./bench/runtime
package runtime_bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mlos-foundation/axon/internal/ort"
	"github.com/mlos-foundation/axon/internal/testutil"
	"github.com/mlos-foundation/axon/mlos"
	"github.com/mlos-foundation/axon/mlos/mlostest"
	ortgo "github.com/yalue/onnxruntime_go"
	"runtime"
)

// intraThreads is BENCH_INTRA_OP_THREADS; the default 0 keeps ONNX
// Runtime's own (one thread per core), as mlosd does, on both sides.
func intraThreads() int {
	if v, err := strconv.Atoi(os.Getenv("BENCH_INTRA_OP_THREADS")); err == nil && v >= 0 {
		return v
	}
	return 0
}

// concurrencies is BENCH_CONC, the overhead part's concurrency levels
// (default "1,16"; "1" alone, e.g. for a profile of the sequential path).
func concurrencies() []int {
	var out []int
	for _, f := range strings.Split(os.Getenv("BENCH_CONC"), ",") {
		if v, err := strconv.Atoi(strings.TrimSpace(f)); err == nil && v > 0 {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		return []int{1, 16}
	}
	return out
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

type result struct {
	name       string
	conc       int
	p50, p99   time.Duration
	throughput float64
	requests   int
	cpuPerReq  time.Duration // server process CPU time per request (user+system)
}

// measure runs fn from conc goroutines for d and returns per-call latencies
// and the elapsed time.
func measure(name string, conc int, d time.Duration, fn func(worker int) error) ([]time.Duration, time.Duration, error) {
	var mu sync.Mutex
	var lat []time.Duration
	var firstErr error
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for w := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, 1024)
			for time.Now().Before(deadline) {
				t0 := time.Now()
				if err := fn(w); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				local = append(local, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, 0, fmt.Errorf("%s: %w", name, firstErr)
	}
	return lat, time.Since(start), nil
}

func summarize(name string, conc int, lat []time.Duration, elapsed time.Duration) result {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	return result{name: name, conc: conc, p50: pct(0.50), p99: pct(0.99), throughput: float64(len(lat)) / elapsed.Seconds(), requests: len(lat)}
}

// serve starts mlosd as its own process (as users run it) and registers the
// benchmark's package from an OCI layout. With BENCH_PROFILE=DIR, mlosd
// writes a CPU profile DIR/mlosd-NAME.pprof when the benchmark ends.
func serve(t *testing.T, bin, name, layout string, threads mlos.Threads, batch mlos.BatchOptions) string {
	t.Helper()
	addr := testutil.FreeAddr(t)
	args := []string{"--addr", addr, "--data", t.TempDir(), "--ort-lib", testutil.ORTLibrary(t), "--log-level", "warn",
		"--intra-op-threads", strconv.Itoa(threads.IntraOp), "--max-batch-size", strconv.Itoa(batch.MaxBatchSize),
		"--max-queue-delay", batch.MaxQueueDelay.String(), "--batch-executors", strconv.Itoa(max(1, batch.Executors))}
	// mlosd reads oci-layout:// only under directories it is allowed (older builds: anywhere)
	if help, _ := exec.Command(bin, "--help").CombinedOutput(); strings.Contains(string(help), "-allow-layout") {
		args = append(args, "--allow-layout", filepath.Dir(layout))
	}
	if dir := os.Getenv("BENCH_PROFILE"); dir != "" && !strings.HasPrefix(name, "baseline") {
		args = append(args, "--cpu-profile", filepath.Join(dir, "mlosd-"+name+".pprof"))
	}
	p := testutil.Start(t, nil, bin, args...)
	base := "http://" + addr
	pids.Store(base, p.Cmd.Process.Pid)
	testutil.WaitHTTP(t, base+"/healthz", 60*time.Second)
	b, _ := json.Marshal(map[string]string{"ref": "oci-layout://" + layout + ":bench"})
	resp, err := http.Post(base+"/models", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("register: HTTP %d: %s", resp.StatusCode, msg)
	}
	// A graceful stop lets mlosd write its profile; Start's cleanup kills it after.
	t.Cleanup(func() {
		p.Cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() {
			for p.Cmd.Process.Signal(syscall.Signal(0)) == nil {
				time.Sleep(20 * time.Millisecond)
			}
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
		}
	})
	return base
}

// floor starts the trivial HTTP server of ./floor in its own process: the
// cross-process loopback HTTP cost any server pays, with the same client and body.
func floor(t *testing.T) string {
	t.Helper()
	bin := testutil.Build(t, "github.com/mlos-foundation/axon/bench/runtime/floor")
	addr := testutil.FreeAddr(t)
	p := testutil.Start(t, nil, bin, "-addr", addr)
	testutil.WaitHTTP(t, "http://"+addr+"/", 30*time.Second)
	pids.Store("http://"+addr, p.Cmd.Process.Pid)
	return "http://" + addr
}

func post(cl *http.Client, url string, body []byte) error {
	resp, err := cl.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, b)
	}
	return nil
}

type suite struct {
	t          *testing.T
	in         int
	dur        time.Duration
	intra      int
	sess       *ortgo.DynamicAdvancedSession
	examples   [][]float32
	seedBodies [][]byte
	v2Bodies   [][]byte
	cl         *http.Client
	plain      string
	batched    string
	// basePlain and baseBatched run BENCH_BASELINE_MLOSD (an mlosd built
	// from another commit), so that a fix is measured against what it
	// replaces in the same run; empty without it.
	basePlain, baseBatched string
	floor                  string
	results                map[string]result
}

// newSuite loads an MLP in→hidden→out into a raw session and into two
// mlosd servers, one with dynamic batching.
func newSuite(t *testing.T, in, hidden, out int, batch mlos.BatchOptions) *suite {
	s := &suite{t: t, in: in, dur: time.Duration(envInt("BENCH_SECONDS", 3)) * time.Second, intra: intraThreads(), results: map[string]result{}}
	threads := mlos.Threads{IntraOp: s.intra}
	model := mlostest.MLP(t, in, hidden, out)
	layout := t.TempDir()
	mlostest.Package{Namespace: "bench", Name: "mlp", Version: "1", Model: model}.Layout(t, layout, "bench")
	modelPath := filepath.Join(t.TempDir(), "model.onnx")
	if err := os.WriteFile(modelPath, model, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := ort.Init(testutil.ORTLibrary(t)); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 16 {
		x := make([]float32, in)
		for j := range x {
			x[j] = rng.Float32()*2 - 1
		}
		s.examples = append(s.examples, x)
		b, _ := json.Marshal(map[string]any{"input": [][]float32{x}})
		s.seedBodies = append(s.seedBodies, b)
		b, _ = json.Marshal(map[string]any{"inputs": []any{map[string]any{"name": "x", "shape": []int{1, in}, "datatype": "FP32", "data": x}}})
		s.v2Bodies = append(s.v2Bodies, b)
	}
	// Raw in-process onnxruntime_go: one shared session, the same thread settings.
	opts, err := ortgo.NewSessionOptions()
	if err != nil {
		t.Fatal(err)
	}
	defer opts.Destroy()
	if s.intra > 0 {
		opts.SetIntraOpNumThreads(s.intra)
	}
	// as mlosd does by default (--intra-op-spin=false)
	if err := opts.AddSessionConfigEntry("session.intra_op.allow_spinning", "0"); err != nil {
		t.Fatal(err)
	}
	s.sess, err = ortgo.NewDynamicAdvancedSession(modelPath, []string{"x"}, []string{"y"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.sess.Destroy() })
	s.cl = &http.Client{Transport: &http.Transport{MaxIdleConns: 64, MaxIdleConnsPerHost: 64}}
	bin := testutil.Build(t, "github.com/mlos-foundation/axon/cmd/mlosd")
	s.plain = serve(t, bin, fmt.Sprintf("plain-%d", hidden), layout, threads, mlos.BatchOptions{})
	s.batched = serve(t, bin, fmt.Sprintf("batched-%d", hidden), layout, threads, batch)
	if base := os.Getenv("BENCH_BASELINE_MLOSD"); base != "" {
		s.basePlain = serve(t, base, fmt.Sprintf("baseline-plain-%d", hidden), layout, threads, mlos.BatchOptions{})
		s.baseBatched = serve(t, base, fmt.Sprintf("baseline-batched-%d", hidden), layout, threads, batch)
	}
	s.floor = floor(t)
	return s
}

func (s *suite) raw(w int) error {
	x, err := ortgo.NewTensor(ortgo.NewShape(1, int64(s.in)), s.examples[w])
	if err != nil {
		return err
	}
	defer x.Destroy()
	outs := []ortgo.Value{nil}
	if err := s.sess.Run([]ortgo.Value{x}, outs); err != nil {
		return err
	}
	return outs[0].Destroy()
}

func (s *suite) seed(base string) func(int) error {
	url := base + "/models/bench/mlp/inference"
	return func(w int) error { return post(s.cl, url, s.seedBodies[w]) }
}

// floorV2 posts the v2 body to the trivial server.
func (s *suite) floorV2(w int) error {
	return post(s.cl, s.floor+"/v2/models/bench/mlp/infer", s.v2Bodies[w])
}

// floorSeed posts the seed body to the trivial server.
func (s *suite) floorSeed(w int) error {
	return post(s.cl, s.floor+"/models/bench/mlp/inference", s.seedBodies[w])
}

func (s *suite) v2(base string) func(int) error {
	url := base + "/v2/models/bench/mlp/infer"
	return func(w int) error { return post(s.cl, url, s.v2Bodies[w]) }
}

// baselineCells measures BENCH_BASELINE_MLOSD alongside, if given.
func (s *suite) baselineCells(conc int) []cell {
	if s.basePlain == "" {
		return nil
	}
	return []cell{
		{"baseline seed API", conc, s.seed(s.basePlain), s.basePlain},
		{"baseline v2 API", conc, s.v2(s.basePlain), s.basePlain},
		{"baseline seed API + batching", conc, s.seed(s.baseBatched), s.baseBatched},
		{"baseline v2 API + batching", conc, s.v2(s.baseBatched), s.baseBatched},
	}
}

type cell struct {
	name string
	conc int
	fn   func(int) error
	srv  string // the server's base URL ("" in-process): its CPU time is measured
}

// pids maps a server's base URL to its process, for CPU time per request.
var pids sync.Map

// run measures the cells in interleaved rounds, so that load from elsewhere
// on the machine falls on every cell alike.
func (s *suite) run(cells []cell) {
	rounds := envInt("BENCH_ROUNDS", 3)
	lats := make([][]time.Duration, len(cells))
	elapsed := make([]time.Duration, len(cells))
	for i, c := range cells {
		// Warm up (sessions, connections, allocators) before measuring.
		if _, _, err := measure(c.name, c.conc, 300*time.Millisecond, c.fn); err != nil {
			s.t.Fatal(err)
		}
		_ = i
	}
	cpu := make([]time.Duration, len(cells))
	for range rounds {
		for i, c := range cells {
			pid, _ := pids.Load(c.srv)
			var before time.Duration
			if pid != nil {
				before = testutil.CPUTime(pid.(int))
			}
			lat, d, err := measure(c.name, c.conc, s.dur/time.Duration(rounds), c.fn)
			if err != nil {
				s.t.Fatal(err)
			}
			if pid != nil {
				cpu[i] += testutil.CPUTime(pid.(int)) - before
			}
			lats[i] = append(lats[i], lat...)
			elapsed[i] += d
		}
	}
	for i, c := range cells {
		r := summarize(c.name, c.conc, lats[i], elapsed[i])
		if r.requests > 0 {
			r.cpuPerReq = cpu[i] / time.Duration(r.requests)
		}
		s.results[fmt.Sprintf("%s/%d", c.name, c.conc)] = r
	}
	fmt.Printf("%-28s %5s %10s %10s %12s %14s %12s %15s\n", "path", "conc", "p50", "p99", "req/s", "p50 overhead", "vs raw req/s", "server CPU/req")
	for _, c := range cells {
		r := s.results[fmt.Sprintf("%s/%d", c.name, c.conc)]
		base := s.results[fmt.Sprintf("raw onnxruntime_go Run/%d", c.conc)]
		cpuCol := "-"
		if c.srv != "" {
			cpuCol = r.cpuPerReq.Round(time.Microsecond).String()
		}
		fmt.Printf("%-28s %5d %10s %10s %12.0f %14s %11.2fx %15s\n", r.name, r.conc, r.p50.Round(time.Microsecond), r.p99.Round(time.Microsecond),
			r.throughput, (r.p50 - base.p50).Round(time.Microsecond), r.throughput/base.throughput, cpuCol)
	}
}

func TestRuntimeBench(t *testing.T) {
	if os.Getenv("AXON_BENCH") != "1" {
		t.Skip("set AXON_BENCH=1 to run benchmarks")
	}
	batch := mlos.BatchOptions{MaxBatchSize: 32, MaxQueueDelay: time.Duration(envInt("BENCH_QUEUE_DELAY_US", 0)) * time.Microsecond, Executors: envInt("BENCH_EXECUTORS", 1)}

	part := os.Getenv("BENCH_PART") // "overhead", "batching" or both
	// 1. Overhead: a small model, where the serving path is most of the time.
	in, hidden, out := envInt("BENCH_IN", 64), envInt("BENCH_HIDDEN", 256), envInt("BENCH_OUT", 10)
	if part != "batching" {
		overhead(t, in, hidden, out, batch)
	}
	if part == "overhead" {
		return
	}
	batching(t, batch)
}

func overhead(t *testing.T, in, hidden, out int, batch mlos.BatchOptions) {
	s := newSuite(t, in, hidden, out, batch)
	fmt.Printf("\n== overhead: MLP %d→%d→%d float32, ONNX Runtime %s, intra-op threads %d, %d CPUs, %s per cell\n",
		in, hidden, out, ort.RuntimeVersion(), s.intra, runtime.NumCPU(), s.dur)
	var cells []cell
	for _, c := range concurrencies() {
		cells = append(cells,
			cell{"raw onnxruntime_go Run", c, s.raw, ""},
			cell{"HTTP floor, seed body", c, s.floorSeed, s.floor},
			cell{"HTTP floor, v2 body", c, s.floorV2, s.floor},
			cell{"mlosd seed API", c, s.seed(s.plain), s.plain},
			cell{"mlosd v2 API", c, s.v2(s.plain), s.plain},
			cell{"mlosd seed API + batching", c, s.seed(s.batched), s.batched},
			cell{"mlosd v2 API + batching", c, s.v2(s.batched), s.batched},
		)
		cells = append(cells, s.baselineCells(c)...)
	}
	s.run(cells)
	raw := s.results["raw onnxruntime_go Run/1"]
	fmt.Printf("mlosd in its own process; the HTTP floor is a trivial Go server in another process, same client and body\n")
	for _, api := range []struct{ name, floor string }{{"seed API", "seed body"}, {"v2 API", "v2 body"}} {
		fl := s.results["HTTP floor, "+api.floor+"/1"]
		for _, variant := range []string{"", " + batching"} {
			r := s.results["mlosd "+api.name+variant+"/1"]
			over := r.p50 - (raw.p50 + fl.p50)
			verdict := "meets"
			if over > 50*time.Microsecond {
				verdict = "MISSES"
			}
			fmt.Printf("overhead, %s%s, concurrency 1: mlosd p50 %s − (raw Run p50 %s + floor p50 %s) = %s = %.2fx the 50µs goal (%s); server CPU/request %s vs floor %s (+%s)\n",
				api.name, variant, r.p50.Round(time.Microsecond), raw.p50.Round(time.Microsecond), fl.p50.Round(time.Microsecond), over.Round(time.Microsecond), float64(over)/float64(50*time.Microsecond), verdict,
				r.cpuPerReq.Round(time.Microsecond), fl.cpuPerReq.Round(time.Microsecond), (r.cpuPerReq - fl.cpuPerReq).Round(time.Microsecond))
		}
	}
	s.compareBaseline(1)
	for _, api := range []string{"seed API", "v2 API"} {
		off, on := s.results["mlosd "+api+"/1"], s.results["mlosd "+api+" + batching/1"]
		fmt.Printf("batching at concurrency 1, %s: p50 %s → %s (%+dµs, goal ≤ +10µs)\n", api, off.p50.Round(time.Microsecond), on.p50.Round(time.Microsecond), (on.p50 - off.p50).Microseconds())
	}
}

// batching compares throughput with and without dynamic batching on a model
// whose single-row run is memory-bound (the weights are read once per
// execution), as larger models are at batch size 1.
func batching(t *testing.T, batch mlos.BatchOptions) {
	in, hidden, out := envInt("BENCH_BATCH_IN", 64), envInt("BENCH_BATCH_HIDDEN", 65536), envInt("BENCH_OUT", 10)
	b := newSuite(t, in, hidden, out, batch)
	fmt.Printf("\n== dynamic batching (max %d rows, queue delay %s, %d executors): MLP %d→%d→%d float32 (%.1f MB of weights), concurrency 16\n",
		batch.MaxBatchSize, batch.MaxQueueDelay, batch.Executors, in, hidden, out, float64(4*(in*hidden+hidden*out))/1e6)
	b.run(append([]cell{
		{"raw onnxruntime_go Run", 16, b.raw, ""},
		{"mlosd seed API", 16, b.seed(b.plain), b.plain},
		{"mlosd seed API + batching", 16, b.seed(b.batched), b.batched},
		{"mlosd v2 API", 16, b.v2(b.plain), b.plain},
		{"mlosd v2 API + batching", 16, b.v2(b.batched), b.batched},
	}, b.baselineCells(16)...))
	for _, api := range []string{"seed API", "v2 API"} {
		off, on := b.results["mlosd "+api+"/16"], b.results["mlosd "+api+" + batching/16"]
		fmt.Printf("dynamic batching, %s, concurrency 16: %.0f → %.0f req/s (%.2fx, goal ≥ 2.5x)\n", api, off.throughput, on.throughput, on.throughput/off.throughput)
	}
	b.compareBaseline(16)
}

// compareBaseline prints this build against BENCH_BASELINE_MLOSD, measured
// in the same rounds: p50 at concurrency 1, throughput at 16.
func (s *suite) compareBaseline(conc int) {
	if s.basePlain == "" {
		return
	}
	for _, v := range []string{"seed API", "v2 API", "seed API + batching", "v2 API + batching"} {
		before, after := s.results[fmt.Sprintf("baseline %s/%d", v, conc)], s.results[fmt.Sprintf("mlosd %s/%d", v, conc)]
		fmt.Printf("this build vs baseline, %s, concurrency %d: p50 %s → %s (%+dµs), %.0f → %.0f req/s (%.2fx), server CPU/request %s → %s\n", v, conc,
			before.p50.Round(time.Microsecond), after.p50.Round(time.Microsecond), (after.p50 - before.p50).Microseconds(),
			before.throughput, after.throughput, after.throughput/before.throughput,
			before.cpuPerReq.Round(time.Microsecond), after.cpuPerReq.Round(time.Microsecond))
	}
}

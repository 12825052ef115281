// Package generate_bench measures text generation in one run: mlosd (a
// separate process) streaming over the seed API and /v1/chat/completions,
// against a raw Go loop over onnxruntime_go with the same KV-cache handling
// and against transformers.js (when installed), on the same decoder; time to
// first token; 1, 4 and 8 concurrent streams; and the cost of 200 new
// tokens against 40.
//
//	AXON_BENCH=1 go test -count=1 -v -timeout 30m ./bench/generate
package generate_bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mlos-foundation/axon/internal/ort"
	"github.com/mlos-foundation/axon/internal/testutil"
	"github.com/mlos-foundation/axon/mlos/mlostest"
	"github.com/mlos-foundation/axon/mlos/tokenizer"
	ortgo "github.com/yalue/onnxruntime_go"
)

const (
	prompt = "Hello world, this is a benchmark of text generation"
	newTok = 200
	reps   = 5
)

const chatTemplate = `{{ bos_token }}{% for m in messages %}[{{ m['role'] }}] {{ m['content'] }}
{% endfor %}{% if add_generation_prompt %}[assistant]{% endif %}`

type run struct {
	total, first time.Duration
	tokens       int
}

func (r run) tps() float64 { return float64(r.tokens) / r.total.Seconds() }

func median(runs []run) run {
	sort.Slice(runs, func(i, j int) bool { return runs[i].total < runs[j].total })
	return runs[len(runs)/2]
}

func TestGenerateBench(t *testing.T) {
	if os.Getenv("AXON_BENCH") == "" {
		t.Skip("benchmark: set AXON_BENCH=1 (go tool task bench:generate)")
	}
	dir := mlostest.BenchDecoderFixture(t)
	read := func(n string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tcfg, _ := json.Marshal(map[string]any{"bos_token": "<s>", "eos_token": "</s>", "chat_template": chatTemplate})
	layout := t.TempDir()
	mlostest.Package{Namespace: "bench", Name: "decoder", Version: "1", Task: "text-generation", Model: read("bench.onnx"),
		Files: map[string][]byte{"tokenizer.json": read("tokenizer.json"), "config.json": read("config.json"), "tokenizer_config.json": tcfg}}.Layout(t, layout, "bench")

	lib := testutil.ORTLibrary(t)
	addr := testutil.FreeAddr(t)
	// BENCH_MLOSD_FLAGS adds mlosd flags (e.g. "--intra-op-threads 2") for
	// comparing settings.
	args := append([]string{"--addr", addr, "--data", t.TempDir(), "--max-new-tokens", "512", "--log-level", "warn", "--allow-layout", os.TempDir()},
		strings.Fields(os.Getenv("BENCH_MLOSD_FLAGS"))...)
	p := testutil.Start(t, []string{"ONNXRUNTIME_LIB=" + lib}, testutil.Build(t, "github.com/mlos-foundation/axon/cmd/mlosd"), args...)
	// A graceful stop lets mlosd write a --cpu-profile; Start's cleanup kills it after.
	t.Cleanup(func() {
		p.Cmd.Process.Signal(syscall.SIGTERM)
		for end := time.Now().Add(10 * time.Second); time.Now().Before(end) && p.Cmd.Process.Signal(syscall.Signal(0)) == nil; {
			time.Sleep(20 * time.Millisecond)
		}
	})
	base := "http://" + addr
	testutil.WaitHTTP(t, base+"/healthz", 30*time.Second)
	b, _ := json.Marshal(map[string]string{"ref": "oci-layout://" + layout + ":bench"})
	resp, err := http.Post(base+"/models", "application/json", bytes.NewReader(b))
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("register: %v %v", err, resp)
	}
	resp.Body.Close()

	tok, err := tokenizer.FromFile(filepath.Join(dir, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	ids := tok.Encode(prompt, true).IDs

	// Raw onnxruntime_go loop in this process, same cache handling.
	if err := ort.Init(lib); err != nil {
		t.Fatal(err)
	}
	raw := newRawLoop(t, filepath.Join(dir, "bench.onnx"))
	defer raw.close()
	seedBody := func(n int) map[string]any {
		return map[string]any{"input": prompt, "stream": true, "parameters": map[string]any{"max_new_tokens": n, "min_new_tokens": n, "temperature": 0}}
	}
	chatBody := map[string]any{"model": "bench/decoder", "messages": []map[string]string{{"role": "user", "content": prompt}}, "max_tokens": newTok, "min_tokens": newTok, "temperature": 0, "stream": true, "stream_options": map[string]bool{"include_usage": true}}
	raw.generate(t, ids, 8) // warm-up
	stream(t, base+"/models/bench/decoder/inference", seedBody(8))
	// Interleaved, so that a busy machine slows every contender alike.
	var rawRuns, seedRuns, chatRuns []run
	// ONNX Runtime's threads spin for a while after a run; a pause between
	// contenders keeps one process's spinning from slowing the other.
	quiet := func() { time.Sleep(150 * time.Millisecond) }
	for range reps {
		quiet()
		rawRuns = append(rawRuns, raw.generate(t, ids, newTok))
		quiet()
		seedRuns = append(seedRuns, stream(t, base+"/models/bench/decoder/inference", seedBody(newTok)))
		quiet()
		chatRuns = append(chatRuns, stream(t, base+"/v1/chat/completions", chatBody))
	}
	rawRun, seedRun, chatRun := median(rawRuns), median(seedRuns), median(chatRuns)

	// Concurrent streams: aggregate tokens/s.
	conc := map[int]float64{}
	for _, n := range []int{1, 4, 8} {
		var wg sync.WaitGroup
		start := time.Now()
		var mu sync.Mutex
		tokens := 0
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 2 {
					r := stream(t, base+"/models/bench/decoder/inference", seedBody(newTok))
					mu.Lock()
					tokens += r.tokens
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		conc[n] = float64(tokens) / time.Since(start).Seconds()
	}

	// 200 vs 40 new tokens (seed API, streamed).
	var r40, r200, raw40, raw200 []run
	for range reps {
		quiet()
		r40 = append(r40, stream(t, base+"/models/bench/decoder/inference", seedBody(40)))
		r200 = append(r200, stream(t, base+"/models/bench/decoder/inference", seedBody(200)))
		quiet()
		raw40 = append(raw40, raw.generate(t, ids, 40))
		raw200 = append(raw200, raw.generate(t, ids, 200))
	}
	c40, c200 := median(r40).total, median(r200).total
	rc40, rc200 := median(raw40).total, median(raw200).total

	tjs, tjsErr := transformersJS(t, dir, ids)

	t.Logf("decoder: 4 layers, hidden 256, 8 heads / 4 kv heads, vocab 912; prompt %d tokens, %d new tokens, greedy, median of %d; %d CPUs", len(ids), newTok, reps, runtime.NumCPU())
	t.Logf("%-44s %10s %10s", "", "tokens/s", "TTFT")
	t.Logf("%-44s %10.0f %10s", "raw onnxruntime_go loop (in process)", rawRun.tps(), rawRun.first.Round(10*time.Microsecond))
	t.Logf("%-44s %10.0f %10s   %.2fx raw", "mlosd seed API, SSE stream", seedRun.tps(), seedRun.first.Round(10*time.Microsecond), seedRun.tps()/rawRun.tps())
	t.Logf("%-44s %10.0f %10s   %.2fx raw (%d tokens)", "mlosd /v1/chat/completions, stream", chatRun.tps(), chatRun.first.Round(10*time.Microsecond), chatRun.tps()/rawRun.tps(), chatRun.tokens)
	if tjsErr == nil {
		t.Logf("%-44s %10.0f %10s   mlosd seed = %.2fx transformers.js", "transformers.js (onnxruntime-node)", tjs.tps(), "-", seedRun.tps()/tjs.tps())
	} else {
		t.Logf("transformers.js: not measured: %v", tjsErr)
	}
	for _, n := range []int{1, 4, 8} {
		t.Logf("%d concurrent streams: %8.0f tokens/s aggregate (%.2fx one stream)", n, conc[n], conc[n]/conc[1])
	}
	t.Logf("200 vs 40 new tokens: mlosd %s vs %s = %.2fx; raw loop %s vs %s = %.2fx (linear would be 5x)", c200.Round(time.Millisecond), c40.Round(time.Millisecond), float64(c200)/float64(c40),
		rc200.Round(time.Millisecond), rc40.Round(time.Millisecond), float64(rc200)/float64(rc40))
}

// stream runs one streaming request and counts token events.
func stream(t *testing.T, url string, body any) run {
	t.Helper()
	b, _ := json.Marshal(body)
	start := time.Now()
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		var e bytes.Buffer
		e.ReadFrom(resp.Body)
		t.Fatalf("%s: %d %s", url, resp.StatusCode, e.String())
	}
	var r run
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		d, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			continue
		}
		// The first token event (seed) or content chunk (OpenAI) is the
		// first token; the count comes from the usage the server reports.
		if r.first == 0 && (strings.HasPrefix(d, `{"token"`) || strings.Contains(d, `"content":`) && !strings.Contains(d, `"role":"assistant"`)) {
			r.first = time.Since(start)
		}
		var usage struct {
			CompletionTokens int `json:"completion_tokens"`
			Usage            *struct {
				CompletionTokens int `json:"completion_tokens"`
			} `json:"usage"`
		}
		if strings.Contains(d, `"completion_tokens"`) && json.Unmarshal([]byte(d), &usage) == nil {
			r.tokens = usage.CompletionTokens
			if usage.Usage != nil {
				r.tokens = usage.Usage.CompletionTokens
			}
		}
	}
	if r.tokens == 0 {
		t.Fatalf("%s: no usage in the stream", url)
	}
	r.total = time.Since(start)
	return r
}

// rawLoop is the peer: onnxruntime_go driven directly, prefill then one
// token per step, present.* fed back as past_key_values.*, outputs
// preallocated (the cache in two reused buffers per slot), greedy argmax.
type rawLoop struct {
	s        *ortgo.DynamicAdvancedSession
	inNames  []string
	outNames []string
	layers   int
}

const (
	kvHeads = 4
	headDim = 32
	vocab   = 912
)

func newRawLoop(t *testing.T, path string) *rawLoop {
	ins, outs, err := ortgo.GetInputOutputInfo(path)
	if err != nil {
		t.Fatal(err)
	}
	r := &rawLoop{}
	for _, i := range ins {
		r.inNames = append(r.inNames, i.Name)
	}
	for _, o := range outs {
		r.outNames = append(r.outNames, o.Name)
	}
	r.layers = (len(ins) - 3) / 2
	// The session options mlosd uses by default: intra-op threads that
	// sleep rather than spin between runs (its --intra-op-spin is off).
	opts, err := ortgo.NewSessionOptions()
	if err != nil {
		t.Fatal(err)
	}
	defer opts.Destroy()
	if err := opts.AddSessionConfigEntry("session.intra_op.allow_spinning", "0"); err != nil {
		t.Fatal(err)
	}
	r.s, err = ortgo.NewDynamicAdvancedSession(path, r.inNames, r.outNames, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *rawLoop) close() { r.s.Destroy() }

func (r *rawLoop) generate(t *testing.T, prompt []int64, n int) run {
	start := time.Now()
	var res run
	past := make([]ortgo.Value, 2*r.layers)
	for i := range past {
		v, _ := ortgo.NewTensor(ortgo.Shape{1, kvHeads, 0, headDim}, []float32{})
		past[i] = v
	}
	// Two buffers per cache slot, alternating between past and present, as
	// mlosd keeps them: no cache memory is allocated per step.
	bufs := make([][2][]float32, len(past))
	for i := range bufs {
		for j := range bufs[i] {
			bufs[i][j] = make([]float32, kvHeads*(int64(len(prompt)+n))*headDim)
		}
	}
	cur := 0
	feed, pastLen := prompt, int64(0)
	for res.tokens < n {
		m := int64(len(feed))
		total := pastLen + m
		idsT, _ := ortgo.NewTensor(ortgo.Shape{1, m}, append([]int64(nil), feed...))
		mask := make([]int64, total)
		for i := range mask {
			mask[i] = 1
		}
		maskT, _ := ortgo.NewTensor(ortgo.Shape{1, total}, mask)
		pos := make([]int64, m)
		for i := range pos {
			pos[i] = pastLen + int64(i)
		}
		posT, _ := ortgo.NewTensor(ortgo.Shape{1, m}, pos)
		ins := append([]ortgo.Value{idsT, maskT, posT}, past...)
		logits, _ := ortgo.NewTensor(ortgo.Shape{1, m, vocab}, make([]float32, m*vocab))
		outs := []ortgo.Value{logits}
		for i := range past {
			v, _ := ortgo.NewTensor(ortgo.Shape{1, kvHeads, total, headDim}, bufs[i][1-cur][:kvHeads*total*headDim])
			outs = append(outs, v)
		}
		if err := r.s.Run(ins, outs); err != nil {
			t.Fatal(err)
		}
		last := logits.GetData()[(m-1)*vocab:]
		best := 0
		for i, x := range last {
			if x > last[best] {
				best = i
			}
		}
		if res.tokens == 0 {
			res.first = time.Since(start)
		}
		res.tokens++
		idsT.Destroy()
		maskT.Destroy()
		posT.Destroy()
		logits.Destroy()
		for i := range past {
			past[i].Destroy()
			past[i] = outs[1+i]
		}
		feed, pastLen, cur = []int64{int64(best)}, total, 1-cur
	}
	for _, v := range past {
		v.Destroy()
	}
	res.total = time.Since(start)
	return res
}

// transformersJS runs bench/generate/transformersjs.mjs when
// scripts/install-npm-transformers.sh has installed @huggingface/transformers.
func transformersJS(t *testing.T, dir string, ids []int64) (run, error) {
	mod := filepath.Join(testutil.ToolsDir(), "npm", "transformers-4.3.2")
	if _, err := os.Stat(filepath.Join(mod, "node_modules", "@huggingface", "transformers", "package.json")); err != nil {
		return run{}, fmt.Errorf("@huggingface/transformers is not installed (scripts/install-npm-transformers.sh)")
	}
	node := testutil.LookTool("node")
	if node == "" {
		return run{}, fmt.Errorf("no node")
	}
	// transformers.js reads a model folder: config.json, tokenizer files, onnx/model.onnx.
	models := t.TempDir()
	md := filepath.Join(models, "bench", "decoder")
	os.MkdirAll(filepath.Join(md, "onnx"), 0o755)
	for _, f := range []string{"config.json", "tokenizer.json"} {
		b, _ := os.ReadFile(filepath.Join(dir, f))
		os.WriteFile(filepath.Join(md, f), b, 0o644)
	}
	os.WriteFile(filepath.Join(md, "tokenizer_config.json"), []byte(`{"bos_token":"<s>","eos_token":"</s>","tokenizer_class":"LlamaTokenizer"}`), 0o644)
	b, _ := os.ReadFile(filepath.Join(dir, "bench.onnx"))
	os.WriteFile(filepath.Join(md, "onnx", "model.onnx"), b, 0o644)
	_, self, _, _ := runtime.Caller(0)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	idsJSON, _ := json.Marshal(ids)
	cmd := exec.CommandContext(ctx, node, filepath.Join(filepath.Dir(self), "transformersjs.mjs"))
	cmd.Env = append(os.Environ(), "TJS_DIR="+mod, "MODELS="+models, "PROMPT_IDS="+string(idsJSON), fmt.Sprintf("NEW_TOKENS=%d", newTok), fmt.Sprintf("REPS=%d", reps))
	out, err := cmd.CombinedOutput()
	if err != nil {
		return run{}, fmt.Errorf("%v: %s", err, lastLines(string(out), 5))
	}
	var res struct {
		MedianMs float64 `json:"median_ms"`
		Tokens   int     `json:"tokens"`
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil || res.Tokens == 0 {
		return run{}, fmt.Errorf("transformers.js output: %s", lastLines(string(out), 5))
	}
	return run{total: time.Duration(res.MedianMs * float64(time.Millisecond)), tokens: res.Tokens}, nil
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

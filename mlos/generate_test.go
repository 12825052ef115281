package mlos_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mlos-foundation/axon/mlos"
	"github.com/mlos-foundation/axon/mlos/mlostest"
)

func intp(v int) *int         { return &v }
func f64p(v float64) *float64 { return &v }
func i64p(v int64) *int64     { return &v }
func boolp(v bool) *bool      { return &v }
func greedy() *float64        { return f64p(0) }

// TestGenerateMatchesTorch: every decoder variant, with and without a KV
// cache, generates greedily what torch generates recomputing the whole
// sequence without a cache.
func TestGenerateMatchesTorch(t *testing.T) {
	dir, ref := mlostest.DecoderFixture(t)
	m := newManager(t, t.TempDir(), mlos.BatchOptions{MaxBatchSize: 8})
	for _, c := range []struct {
		variant string
		want    [][]int64
		cached  bool
	}{
		{"nocache", ref.MHA, false},
		{"cache", ref.MHA, true},
		{"merged", ref.MHA, true},
		{"gqa", ref.GQA, true},
		{"fp16", ref.FP16, true},
	} {
		t.Run(c.variant, func(t *testing.T) {
			model := serve(t, m, mlostest.DecoderPackage(t, dir, c.variant, "dec-"+c.variant, nil))
			if model.HasKVCache() != c.cached {
				t.Fatalf("HasKVCache = %v, want %v", model.HasKVCache(), c.cached)
			}
			for i, p := range ref.Prompts {
				res, err := model.Generate(context.Background(), mlos.GenerateRequest{PromptIDs: p, Params: mlos.GenerateParams{MaxNewTokens: intp(ref.MaxNewTokens)}}, nil)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(res.TokenIDs, c.want[i]) {
					t.Fatalf("prompt %d: %v, want %v", i, res.TokenIDs, c.want[i])
				}
				wantReason := mlos.FinishLength
				if len(c.want[i]) < ref.MaxNewTokens {
					wantReason = mlos.FinishStop
				}
				if res.FinishReason != wantReason || res.CompletionTokens != len(c.want[i]) || res.PromptTokens != len(p) {
					t.Fatalf("prompt %d: finish %q, tokens %d/%d", i, res.FinishReason, res.PromptTokens, res.CompletionTokens)
				}
			}
			// Text in, text out through the seed API's pipeline: the
			// package's tokenizer.json is found (the "has no tokenizer" bug).
			out, _, err := model.InferText(context.Background(), mlostest.DecoderPrompts[0], map[string]any{"max_new_tokens": 5.0})
			if err != nil {
				t.Fatal(err)
			}
			g := out.(mlos.Generation)
			if !slices.Equal(g.TokenIDs, c.want[0][:5]) || !strings.HasPrefix(g.GeneratedText, mlostest.DecoderPrompts[0]) {
				t.Fatalf("seed generation %v %q, want %v", g.TokenIDs, g.GeneratedText, c.want[0][:5])
			}
			waitNoLiveValues(t)
		})
	}
}

// TestSampling: the same seed gives the same tokens; parameters change them.
func TestSampling(t *testing.T) {
	dir, ref := mlostest.DecoderFixture(t)
	m := newManager(t, t.TempDir(), mlos.BatchOptions{})
	model := serve(t, m, mlostest.DecoderPackage(t, dir, "cache", "dec", nil))
	ctx := context.Background()
	run := func(p mlos.GenerateParams) []int64 {
		t.Helper()
		p.MaxNewTokens = intp(16)
		res, err := model.Generate(ctx, mlos.GenerateRequest{PromptIDs: ref.Prompts[0], Params: p}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res.TokenIDs
	}
	a := run(mlos.GenerateParams{Temperature: f64p(1.5), Seed: i64p(7)})
	b := run(mlos.GenerateParams{Temperature: f64p(1.5), Seed: i64p(7)})
	c := run(mlos.GenerateParams{Temperature: f64p(1.5), Seed: i64p(8)})
	if !slices.Equal(a, b) {
		t.Fatalf("same seed, different tokens: %v vs %v", a, b)
	}
	if slices.Equal(a, c) {
		t.Fatalf("seeds 7 and 8 gave the same 16 tokens %v", a)
	}
	if slices.Equal(a, ref.MHA[0][:16]) {
		t.Fatalf("sampling at temperature 1.5 gave the greedy tokens")
	}
	// top_k 1 is greedy whatever the temperature; temperature 0 is greedy.
	if got := run(mlos.GenerateParams{Temperature: f64p(2), TopK: intp(1), Seed: i64p(3)}); !slices.Equal(got, ref.MHA[0][:16]) {
		t.Fatalf("top_k 1: %v, want greedy %v", got, ref.MHA[0][:16])
	}
	if got := run(mlos.GenerateParams{Temperature: f64p(0), Seed: i64p(3)}); !slices.Equal(got, ref.MHA[0][:16]) {
		t.Fatalf("temperature 0: %v, want greedy", got)
	}
	if got := run(mlos.GenerateParams{Temperature: f64p(1), DoSample: boolp(false)}); !slices.Equal(got, ref.MHA[0][:16]) {
		t.Fatalf("do_sample false: %v, want greedy", got)
	}
	// A strong repetition penalty never repeats a token the greedy run repeats.
	pen := run(mlos.GenerateParams{RepetitionPenalty: f64p(1000)})
	seen := map[int64]bool{}
	for _, id := range append(slices.Clone(ref.Prompts[0]), pen...) {
		if seen[id] && slices.Contains(pen, id) {
			t.Fatalf("repetition penalty 1000 repeated %d: %v", id, pen)
		}
		seen[id] = true
	}
	// eos_token_id as a list stops at the first of them; min_new_tokens holds it off.
	stopAt := ref.MHA[0][3]
	res, err := model.Generate(ctx, mlos.GenerateRequest{PromptIDs: ref.Prompts[0], Params: mlos.GenerateParams{MaxNewTokens: intp(16), EOSTokenID: mlos.TokenIDs{999, stopAt}}}, nil)
	if err != nil || !slices.Equal(res.TokenIDs, ref.MHA[0][:3]) || res.FinishReason != mlos.FinishStop {
		t.Fatalf("eos list: %v %v %v", res, err, ref.MHA[0][:4])
	}
	res, err = model.Generate(ctx, mlos.GenerateRequest{PromptIDs: ref.Prompts[0], Params: mlos.GenerateParams{MaxNewTokens: intp(8), MinNewTokens: intp(8), EOSTokenID: mlos.TokenIDs{stopAt}}}, nil)
	if err != nil || len(res.TokenIDs) != 8 || slices.Contains(res.TokenIDs, stopAt) {
		t.Fatalf("min_new_tokens: %v %v", res, err)
	}
}

// TestStopStrings: generation ends at a stop string, which is not part of the text.
func TestStopStrings(t *testing.T) {
	dir, ref := mlostest.DecoderFixture(t)
	m := newManager(t, t.TempDir(), mlos.BatchOptions{})
	model := serve(t, m, mlostest.DecoderPackage(t, dir, "cache", "dec", nil))
	ctx := context.Background()
	full, err := model.Generate(ctx, mlos.GenerateRequest{PromptIDs: ref.Prompts[0], Params: mlos.GenerateParams{MaxNewTokens: intp(24)}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(full.Text) < 12 {
		t.Fatalf("completion %q too short to test stop strings", full.Text)
	}
	stop := full.Text[len(full.Text)/2 : len(full.Text)/2+3]
	var streamed strings.Builder
	res, err := model.Generate(ctx, mlos.GenerateRequest{PromptIDs: ref.Prompts[0], Params: mlos.GenerateParams{MaxNewTokens: intp(24), Stop: []string{"never-there", stop}}}, func(tok mlos.Token) error {
		streamed.WriteString(tok.Text)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := full.Text[:strings.Index(full.Text, stop)]
	if res.Text != want || res.FinishReason != mlos.FinishStop || streamed.String() != want {
		t.Fatalf("stop %q: text %q streamed %q (%s), want %q", stop, res.Text, streamed.String(), res.FinishReason, want)
	}
	// Streaming without stop strings gives the same text as the whole decode.
	streamed.Reset()
	res, err = model.Generate(ctx, mlos.GenerateRequest{PromptIDs: ref.Prompts[0], Params: mlos.GenerateParams{MaxNewTokens: intp(24)}}, func(tok mlos.Token) error {
		streamed.WriteString(tok.Text)
		return nil
	})
	if err != nil || streamed.String() != full.Text || res.Text != full.Text {
		t.Fatalf("streamed %q, want %q (%v)", streamed.String(), full.Text, err)
	}
}

// TestGenerateBadInput: client mistakes are 400s, undrivable caches 422s at register.
func TestGenerateBadInput(t *testing.T) {
	dir, ref := mlostest.DecoderFixture(t)
	m := newManager(t, t.TempDir(), mlos.BatchOptions{})
	model := serve(t, m, mlostest.DecoderPackage(t, dir, "cache", "dec", nil))
	ctx := context.Background()
	long := make([]int64, 200)
	for i := range long {
		long[i] = 5
	}
	for _, c := range []struct {
		req mlos.GenerateRequest
		say string
	}{
		{mlos.GenerateRequest{PromptIDs: long}, "200 tokens long, longer than the model's 128 positions"},
		{mlos.GenerateRequest{PromptIDs: ref.Prompts[0], Params: mlos.GenerateParams{MaxNewTokens: intp(100000)}}, "above this server's cap"},
		{mlos.GenerateRequest{PromptIDs: ref.Prompts[0], Params: mlos.GenerateParams{TopP: f64p(0)}}, "top_p must be in"},
		{mlos.GenerateRequest{PromptIDs: ref.Prompts[0], Params: mlos.GenerateParams{Temperature: f64p(-1)}}, "temperature must be"},
		{mlos.GenerateRequest{PromptIDs: ref.Prompts[0], Params: mlos.GenerateParams{Stop: []string{""}}}, "stop strings must not be empty"},
	} {
		_, err := model.Generate(ctx, c.req, nil)
		if mlos.StatusOf(err) != 400 || !strings.Contains(err.Error(), c.say) {
			t.Errorf("%+v: %v, want 400 saying %q", c.req.Params, err, c.say)
		}
	}
	// Near the end of the positions, generation stops at the last one.
	res, err := model.Generate(ctx, mlos.GenerateRequest{PromptIDs: long[:126], Params: mlos.GenerateParams{MaxNewTokens: intp(10), MinNewTokens: intp(10)}}, nil)
	if err != nil || len(res.TokenIDs) != 2 || res.FinishReason != mlos.FinishLength {
		t.Fatalf("at the end of the positions: %+v %v", res, err)
	}
	// A cancelled context stops the generation within a step and frees its
	// cache. Tokens reach emit from a writer of their own, so the generation
	// may be ahead of emit when the cancel comes; what counts is the steps
	// run after it.
	cctx, cancel := context.WithCancel(ctx)
	n, atCancel := 0, int64(0)
	res, err = model.Generate(cctx, mlos.GenerateRequest{PromptIDs: ref.Prompts[0], Params: mlos.GenerateParams{MaxNewTokens: intp(120), MinNewTokens: intp(120)}}, func(mlos.Token) error {
		n++
		if n == 3 {
			atCancel = mlos.DecodeSteps()
			cancel()
		}
		return nil
	})
	if after := mlos.DecodeSteps() - atCancel; after > 1 {
		t.Fatalf("%d decode steps ran after the cancel", after)
	}
	if err == nil && len(res.TokenIDs) != 120 {
		t.Fatalf("cancelled generation: %d tokens and no error", len(res.TokenIDs))
	}
	t.Logf("cancelled at emitted token 3: generation ended after %d tokens (%v)", len(res.TokenIDs), err)
	waitNoLiveValues(t)
	// A cache input without its present output is refused at register time.
	pkg := mlostest.DecoderPackage(t, dir, "broken", "broken", nil)
	layout := t.TempDir()
	pkg.Layout(t, layout, "v")
	_, err = m.Register(ctx, "oci-layout://"+layout+":v", "")
	if mlos.StatusOf(err) != 422 || !strings.Contains(err.Error(), "past_key_values.1.value has no matching output present.1.value") {
		t.Fatalf("broken cache: %v", err)
	}
}

// TestConcurrentGenerations: concurrent generations share batched decode
// steps (continuous batching: rows join after their prefill and leave when
// done, padded on the left) and still produce exactly the torch tokens;
// cancelled and early-ending rows leave without disturbing the others.
func TestConcurrentGenerations(t *testing.T) {
	dir, ref := mlostest.DecoderFixture(t)
	m := newManager(t, t.TempDir(), mlos.BatchOptions{MaxBatchSize: 8})
	for _, c := range []struct {
		variant string
		want    [][]int64
	}{{"cache", ref.MHA}, {"gqa", ref.GQA}, {"fp16", ref.FP16}, {"merged", ref.MHA}} {
		t.Run(c.variant, func(t *testing.T) {
			model := serve(t, m, mlostest.DecoderPackage(t, dir, c.variant, "con-"+c.variant, nil))
			runs0, rows0 := mlos.BatchedDecodeSteps()
			const n = 8
			errs := make(chan error, n+1)
			ctx, cancel := context.WithCancel(context.Background())
			// One generation is cancelled mid-way.
			go func() {
				k := 0
				_, err := model.Generate(ctx, mlos.GenerateRequest{PromptIDs: ref.Prompts[0], Params: mlos.GenerateParams{MaxNewTokens: intp(24), MinNewTokens: intp(24)}}, func(mlos.Token) error {
					if k++; k == 4 {
						cancel()
					}
					return nil
				})
				if err == nil {
					errs <- errors.New("the cancelled generation did not fail")
					return
				}
				errs <- nil
			}()
			for i := 0; i < n; i++ {
				go func() {
					p := i % len(ref.Prompts)
					max := ref.MaxNewTokens
					if i == 3 {
						max = 5 // leaves the batch early
					}
					res, err := model.Generate(context.Background(), mlos.GenerateRequest{PromptIDs: ref.Prompts[p], Params: mlos.GenerateParams{MaxNewTokens: intp(max)}}, nil)
					if err != nil {
						errs <- err
						return
					}
					want := c.want[p]
					if len(want) > max {
						want = want[:max]
					}
					if !slices.Equal(res.TokenIDs, want) {
						errs <- fmt.Errorf("generation %d (prompt %d): %v, want %v", i, p, res.TokenIDs, want)
						return
					}
					errs <- nil
				}()
			}
			for i := 0; i < n+1; i++ {
				if err := <-errs; err != nil {
					t.Error(err)
				}
			}
			runs, rows := mlos.BatchedDecodeSteps()
			runs, rows = runs-runs0, rows-rows0
			// How many rows share a step depends on scheduling (a loaded machine can
			// run the generations almost one after another), so the test asks only
			// that some decode step carried rows of several requests.
			if runs == 0 || rows <= runs {
				t.Errorf("%d batched executions held %d rows: decode steps were not batched", runs, rows)
			}
			t.Logf("%d batched executions, %.1f rows each", runs, float64(rows)/float64(runs))
			waitNoLiveValues(t)
		})
	}
}

// waitNoLiveValues waits for the batch scheduler, which frees a finished
// row's share of the cache just after the row's generation returns.
func waitNoLiveValues(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for mlos.LiveDecodeValues() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d ONNX Runtime values still held after the generations ended", mlos.LiveDecodeValues())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestSlowClientDoesNotStall: a generation whose consumer blocks (a client
// that stops reading its stream) holds back neither its own decode steps
// nor another generation batched with it.
func TestSlowClientDoesNotStall(t *testing.T) {
	dir, ref := mlostest.DecoderFixture(t)
	m := newManager(t, t.TempDir(), mlos.BatchOptions{MaxBatchSize: 8})
	model := serve(t, m, mlostest.DecoderPackage(t, dir, "cache", "slow", nil))
	ctx := context.Background()
	block, blocked := make(chan struct{}), make(chan struct{})
	aDone := make(chan *mlos.GenerateResult, 1)
	go func() {
		n := 0
		res, err := model.Generate(ctx, mlos.GenerateRequest{PromptIDs: ref.Prompts[0], Params: mlos.GenerateParams{MaxNewTokens: intp(ref.MaxNewTokens)}}, func(mlos.Token) error {
			if n++; n == 3 {
				close(blocked)
				<-block // the client stops reading
			}
			return nil
		})
		if err != nil {
			t.Error(err)
		}
		aDone <- res
	}()
	<-blocked
	bDone := make(chan error, 1)
	go func() {
		res, err := model.Generate(ctx, mlos.GenerateRequest{PromptIDs: ref.Prompts[1], Params: mlos.GenerateParams{MaxNewTokens: intp(ref.MaxNewTokens)}}, nil)
		if err == nil && !slices.Equal(res.TokenIDs, ref.MHA[1]) {
			err = fmt.Errorf("generation B: %v, want %v", res.TokenIDs, ref.MHA[1])
		}
		bDone <- err
	}()
	select {
	case err := <-bDone:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("generation B is stalled behind A's blocked consumer")
	}
	close(block)
	if res := <-aDone; res == nil || !slices.Equal(res.TokenIDs, ref.MHA[0]) {
		t.Fatalf("generation A: %+v, want %v", res, ref.MHA[0])
	}
	waitNoLiveValues(t)
}

// TestLoneGenerationSkipsBatchScheduler: a generation that is the only one
// on a batching model decodes on its own cache (no batched execution, no
// hand-off per step), gives the torch reference's tokens and frees its values.
func TestLoneGenerationSkipsBatchScheduler(t *testing.T) {
	dir, ref := mlostest.DecoderFixture(t)
	m := newManager(t, t.TempDir(), mlos.BatchOptions{MaxBatchSize: 8})
	model := serve(t, m, mlostest.DecoderPackage(t, dir, "cache", "lone", nil))
	runs0, _ := mlos.BatchedDecodeSteps()
	for i, p := range ref.Prompts {
		res, err := model.Generate(context.Background(), mlos.GenerateRequest{PromptIDs: p, Params: mlos.GenerateParams{MaxNewTokens: intp(ref.MaxNewTokens)}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(res.TokenIDs) != fmt.Sprint(ref.MHA[i]) {
			t.Fatalf("prompt %d: %v, torch %v", i, res.TokenIDs, ref.MHA[i])
		}
	}
	if runs, _ := mlos.BatchedDecodeSteps(); runs != runs0 {
		t.Errorf("lone generations ran %d batched executions", runs-runs0)
	}
	waitNoLiveValues(t)
}

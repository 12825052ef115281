package mlos_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/mlos-foundation/axon/mlos"
	"github.com/mlos-foundation/axon/mlos/mlostest"
)

// Each task has its own pipeline type with a typed API, and the seed API
// answers exactly what that typed API answers.
func TestTypedPipelines(t *testing.T) {
	dir, ref := mlostest.BertFixture(t)
	cls, emb, lm := mlostest.TextPackages(t, dir)
	mask := emb
	mask.Name, mask.Task = "bert-mask", "fill-mask"
	m := newManager(t, t.TempDir(), mlos.BatchOptions{})
	ctx := context.Background()
	text := ref.Sentences[0]
	same := func(what string, typed, seed any) {
		t.Helper()
		a, _ := json.Marshal(typed)
		b, _ := json.Marshal(seed)
		if string(a) != string(b) {
			t.Errorf("%s: typed %s, seed %s", what, a, b)
		}
	}

	model := serve(t, m, cls)
	p, ok := model.Pipeline().(*mlos.ClassificationPipeline)
	if !ok || p.Task() != mlos.TaskTextClassification {
		t.Fatalf("classification model: pipeline %T", model.Pipeline())
	}
	labels, _, err := p.Classify(ctx, model, text, mlos.ClassifyOptions{TopK: 2})
	if err != nil || len(labels) != 2 {
		t.Fatalf("Classify top 2: %v %v", labels, err)
	}
	seed, _, err := model.InferText(ctx, text, map[string]any{"top_k": 2.0})
	if err != nil {
		t.Fatal(err)
	}
	same("classification", labels, seed)
	if _, _, err := p.Classify(ctx, model, text, mlos.ClassifyOptions{TopK: -1}); mlos.StatusOf(err) != 400 {
		t.Errorf("TopK -1: %v, want 400", err)
	}

	model = serve(t, m, emb)
	fe, ok := model.Pipeline().(*mlos.FeatureExtractionPipeline)
	if !ok {
		t.Fatalf("embedding model: pipeline %T", model.Pipeline())
	}
	vec, _, err := fe.Extract(ctx, model, text)
	if err != nil || len(vec) != len(ref.Embeddings[0]) {
		t.Fatalf("Extract: %d values, %v", len(vec), err)
	}
	seed, _, _ = model.InferText(ctx, text, nil)
	same("feature extraction", vec, seed)

	model = serve(t, m, mask)
	tp, ok := model.Pipeline().(*mlos.TensorPipeline)
	if !ok || tp.Task() != "fill-mask" {
		t.Fatalf("fill-mask model: pipeline %T", model.Pipeline())
	}
	outs, _, err := tp.Outputs(ctx, model, text)
	if err != nil || len(outs) == 0 {
		t.Fatalf("Outputs: %v %v", outs, err)
	}
	seed, _, _ = model.InferText(ctx, text, nil)
	same("fill-mask", mlos.RawOutputs(outs), seed)

	model = serve(t, m, lm)
	gp, ok := model.Pipeline().(*mlos.TextGenerationPipeline)
	if !ok {
		t.Fatalf("language model: pipeline %T", model.Pipeline())
	}
	g := ref.Generations[0]
	gen, _, err := gp.Generate(ctx, model, mlos.GenerateRequest{Prompt: g.Prompt, Params: mlos.GenerateParams{MaxNewTokens: &g.MaxNewTokens}})
	if err != nil {
		t.Fatal(err)
	}
	seed, _, _ = model.InferText(ctx, g.Prompt, map[string]any{"max_new_tokens": float64(g.MaxNewTokens)})
	same("generation", gen, seed)
}

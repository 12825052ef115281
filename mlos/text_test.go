package mlos_test

import (
	"context"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mlos-foundation/axon/mlos"
	"github.com/mlos-foundation/axon/mlos/mlostest"
	"github.com/mlos-foundation/axon/mlos/tokenizer"
)

// TestTextPipelines checks text → tokenizer → ONNX Runtime → post-processing
// against torch on a BERT-architecture model and a tiny causal LM.
func TestTextPipelines(t *testing.T) {
	dir, ref := mlostest.BertFixture(t)
	tok, err := tokenizer.FromFile(filepath.Join(dir, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range ref.Sentences {
		if got := tok.Encode(s, true).IDs; !slices.Equal(got, ref.IDs[i]) {
			t.Errorf("ids of %q: %v, want %v", s, got, ref.IDs[i])
		}
	}
	layout := t.TempDir()
	cls, emb, lm := mlostest.TextPackages(t, dir)
	cls.Layout(t, layout, "cls")
	emb.Layout(t, layout, "emb")
	lm.Layout(t, layout, "lm")
	m := newManager(t, t.TempDir(), mlos.BatchOptions{MaxBatchSize: 8})
	ctx := context.Background()
	models := map[string]*mlos.Model{}
	for _, tag := range []string{"cls", "emb", "lm"} {
		model, err := m.Register(ctx, "oci-layout://"+layout+":"+tag, "")
		if err != nil {
			t.Fatal(err)
		}
		models[tag] = model
	}
	for i, s := range ref.Sentences {
		out, _, err := models["cls"].InferText(ctx, s, nil)
		if err != nil {
			t.Fatal(err)
		}
		labels := out.([]mlos.Label)
		if len(labels) != len(ref.Labels) {
			t.Fatalf("%q: %v", s, labels)
		}
		for j, name := range ref.Labels {
			idx := slices.IndexFunc(labels, func(l mlos.Label) bool { return l.Label == name })
			if idx < 0 || math.Abs(labels[idx].Score-ref.Probs[i][j]) > 1e-4 {
				t.Fatalf("%q: %v, want %s=%v", s, labels, name, ref.Probs[i][j])
			}
		}
		if labels[0].Score < labels[len(labels)-1].Score {
			t.Fatalf("labels not sorted by score: %v", labels)
		}

		out, _, err = models["emb"].InferText(ctx, s, nil)
		if err != nil {
			t.Fatal(err)
		}
		vec := out.([]float64)
		if len(vec) != len(ref.Embeddings[i]) {
			t.Fatalf("embedding of %d values, want %d", len(vec), len(ref.Embeddings[i]))
		}
		for j := range vec {
			if math.Abs(vec[j]-ref.Embeddings[i][j]) > 1e-4 {
				t.Fatalf("%q embedding[%d] = %v, want %v", s, j, vec[j], ref.Embeddings[i][j])
			}
		}
	}
	for _, g := range ref.Generations {
		out, _, err := models["lm"].InferText(ctx, g.Prompt, map[string]any{"max_new_tokens": float64(g.MaxNewTokens)})
		if err != nil {
			t.Fatal(err)
		}
		gen := out.(mlos.Generation)
		if !slices.Equal(gen.TokenIDs, g.TokenIDs) || gen.GeneratedText == "" {
			t.Fatalf("generation from %q: %v %q, want %v", g.Prompt, gen.TokenIDs, gen.GeneratedText, g.TokenIDs)
		}
	}
	// Parameters that are there but wrong are refused, not ignored.
	for _, c := range []struct {
		model  string
		params map[string]any
		say    string
	}{
		{"lm", map[string]any{"max_new_tokens": -1.0}, "max_new_tokens must not be negative"},
		{"lm", map[string]any{"max_new_tokens": 1.5}, "max_new_tokens must be an integer"},
		{"cls", map[string]any{"top_k": "x"}, "top_k must be an integer"},
		{"cls", map[string]any{"top_k": 0.0}, "top_k must be at least 1"},
	} {
		_, _, err := models[c.model].InferText(ctx, "hello", c.params)
		if mlos.StatusOf(err) != 400 || !strings.Contains(err.Error(), c.say) {
			t.Errorf("%s %v: %v, want 400 saying %q", c.model, c.params, err, c.say)
		}
	}
	if out, _, err := models["cls"].InferText(ctx, "hello", map[string]any{"top_k": 1.0}); err != nil || len(out.([]mlos.Label)) != 1 {
		t.Fatalf("top_k 1: %v %v", out, err)
	}
}

func TestLongTextTruncated(t *testing.T) {
	dir, _ := mlostest.BertFixture(t)
	cls, _, _ := mlostest.TextPackages(t, dir)
	model := serve(t, newManager(t, t.TempDir(), mlos.BatchOptions{}), cls)
	// 200 words, 64 positions: config.json's max_position_embeddings
	// truncates the tokens (keeping [SEP]) instead of failing the run.
	long := strings.Repeat("great movie ", 100)
	out, _, err := model.InferText(context.Background(), long, nil)
	if err != nil {
		t.Fatalf("long text: %v", err)
	}
	if labels := out.([]mlos.Label); len(labels) != 3 {
		t.Fatalf("long text: %v", labels)
	}
}

// TestTaskFromConfig: a package whose manifest names no task (as axon pack of
// a plain directory makes) still answers labels when config.json's
// architecture is a sequence classifier, as transformers' pipelines would.
func TestTaskFromConfig(t *testing.T) {
	dir, ref := mlostest.BertFixture(t)
	cls, _, _ := mlostest.TextPackages(t, dir)
	cls.Task = ""
	files := map[string][]byte{}
	for k, v := range cls.Files {
		files[k] = v
	}
	files["config.json"] = []byte(`{"architectures": ["BertForSequenceClassification"], "id2label": {"0": "negative", "1": "neutral", "2": "positive"}}`)
	cls.Files = files
	model := serve(t, newManager(t, t.TempDir(), mlos.BatchOptions{}), cls)
	if model.Task() != mlos.TaskTextClassification || model.Info().Task != mlos.TaskTextClassification {
		t.Fatalf("task %q, info %q", model.Task(), model.Info().Task)
	}
	out, _, err := model.InferText(context.Background(), ref.Sentences[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	if labels, ok := out.([]mlos.Label); !ok || len(labels) != 3 {
		t.Fatalf("output %#v, want 3 labels", out)
	}
}

package mlos

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// TextPipeline is the pipeline of one task over a model's text encoder
// (tokenizer → tensors → model → the task's post-processing), in the shape of
// hugot's: each task is its own type with typed input and output —
// ClassificationPipeline, FeatureExtractionPipeline, TextGenerationPipeline,
// and TensorPipeline for the tasks answered with raw outputs (fill-mask,
// token classification, text2text, ...). The pipeline is chosen once, when
// the model is loaded.
type TextPipeline interface {
	// Task is the task the pipeline serves ("" when unknown).
	Task() string
	// seed answers the seed API's {"input": TEXT, "parameters": {...}}:
	// parameters are read into the pipeline's typed options, the answer is
	// what the seed API writes as JSON.
	seed(ctx context.Context, m *Model, text string, params map[string]any) (any, RunStats, error)
}

// newTaskPipeline picks the pipeline for the encoder's task.
func newTaskPipeline(enc *textEncoder) TextPipeline {
	switch enc.task {
	case TaskTextClassification:
		return &ClassificationPipeline{enc: enc}
	case TaskFeatureExtraction:
		return &FeatureExtractionPipeline{enc: enc}
	case TaskTextGeneration:
		return &TextGenerationPipeline{enc: enc}
	}
	return &TensorPipeline{enc: enc}
}

// Label is one class and its score.
type Label struct {
	Label string  `json:"label"`
	Score float64 `json:"score"`
}

// ClassificationPipeline answers text classification: one score per class,
// best first.
type ClassificationPipeline struct{ enc *textEncoder }

// ClassifyOptions are a classification's parameters.
type ClassifyOptions struct {
	TopK int // the best TopK classes; 0 = all
}

func (p *ClassificationPipeline) Task() string { return TaskTextClassification }

// Classify scores text over the model's classes (softmax over the logits,
// unless the model answers probabilities already).
func (p *ClassificationPipeline) Classify(ctx context.Context, m *Model, text string, opts ClassifyOptions) ([]Label, RunStats, error) {
	if opts.TopK < 0 {
		return nil, RunStats{}, BadRequest("top_k must be at least 1, got %d", opts.TopK)
	}
	outs, _, stats, err := p.enc.run(ctx, m, text)
	if err != nil {
		return nil, stats, err
	}
	o := pickOutput(outs, "logits", "probs", "probabilities", "scores")
	v := o.Float64s()
	if len(v) == 0 {
		return nil, stats, Unprocessable("output %s is empty", o.Name)
	}
	if len(o.Shape) > 0 {
		v = v[:o.Shape[len(o.Shape)-1]]
	}
	if !looksLikeProbabilities(o.Name, v) {
		v = Softmax(v)
	}
	res := make([]Label, len(v))
	for i, s := range v {
		name := fmt.Sprintf("LABEL_%d", i)
		if i < len(p.enc.labels) && p.enc.labels[i] != "" {
			name = p.enc.labels[i]
		}
		res[i] = Label{Label: name, Score: s}
	}
	sort.SliceStable(res, func(a, b int) bool { return res[a].Score > res[b].Score })
	if opts.TopK > 0 && opts.TopK < len(res) {
		res = res[:opts.TopK]
	}
	return res, stats, nil
}

func (p *ClassificationPipeline) seed(ctx context.Context, m *Model, text string, params map[string]any) (any, RunStats, error) {
	k, ok, err := intParam(params, "top_k")
	if err != nil {
		return nil, RunStats{}, err
	}
	if ok && k < 1 {
		return nil, RunStats{}, BadRequest("top_k must be at least 1, got %d", k)
	}
	return p.Classify(ctx, m, text, ClassifyOptions{TopK: k})
}

// FeatureExtractionPipeline answers one embedding per text: the token
// embeddings mean-pooled over the attention mask, L2-normalized.
type FeatureExtractionPipeline struct{ enc *textEncoder }

func (p *FeatureExtractionPipeline) Task() string { return TaskFeatureExtraction }

// Extract is the embedding of text.
func (p *FeatureExtractionPipeline) Extract(ctx context.Context, m *Model, text string) ([]float64, RunStats, error) {
	outs, enc, stats, err := p.enc.run(ctx, m, text)
	if err != nil {
		return nil, stats, err
	}
	o := pickOutput(outs, "last_hidden_state", "token_embeddings", "sentence_embedding", "embeddings", "pooler_output")
	vec, err := Pooling{Mode: "mean", Normalize: true}.apply(o, enc.Mask)
	return vec, stats, err
}

func (p *FeatureExtractionPipeline) seed(ctx context.Context, m *Model, text string, _ map[string]any) (any, RunStats, error) {
	return p.Extract(ctx, m, text)
}

// TextGenerationPipeline continues a prompt; the typed request and result
// are GenerateRequest and GenerateResult (generate.go).
type TextGenerationPipeline struct{ enc *textEncoder }

func (p *TextGenerationPipeline) Task() string { return TaskTextGeneration }

// Generate answers the prompt and its continuation, as the transformers
// pipeline does by default (the seed API's answer); Model.Generate answers
// the continuation alone, token by token if asked.
func (p *TextGenerationPipeline) Generate(ctx context.Context, m *Model, req GenerateRequest) (Generation, RunStats, error) {
	start := time.Now()
	res, err := m.Generate(ctx, req, nil)
	if err != nil {
		return Generation{}, RunStats{}, err
	}
	return Generation{GeneratedText: req.Prompt + res.Text, TokenIDs: res.TokenIDs, FinishReason: res.FinishReason},
		RunStats{Compute: time.Since(start), BatchSize: 1}, nil
}

func (p *TextGenerationPipeline) seed(ctx context.Context, m *Model, text string, params map[string]any) (any, RunStats, error) {
	if !m.CanGenerate() {
		// A graph that cannot be driven step by step still answers its logits.
		return (&TensorPipeline{enc: p.enc}).seed(ctx, m, text, params)
	}
	gp, err := ParamsFromMap(params)
	if err != nil {
		return nil, RunStats{}, err
	}
	return p.Generate(ctx, m, GenerateRequest{Prompt: text, Params: gp})
}

// TensorPipeline answers the model's output tensors for a text, for the
// tasks without post-processing of their own (fill-mask, token
// classification, text2text generation, question answering, ...).
type TensorPipeline struct{ enc *textEncoder }

func (p *TensorPipeline) Task() string { return p.enc.task }

// Outputs runs text and answers the output tensors by name.
func (p *TensorPipeline) Outputs(ctx context.Context, m *Model, text string) ([]*Tensor, RunStats, error) {
	outs, _, stats, err := p.enc.run(ctx, m, text)
	return outs, stats, err
}

func (p *TensorPipeline) seed(ctx context.Context, m *Model, text string, _ map[string]any) (any, RunStats, error) {
	outs, stats, err := p.Outputs(ctx, m, text)
	if err != nil {
		return nil, stats, err
	}
	return RawOutputs(outs), stats, nil
}

// Pipeline is the task pipeline of a loaded model that reads text (nil for a
// model without a tokenizer or not loaded): a Go caller type-switches on it
// for the task's typed API.
func (m *Model) Pipeline() TextPipeline {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.pipe
}

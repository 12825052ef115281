package mlos

import (
	"bytes"
	"context"
	"encoding/json"
)

// InferJSON answers the seed API's {"input": ...} for an input already
// decoded (Go callers): it is InferRawJSON on its encoding.
func (m *Model) InferJSON(ctx context.Context, input any, params map[string]any) (any, RunStats, error) {
	raw, err := json.Marshal(input)
	if err != nil {
		return nil, RunStats{}, BadRequest("input: %w", err)
	}
	return m.InferRawJSON(ctx, raw, params)
}

// InferRawJSON answers the seed API's {"input": ...} from the raw bytes of
// "input": text goes through the pipeline (a list of texts answers a list),
// a nested number array feeds a single-input model, and an object maps input
// names to nested arrays. Number arrays are parsed straight into tensors,
// without a generic decode first.
func (m *Model) InferRawJSON(ctx context.Context, raw json.RawMessage, params map[string]any) (any, RunStats, error) {
	out, st, err := m.InferSeed(ctx, raw, params)
	if err != nil {
		return nil, st, err
	}
	if out.Tensors {
		return RawOutputs(out.Outputs), st, nil
	}
	return out.Value, st, nil
}

// SeedOutput is the answer of InferSeed: the model's output tensors (for a
// number-array input; the seed API answers RawOutputs of them), or any other
// value (a pipeline's).
type SeedOutput struct {
	Tensors bool
	Outputs []*Tensor
	Value   any
}

// InferSeed is InferRawJSON for a server that encodes output tensors itself,
// without building RawOutputs' nested values first.
func (m *Model) InferSeed(ctx context.Context, raw json.RawMessage, params map[string]any) (SeedOutput, RunStats, error) {
	value := func(v any, st RunStats, err error) (SeedOutput, RunStats, error) {
		return SeedOutput{Value: v}, st, err
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return SeedOutput{}, RunStats{}, BadRequest(`missing "input": text, a number array, or {input name: array}`)
	}
	switch raw[0] {
	case '"':
		var text string
		if err := json.Unmarshal(raw, &text); err != nil {
			return SeedOutput{}, RunStats{}, BadRequest("input: %w", err)
		}
		return value(m.InferText(ctx, text, params))
	case '[':
		var texts []string
		if m.hasPipeline() && json.Unmarshal(raw, &texts) == nil {
			return value(m.inferTexts(ctx, texts, params))
		}
	case '{':
		var named map[string]json.RawMessage
		if err := json.Unmarshal(raw, &named); err != nil {
			return SeedOutput{}, RunStats{}, BadRequest("input: %w", err)
		}
		specs := m.Inputs()
		inputs := make(map[string]*Tensor, len(named))
		for name, val := range named {
			spec, ok := specByName(specs, name)
			if !ok {
				return SeedOutput{}, RunStats{}, BadRequest("unknown input %q; the model takes %s", name, describe(specs))
			}
			t, err := tensorFromRaw(spec, val)
			if err != nil {
				return SeedOutput{}, RunStats{}, err
			}
			inputs[name] = t
		}
		return m.inferRaw(ctx, inputs)
	}
	// A number array or a scalar: the model's only input.
	specs := m.Inputs()
	if len(specs) != 1 {
		return SeedOutput{}, RunStats{}, BadRequest("model %s takes %d inputs (%s); send {input name: array}", m.Name, len(specs), describe(specs))
	}
	t, err := tensorFromRaw(specs[0], raw)
	if err != nil {
		return SeedOutput{}, RunStats{}, err
	}
	return m.inferRaw(ctx, map[string]*Tensor{specs[0].Name: t})
}

// inferTexts runs each text through the pipeline; answers keep their order.
func (m *Model) inferTexts(ctx context.Context, texts []string, params map[string]any) (any, RunStats, error) {
	if len(texts) > 256 {
		return nil, RunStats{}, BadRequest("at most 256 texts per request")
	}
	outs := make([]any, len(texts))
	var total RunStats
	for i, text := range texts {
		out, st, err := m.InferText(ctx, text, params)
		if err != nil {
			return nil, total, err
		}
		outs[i] = out
		total.Queue += st.Queue
		total.Compute += st.Compute
	}
	return outs, total, nil
}

// inferRaw runs named tensors and answers the raw outputs.
func (m *Model) inferRaw(ctx context.Context, inputs map[string]*Tensor) (SeedOutput, RunStats, error) {
	outs, st, err := m.Infer(ctx, inputs)
	if err != nil {
		return SeedOutput{}, st, err
	}
	return SeedOutput{Tensors: true, Outputs: outs}, st, nil
}

func specByName(specs []TensorSpec, name string) (TensorSpec, bool) {
	for _, s := range specs {
		if s.Name == name {
			return s, true
		}
	}
	return TensorSpec{}, false
}

// tensorFromRaw converts nested arrays to the input's type; one missing
// leading batch dimension of 1 is added, so a single example needs no wrapping.
func tensorFromRaw(spec TensorSpec, raw []byte) (*Tensor, error) {
	data, shape, err := DecodeJSON(raw, spec.DType)
	if err != nil {
		return nil, BadRequest("input %q: %w (expected %s %s)", spec.Name, err, spec.DType.V2(), spec.ShapeString())
	}
	if len(shape) == len(spec.Shape)-1 && len(spec.Shape) > 0 && (spec.Shape[0] < 0 || spec.Shape[0] == 1) {
		shape = append([]int64{1}, shape...)
	}
	return &Tensor{Name: spec.Name, DType: spec.DType, Shape: shape, Data: data}, nil
}

func (m *Model) hasPipeline() bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.pipe != nil
}

package runtime

import (
	"bytes"
	"context"
	"encoding/json"
)

// InferRawJSON is InferJSON on the raw bytes of "input": number arrays are
// parsed straight into tensors, without a generic decode first.
func (m *Model) InferRawJSON(ctx context.Context, raw json.RawMessage, params map[string]any) (any, RunStats, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return m.InferJSON(ctx, nil, params)
	}
	switch raw[0] {
	case '[':
		// A list of texts: each through the pipeline, answers in order.
		var texts []string
		if m.hasPipeline() && json.Unmarshal(raw, &texts) == nil {
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
		specs := m.Inputs()
		if len(specs) != 1 {
			return nil, RunStats{}, BadRequest("model %s takes %d inputs (%s); send {input name: array}", m.Name, len(specs), describe(specs))
		}
		t, err := tensorFromRaw(specs[0], raw)
		if err != nil {
			return nil, RunStats{}, err
		}
		outs, st, err := m.Infer(ctx, map[string]*Tensor{specs[0].Name: t})
		if err != nil {
			return nil, st, err
		}
		return RawOutputs(outs), st, nil
	case '{':
		var named map[string]json.RawMessage
		if err := json.Unmarshal(raw, &named); err != nil {
			return nil, RunStats{}, BadRequest("input: %v", err)
		}
		specs := m.Inputs()
		inputs := make(map[string]*Tensor, len(named))
		for name, val := range named {
			spec, ok := specByName(specs, name)
			if !ok {
				return nil, RunStats{}, BadRequest("unknown input %q; the model takes %s", name, describe(specs))
			}
			t, err := tensorFromRaw(spec, val)
			if err != nil {
				return nil, RunStats{}, err
			}
			inputs[name] = t
		}
		outs, st, err := m.Infer(ctx, inputs)
		if err != nil {
			return nil, st, err
		}
		return RawOutputs(outs), st, nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, RunStats{}, BadRequest("input: %v", err)
	}
	return m.InferJSON(ctx, v, params)
}

func tensorFromRaw(spec TensorSpec, raw []byte) (*Tensor, error) {
	data, shape, err := DecodeJSON(raw, spec.DType)
	if err != nil {
		return nil, BadRequest("input %q: %v (expected %s %s)", spec.Name, err, spec.DType.V2(), spec.ShapeString())
	}
	return withBatchDim(spec, data, shape), nil
}

func withBatchDim(spec TensorSpec, data any, shape []int64) *Tensor {
	if len(shape) == len(spec.Shape)-1 && len(spec.Shape) > 0 && (spec.Shape[0] < 0 || spec.Shape[0] == 1) {
		shape = append([]int64{1}, shape...)
	}
	return &Tensor{Name: spec.Name, DType: spec.DType, Shape: shape, Data: data}
}

// InferJSON answers the seed API's {"input": ...}: text goes through the
// pipeline, a nested number array feeds a single-input model, and an object
// maps input names to nested arrays.
func (m *Model) InferJSON(ctx context.Context, input any, params map[string]any) (any, RunStats, error) {
	switch v := input.(type) {
	case string:
		return m.InferText(ctx, v, params)
	case nil:
		return nil, RunStats{}, BadRequest(`missing "input": text, a number array, or {input name: array}`)
	case map[string]any:
		specs := m.Inputs()
		named := make(map[string]*Tensor, len(v))
		for name, val := range v {
			spec, ok := specByName(specs, name)
			if !ok {
				return nil, RunStats{}, BadRequest("unknown input %q; the model takes %s", name, describe(specs))
			}
			t, err := tensorFromJSON(spec, val)
			if err != nil {
				return nil, RunStats{}, err
			}
			named[name] = t
		}
		outs, st, err := m.Infer(ctx, named)
		if err != nil {
			return nil, st, err
		}
		return RawOutputs(outs), st, nil
	default:
		specs := m.Inputs()
		if len(specs) != 1 {
			return nil, RunStats{}, BadRequest("model %s takes %d inputs (%s); send {input name: array}", m.Name, len(specs), describe(specs))
		}
		t, err := tensorFromJSON(specs[0], v)
		if err != nil {
			return nil, RunStats{}, err
		}
		outs, st, err := m.Infer(ctx, map[string]*Tensor{specs[0].Name: t})
		if err != nil {
			return nil, st, err
		}
		return RawOutputs(outs), st, nil
	}
}

func specByName(specs []TensorSpec, name string) (TensorSpec, bool) {
	for _, s := range specs {
		if s.Name == name {
			return s, true
		}
	}
	return TensorSpec{}, false
}

// tensorFromJSON converts nested arrays to the input's type; one missing
// leading batch dimension of 1 is added, so a single example needs no wrapping.
func tensorFromJSON(spec TensorSpec, v any) (*Tensor, error) {
	data, shape, err := FromJSON(v, spec.DType)
	if err != nil {
		return nil, BadRequest("input %q: %v (expected %s %s)", spec.Name, err, spec.DType.V2(), spec.ShapeString())
	}
	return withBatchDim(spec, data, shape), nil
}

func (m *Model) hasPipeline() bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.pipe != nil
}

package onnx

// Ready-made tiny models for tests and examples. Weights come from a fixed-seed
// generator so the same arguments always give byte-identical models.

// TextClassifierOptions shape TinyTextClassifier.
type TextClassifierOptions struct {
	Vocab, Dim, Classes int
	Seed                uint64
	// BERTInputs adds attention_mask and token_type_ids inputs (int64 [batch, sequence])
	// so the model takes what a Hugging Face tokenizer produces; the mask weights the
	// mean over tokens, token_type_ids is accepted and unused.
	BERTInputs bool
}

// TinyTextClassifier builds input_ids int64 [batch, sequence] → Gather (embedding)
// → ReduceMean over the sequence → MatMul → Add → Softmax → "probs" float32 [batch, Classes].
func TinyTextClassifier(o TextClassifierOptions) *Builder {
	if o.Vocab <= 0 {
		o.Vocab = 32
	}
	if o.Dim <= 0 {
		o.Dim = 8
	}
	if o.Classes <= 0 {
		o.Classes = 2
	}
	r := newRand(o.Seed)
	b := NewBuilder("tiny_text_classifier")
	b.Input("input_ids", "int64", "batch", "sequence")
	b.InitFloat("embedding", []int64{int64(o.Vocab), int64(o.Dim)}, r.floats(o.Vocab*o.Dim))
	b.InitFloat("classifier_w", []int64{int64(o.Dim), int64(o.Classes)}, r.floats(o.Dim*o.Classes))
	b.InitFloat("classifier_b", []int64{int64(o.Classes)}, r.floats(o.Classes))
	b.Node("Gather", []string{"embedding", "input_ids"}, []string{"tokens"}, AttrInt("axis", 0))
	if o.BERTInputs {
		b.Input("attention_mask", "int64", "batch", "sequence")
		b.Input("token_type_ids", "int64", "batch", "sequence")
		// Masked mean: sum(tokens * mask) / sum(mask).
		b.InitInt64("unsqueeze_axes", []int64{1}, []int64{-1})
		b.Node("Cast", []string{"attention_mask"}, []string{"mask_f"}, AttrInt("to", TypeFloat))
		b.Node("Unsqueeze", []string{"mask_f", "unsqueeze_axes"}, []string{"mask_3d"})
		b.Node("Mul", []string{"tokens", "mask_3d"}, []string{"masked"})
		b.Node("ReduceSum", []string{"masked", "reduce_axes"}, []string{"summed"}, AttrInt("keepdims", 0))
		b.Node("ReduceSum", []string{"mask_3d", "reduce_axes"}, []string{"count"}, AttrInt("keepdims", 0))
		b.InitInt64("reduce_axes", []int64{1}, []int64{1})
		b.Node("Div", []string{"summed", "count"}, []string{"pooled"})
	} else {
		b.Node("ReduceMean", []string{"tokens"}, []string{"pooled"}, AttrInts("axes", 1), AttrInt("keepdims", 0))
	}
	b.Node("MatMul", []string{"pooled", "classifier_w"}, []string{"scores"})
	b.Node("Add", []string{"scores", "classifier_b"}, []string{"logits"})
	b.Node("Softmax", []string{"logits"}, []string{"probs"}, AttrInt("axis", -1))
	b.Output("probs", "float32", "batch", o.Classes)
	return b
}

// TinyMLP builds x float32 [batch, in] → Gemm → Relu → Gemm → "y" float32 [batch, out].
func TinyMLP(in, hidden, out int, seed uint64) *Builder {
	r := newRand(seed)
	b := NewBuilder("tiny_mlp")
	b.Input("x", "float32", "batch", in)
	b.InitFloat("w1", []int64{int64(in), int64(hidden)}, r.floats(in*hidden))
	b.InitFloat("b1", []int64{int64(hidden)}, r.floats(hidden))
	b.InitFloat("w2", []int64{int64(hidden), int64(out)}, r.floats(hidden*out))
	b.InitFloat("b2", []int64{int64(out)}, r.floats(out))
	b.Node("Gemm", []string{"x", "w1", "b1"}, []string{"h"})
	b.Node("Relu", []string{"h"}, []string{"h_relu"})
	b.Node("Gemm", []string{"h_relu", "w2", "b2"}, []string{"y"})
	b.Output("y", "float32", "batch", out)
	return b
}

// rand is a splitmix64 generator: tiny, deterministic, good enough for weights.
type rand struct{ s uint64 }

func newRand(seed uint64) *rand { return &rand{s: seed + 0x9E3779B97F4A7C15} }

func (r *rand) next() uint64 {
	r.s += 0x9E3779B97F4A7C15
	z := r.s
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// floats returns n values uniform in [-0.5, 0.5).
func (r *rand) floats(n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(r.next()>>40)/float32(1<<24) - 0.5
	}
	return out
}

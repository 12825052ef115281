package native

import (
	"math"
	"strconv"
	"strings"

	"github.com/mlos-foundation/axon/internal/onnx"
	"github.com/mlos-foundation/axon/schemas"
)

// Heads of an encoder graph.
const (
	HeadBase     = "base"                    // last_hidden_state
	HeadSequence = "sequence-classification" // logits [batch, labels]
	HeadToken    = "token-classification"    // logits [batch, sequence, labels]
	HeadCausalLM = "causal-lm"
)

// encoderHead picks the head from the hub's task, else from the task of the
// architecture (schemas.TaskFromArchitectures, as the manifest will say).
func encoderHead(c *Config, task string) string {
	if h, ok := headOfTask(task); ok {
		return h
	}
	if h, ok := headOfTask(schemas.TaskFromArchitectures(c.Architectures)); ok && h != HeadBase {
		return h
	}
	return HeadBase
}

func headOfTask(task string) (string, bool) {
	switch task {
	case schemas.TaskFeatureExtraction, "sentence-similarity", schemas.TaskFillMask:
		return HeadBase, true
	case schemas.TaskTextClassification, "zero-shot-classification":
		return HeadSequence, true
	case schemas.TaskTokenClassification:
		return HeadToken, true
	}
	return "", false
}

// prefix finds how the checkpoint names the base model: "bert." in
// BertFor* checkpoints, "" in BertModel ones.
func (g *graph) prefix(candidates []string, probe string) string {
	for _, p := range candidates {
		if g.has(p + probe) {
			return p
		}
	}
	return candidates[len(candidates)-1]
}

// buildEncoder writes the BERT-family graph: embeddings (word + absolute
// position + token type), post-LN transformer layers, then the head.
func buildEncoder(g *graph, c *Config, head string) {
	b := g.b
	distil := c.ModelType == "distilbert"
	roberta := c.ModelType == "roberta" || c.ModelType == "xlm-roberta"
	mt := strings.ReplaceAll(c.ModelType, "-", "_")
	if mt == "xlm_roberta" {
		mt = "roberta"
	}
	p := g.prefix([]string{mt + ".", ""}, "embeddings.word_embeddings.weight")
	b.Input("input_ids", "int64", "batch_size", "sequence_length")
	b.Input("attention_mask", "int64", "batch_size", "sequence_length")
	tokenTypes := !distil && !roberta && g.has(p+"embeddings.token_type_embeddings.weight")
	if tokenTypes {
		b.Input("token_type_ids", "int64", "batch_size", "sequence_length")
	}

	x := g.op("Gather", []string{g.weight(p+"embeddings.word_embeddings.weight", false), "input_ids"}, onnx.AttrInt("axis", 0))
	var pos string
	if roberta {
		// create_position_ids_from_input_ids: padding_idx + cumsum(mask)·mask.
		pad := int64(1)
		if c.PadTokenID != nil {
			pad = int64(*c.PadTokenID)
		}
		notPad := g.op("Cast", []string{g.op("Not", []string{g.op("Equal", []string{"input_ids", g.scalarI64(pad)})})}, onnx.AttrInt("to", onnx.TypeInt64))
		cum := g.op("CumSum", []string{notPad, g.scalarI64(1)})
		pos = g.op("Add", []string{g.op("Mul", []string{cum, notPad}), g.scalarI64(pad)})
	} else {
		pos = g.op("Range", []string{g.scalarI64(0), g.scalarDim("input_ids", 1), g.scalarI64(1)})
	}
	x = g.op("Add", []string{x, g.op("Gather", []string{g.weight(p+"embeddings.position_embeddings.weight", false), pos}, onnx.AttrInt("axis", 0))})
	if !distil {
		tt := g.scalarI64(0)
		if tokenTypes {
			tt = "token_type_ids"
		}
		x = g.op("Add", []string{x, g.op("Gather", []string{g.weight(p+"embeddings.token_type_embeddings.weight", false), tt}, onnx.AttrInt("axis", 0))})
	}
	x = g.layerNorm(x, p+"embeddings.LayerNorm.weight", p+"embeddings.LayerNorm.bias", c.LayerNormEps)

	// (1 - mask)·min, broadcast over heads and queries: [b, 1, 1, s].
	maskF := g.op("Cast", []string{"attention_mask"}, onnx.AttrInt("to", onnx.TypeFloat))
	bias := g.op("Mul", []string{g.op("Sub", []string{g.f32(1), maskF}), g.f32(minFloat)})
	bias = g.op("Unsqueeze", []string{bias, g.i64(1, 2)})

	h, d := c.Heads, c.HeadDim
	scale := g.f32(float32(1 / math.Sqrt(float64(d))))
	for l := 0; l < c.Layers; l++ {
		var q, k, v, o, ln1, up, down, ln2 string
		if distil {
			lp := p + "transformer.layer." + itoa(l) + "."
			q, k, v, o = lp+"attention.q_lin", lp+"attention.k_lin", lp+"attention.v_lin", lp+"attention.out_lin"
			ln1, up, down, ln2 = lp+"sa_layer_norm", lp+"ffn.lin1", lp+"ffn.lin2", lp+"output_layer_norm"
		} else {
			lp := p + "encoder.layer." + itoa(l) + "."
			q, k, v, o = lp+"attention.self.query", lp+"attention.self.key", lp+"attention.self.value", lp+"attention.output.dense"
			ln1, up, down, ln2 = lp+"attention.output.LayerNorm", lp+"intermediate.dense", lp+"output.dense", lp+"output.LayerNorm"
		}
		qh := g.heads(g.linear(x, q, true), h, d)
		kr := g.op("Reshape", []string{g.linear(x, k, true), g.i64(0, 0, int64(h), int64(d))})
		kt := g.op("Transpose", []string{kr}, onnx.AttrInts("perm", 0, 2, 3, 1))
		vh := g.heads(g.linear(x, v, true), h, d)
		scores := g.op("Add", []string{g.op("Mul", []string{g.op("MatMul", []string{qh, kt}), scale}), bias})
		probs := g.op("Softmax", []string{scores}, onnx.AttrInt("axis", -1))
		ctx := g.merge(g.op("MatMul", []string{probs, vh}), h, d)
		x = g.layerNorm(g.op("Add", []string{g.linear(ctx, o, true), x}), ln1+".weight", ln1+".bias", c.LayerNormEps)
		f := g.linear(g.act(c.HiddenAct, g.linear(x, up, true)), down, true)
		x = g.layerNorm(g.op("Add", []string{f, x}), ln2+".weight", ln2+".bias", c.LayerNormEps)
	}

	labels := len(c.Labels())
	switch head {
	case HeadBase:
		g.opOut("Identity", "last_hidden_state", []string{x})
		b.Output("last_hidden_state", "float32", "batch_size", "sequence_length", c.HiddenSize)
	case HeadToken:
		g.opOut("Identity", "logits", []string{g.linear(x, "classifier", true)})
		b.Output("logits", "float32", "batch_size", "sequence_length", labelsDim(g, labels))
	case HeadSequence:
		cls := g.op("Gather", []string{x, g.scalarI64(0)}, onnx.AttrInt("axis", 1))
		var logits string
		switch {
		case distil:
			logits = g.linear(g.op("Relu", []string{g.linear(cls, "pre_classifier", true)}), "classifier", true)
		case roberta:
			logits = g.linear(g.op("Tanh", []string{g.linear(cls, "classifier.dense", true)}), "classifier.out_proj", true)
		default:
			logits = g.linear(g.op("Tanh", []string{g.linear(cls, p+"pooler.dense", true)}), "classifier", true)
		}
		g.opOut("Identity", "logits", []string{logits})
		b.Output("logits", "float32", "batch_size", labelsDim(g, labels))
	}
}

// labelsDim is the classifier's width, read from the checkpoint (id2label may be absent).
func labelsDim(g *graph, labels int) any {
	for _, n := range []string{"classifier.out_proj.weight", "classifier.weight"} {
		if t := g.m.Tensor(n); t != nil && len(t.Shape) == 2 {
			return t.Shape[0]
		}
	}
	if labels > 0 {
		return labels
	}
	return "labels"
}

func itoa(i int) string { return strconv.Itoa(i) }

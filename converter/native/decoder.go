package native

import (
	"math"

	"github.com/mlos-foundation/axon/internal/onnx"
)

// buildDecoder writes a causal LM with KV-cache inputs and outputs named as
// optimum names them: input_ids, attention_mask, position_ids,
// past_key_values.{i}.key/.value [batch, kv_heads, past, head_dim] in;
// logits, present.{i}.key/.value out. A first step passes past of length 0.
func buildDecoder(g *graph, c *Config) {
	b := g.b
	gpt2 := c.ModelType == "gpt2"
	nh, kvh, d := c.Heads, c.KVHeads, c.HeadDim
	b.Input("input_ids", "int64", "batch_size", "sequence_length")
	b.Input("attention_mask", "int64", "batch_size", "total_sequence_length")
	b.Input("position_ids", "int64", "batch_size", "sequence_length")
	for l := 0; l < c.Layers; l++ {
		for _, kv := range []string{"key", "value"} {
			b.Input("past_key_values."+itoa(l)+"."+kv, "float32", "batch_size", kvh, "past_sequence_length", d)
		}
	}
	b.Output("logits", "float32", "batch_size", "sequence_length", c.Vocab)
	for l := 0; l < c.Layers; l++ {
		for _, kv := range []string{"key", "value"} {
			b.Output("present."+itoa(l)+"."+kv, "float32", "batch_size", kvh, "total_sequence_length", d)
		}
	}

	// Mask: key j is visible to query i (absolute position past+i) when j ≤ past+i
	// and attention_mask[j] is 1; as an additive bias [b, 1, s, T].
	total := g.scalarDim("attention_mask", 1)
	past := g.op("Sub", []string{total, g.scalarDim("input_ids", 1)})
	kidx := g.op("Range", []string{g.scalarI64(0), total, g.scalarI64(1)})
	qidx := g.op("Unsqueeze", []string{g.op("Range", []string{past, total, g.scalarI64(1)}), g.i64(1)})
	causal := g.op("LessOrEqual", []string{kidx, qidx})
	pad := g.op("Unsqueeze", []string{g.op("Cast", []string{"attention_mask"}, onnx.AttrInt("to", onnx.TypeBool)), g.i64(1, 2)})
	visible := g.op("And", []string{causal, pad})
	mask := func(v string) string {
		bias := g.op("Where", []string{v, g.f32(0), g.f32(minFloat)})
		if kvh != nh {
			bias = g.op("Unsqueeze", []string{bias, g.i64(1)}) // [b, 1, 1, s, T] against [b, kvh, rep, s, T]
		}
		return bias
	}
	// One bias per distinct window: full attention, and each sliding window a
	// layer uses, where key j is also hidden once query i is window or more past it.
	biases := map[int]string{}
	biasOf := func(window int) string {
		if b, ok := biases[window]; ok {
			return b
		}
		v := visible
		if window > 0 {
			near := g.op("Less", []string{g.op("Sub", []string{qidx, kidx}), g.scalarI64(int64(window))})
			v = g.op("And", []string{v, near})
		}
		biases[window] = mask(v)
		return biases[window]
	}

	var x, cos, sin string
	var p string
	if gpt2 {
		p = g.prefix([]string{"transformer.", ""}, "wte.weight")
		x = g.op("Gather", []string{g.weight(p+"wte.weight", false), "input_ids"}, onnx.AttrInt("axis", 0))
		x = g.op("Add", []string{x, g.op("Gather", []string{g.weight(p+"wpe.weight", false), "position_ids"}, onnx.AttrInt("axis", 0))})
	} else {
		p = "model."
		x = g.op("Gather", []string{g.weight(p+"embed_tokens.weight", false), "input_ids"}, onnx.AttrInt("axis", 0))
		inv, _ := c.InvFreq() // checked by LoadConfig
		posF := g.op("Unsqueeze", []string{g.op("Cast", []string{"position_ids"}, onnx.AttrInt("to", onnx.TypeFloat)), g.i64(-1)})
		freqs := g.op("Mul", []string{posF, g.f32(inv...)})
		emb := g.op("Concat", []string{freqs, freqs}, onnx.AttrInt("axis", -1))
		cos = g.op("Unsqueeze", []string{g.op("Cos", []string{emb}), g.i64(1)})
		sin = g.op("Unsqueeze", []string{g.op("Sin", []string{emb}), g.i64(1)})
	}
	// q·cos + rotate_half(q)·sin, rotate_half(x) = [-x2, x1].
	rope := func(x string) string {
		halves := []string{g.tmp("half"), g.tmp("half")}
		b.Node("Split", []string{x, g.i64(int64(d/2), int64(d/2))}, halves, onnx.AttrInt("axis", -1))
		rot := g.op("Concat", []string{g.op("Neg", []string{halves[1]}), halves[0]}, onnx.AttrInt("axis", -1))
		return g.op("Add", []string{g.op("Mul", []string{x, cos}), g.op("Mul", []string{rot, sin})})
	}
	scale := g.f32(float32(1 / math.Sqrt(float64(d))))
	qkvBias := c.ModelType == "qwen2" || (c.AttentionBias != nil && *c.AttentionBias)

	for l := 0; l < c.Layers; l++ {
		var q, k, v, attnOut string
		var h string
		if gpt2 {
			lp := p + "h." + itoa(l) + "."
			h = g.layerNorm(x, lp+"ln_1.weight", lp+"ln_1.bias", c.LayerNormEps)
			qkv := g.conv1d(h, lp+"attn.c_attn")
			parts := []string{g.tmp("q"), g.tmp("k"), g.tmp("v")}
			hs := int64(c.HiddenSize)
			b.Node("Split", []string{qkv, g.i64(hs, hs, hs)}, parts, onnx.AttrInt("axis", -1))
			q, k, v = g.heads(parts[0], nh, d), g.heads(parts[1], kvh, d), g.heads(parts[2], kvh, d)
			attnOut = lp + "attn.c_proj"
		} else {
			lp := p + "layers." + itoa(l) + "."
			h = g.rmsNorm(x, lp+"input_layernorm.weight", c.RMSNormEps)
			proj := func(name string, n int) string {
				y := g.linear(h, lp+"self_attn."+name+"_proj", qkvBias)
				y = g.op("Reshape", []string{y, g.i64(0, 0, int64(n), int64(d))})
				if norm := lp + "self_attn." + name + "_norm.weight"; (name == "q" || name == "k") && g.has(norm) {
					y = g.rmsNorm(y, norm, c.RMSNormEps) // Qwen3: RMSNorm over head_dim before rotary
				}
				return g.op("Transpose", []string{y}, onnx.AttrInts("perm", 0, 2, 1, 3))
			}
			q, k, v = rope(proj("q", nh)), rope(proj("k", kvh)), proj("v", kvh)
			attnOut = lp + "self_attn.o_proj"
		}
		pk := g.opOut("Concat", "present."+itoa(l)+".key", []string{"past_key_values." + itoa(l) + ".key", k}, onnx.AttrInt("axis", 2))
		pv := g.opOut("Concat", "present."+itoa(l)+".value", []string{"past_key_values." + itoa(l) + ".value", v}, onnx.AttrInt("axis", 2))
		var ctx string
		if kvh == nh {
			kt := g.op("Transpose", []string{pk}, onnx.AttrInts("perm", 0, 1, 3, 2))
			scores := g.op("Add", []string{g.op("Mul", []string{g.op("MatMul", []string{q, kt}), scale}), biasOf(c.Sliding(l))})
			ctx = g.op("MatMul", []string{g.op("Softmax", []string{scores}, onnx.AttrInt("axis", -1)), pv})
		} else {
			// Grouped-query attention without copying keys: queries grouped by
			// their key/value head, [b, kvh, rep, s, d], against [b, kvh, 1, T, d].
			rep := int64(nh / kvh)
			q5 := g.op("Reshape", []string{q, g.i64(0, int64(kvh), rep, -1, int64(d))})
			kt := g.op("Transpose", []string{g.op("Unsqueeze", []string{pk, g.i64(2)})}, onnx.AttrInts("perm", 0, 1, 2, 4, 3))
			scores := g.op("Add", []string{g.op("Mul", []string{g.op("MatMul", []string{q5, kt}), scale}), biasOf(c.Sliding(l))})
			probs := g.op("Softmax", []string{scores}, onnx.AttrInt("axis", -1))
			ctx = g.op("MatMul", []string{probs, g.op("Unsqueeze", []string{pv, g.i64(2)})})
			ctx = g.op("Reshape", []string{ctx, g.i64(0, int64(nh), -1, int64(d))})
		}
		ctx = g.merge(ctx, nh, d)
		if gpt2 {
			x = g.op("Add", []string{x, g.conv1d(ctx, attnOut)})
			lp := p + "h." + itoa(l) + "."
			h2 := g.layerNorm(x, lp+"ln_2.weight", lp+"ln_2.bias", c.LayerNormEps)
			x = g.op("Add", []string{x, g.conv1d(g.act(c.HiddenAct, g.conv1d(h2, lp+"mlp.c_fc")), lp+"mlp.c_proj")})
		} else {
			x = g.op("Add", []string{x, g.linear(ctx, attnOut, c.AttentionBias != nil && *c.AttentionBias)})
			lp := p + "layers." + itoa(l) + "."
			h2 := g.rmsNorm(x, lp+"post_attention_layernorm.weight", c.RMSNormEps)
			gate := g.act(c.HiddenAct, g.linear(h2, lp+"mlp.gate_proj", c.MLPBias))
			up := g.linear(h2, lp+"mlp.up_proj", c.MLPBias)
			x = g.op("Add", []string{x, g.linear(g.op("Mul", []string{gate, up}), lp+"mlp.down_proj", c.MLPBias)})
		}
	}
	var headW string
	if gpt2 {
		x = g.layerNorm(x, p+"ln_f.weight", p+"ln_f.bias", c.LayerNormEps)
		headW = p + "wte.weight"
		if !c.Tied(g.has("lm_head.weight")) {
			headW = "lm_head.weight"
		}
	} else {
		x = g.rmsNorm(x, p+"norm.weight", c.RMSNormEps)
		headW = "lm_head.weight"
		if c.Tied(g.has("lm_head.weight")) {
			headW = p + "embed_tokens.weight"
		}
	}
	// logits = x·Wᵀ as Gemm(transB) on [b·s, hidden]: the [vocab, hidden] matrix
	// (the embeddings themselves when tied) is used as stored, never copied.
	flat := g.op("Reshape", []string{x, g.i64(-1, int64(c.HiddenSize))})
	logits := g.op("Gemm", []string{flat, g.weight(headW, false)}, onnx.AttrInt("transB", 1))
	shape := g.op("Concat", []string{g.dim("input_ids", 0), g.dim("input_ids", 1), g.i64(int64(c.Vocab))}, onnx.AttrInt("axis", 0))
	g.opOut("Reshape", "logits", []string{logits, shape})
}

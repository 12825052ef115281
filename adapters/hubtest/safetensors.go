package hubtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/mlos-foundation/axon/internal/safetensors"
)

// SafetensorsArchs are the model_type values SafetensorsRepo builds, with the
// head of each encoder ("base", "seq", "tok") after a colon.
var SafetensorsArchs = []string{
	"bert:seq", "bert:base", "roberta:tok", "xlm-roberta:seq", "distilbert:seq",
	"llama", "mistral", "qwen2", "qwen3", "gpt2",
}

// SafetensorsRepo is a safetensors-only repository (config.json +
// model.safetensors, no ONNX, no pytorch_model.bin) of a tiny random-weight
// model of arch (an entry of SafetensorsArchs) in the exact transformers
// state-dict layout, as ORG/NAME; encoders carry TinyBERT's tokenizer.
func SafetensorsRepo(id, arch string) HFRepo {
	mt, head, _ := strings.Cut(arch, ":")
	cfg, tensors := tinyCheckpoint(mt, head)
	cb, _ := json.MarshalIndent(cfg, "", " ")
	var st bytes.Buffer
	_ = safetensors.Write(&st, tensors, map[string]string{"format": "pt"})
	files := []File{{Path: "config.json", Data: cb}, {Path: "model.safetensors", Data: st.Bytes()},
		{Path: "README.md", Data: []byte("# " + id + "\n\nTiny random " + arch + " checkpoint (safetensors only).\n")}}
	for _, f := range TinyBERT() {
		switch f.Path {
		case "tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json":
			files = append(files, f)
		}
	}
	tag := map[string]string{"seq": "text-classification", "tok": "token-classification", "base": "feature-extraction"}[head]
	if head == "" {
		tag = "text-generation"
	}
	return HFRepo{ID: id, PipelineTag: tag, LibraryName: "transformers", License: "apache-2.0", Files: files}
}

// tinyCheckpoint is config.json and the state dict of a 2-layer, 32-wide model.
func tinyCheckpoint(mt, head string) (map[string]any, []safetensors.WriteTensor) {
	const H, NL, NH, I, V, P = 32, 2, 4, 64, 51, 66
	r := uint64(len(mt)*31 + len(head))
	var ts []safetensors.WriteTensor
	add := func(name string, center float32, shape ...int64) {
		n := int64(1)
		for _, d := range shape {
			n *= d
		}
		v := make([]float32, n)
		for i := range v {
			r += 0x9E3779B97F4A7C15
			z := r
			z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
			z = (z ^ (z >> 27)) * 0x94D049BB133111EB
			z ^= z >> 31
			v[i] = center + (float32(z>>40)/float32(1<<24)-0.5)*0.4
		}
		ts = append(ts, safetensors.WriteTensor{Name: name, DType: "F32", Shape: shape, Data: safetensors.Float32Bytes(v)})
	}
	lin := func(name string, out, in int64, bias bool) {
		add(name+".weight", 0, out, in)
		if bias {
			add(name+".bias", 0, out)
		}
	}
	norm := func(name string, n int64, bias bool) {
		add(name+".weight", 1, n)
		if bias {
			add(name+".bias", 0, n)
		}
	}
	labels := map[string]string{"0": "NEGATIVE", "1": "POSITIVE"}
	cfg := map[string]any{"model_type": mt, "vocab_size": V, "max_position_embeddings": P, "torch_dtype": "float32"}
	switch mt {
	case "bert", "roberta", "xlm-roberta", "distilbert":
		cls := map[string]string{"bert": "Bert", "roberta": "Roberta", "xlm-roberta": "XLMRoberta", "distilbert": "DistilBert"}[mt]
		cfg["architectures"] = []string{cls + map[string]string{"seq": "ForSequenceClassification", "tok": "ForTokenClassification", "base": "Model"}[head]}
		if head != "base" {
			cfg["id2label"], cfg["label2id"] = labels, map[string]int{"NEGATIVE": 0, "POSITIVE": 1}
		}
		p := map[string]string{"bert": "bert.", "roberta": "roberta.", "xlm-roberta": "roberta.", "distilbert": "distilbert."}[mt]
		if head == "base" {
			p = ""
		}
		add(p+"embeddings.word_embeddings.weight", 0, V, H)
		add(p+"embeddings.position_embeddings.weight", 0, P, H)
		norm(p+"embeddings.LayerNorm", H, true)
		if mt == "distilbert" {
			cfg["dim"], cfg["n_layers"], cfg["n_heads"], cfg["hidden_dim"], cfg["activation"] = H, NL, NH, I, "gelu"
			for l := 0; l < NL; l++ {
				lp := fmt.Sprintf("%stransformer.layer.%d.", p, l)
				for _, n := range []string{"q_lin", "k_lin", "v_lin", "out_lin"} {
					lin(lp+"attention."+n, H, H, true)
				}
				norm(lp+"sa_layer_norm", H, true)
				lin(lp+"ffn.lin1", I, H, true)
				lin(lp+"ffn.lin2", H, I, true)
				norm(lp+"output_layer_norm", H, true)
			}
		} else {
			types := int64(2)
			if mt != "bert" {
				types = 1
			}
			cfg["hidden_size"], cfg["num_hidden_layers"], cfg["num_attention_heads"], cfg["intermediate_size"] = H, NL, NH, I
			cfg["hidden_act"], cfg["layer_norm_eps"], cfg["type_vocab_size"], cfg["pad_token_id"] = "gelu", 1e-12, types, 0
			if mt != "bert" {
				cfg["pad_token_id"], cfg["layer_norm_eps"] = 1, 1e-5
			}
			add(p+"embeddings.token_type_embeddings.weight", 0, types, H)
			for l := 0; l < NL; l++ {
				lp := fmt.Sprintf("%sencoder.layer.%d.", p, l)
				for _, n := range []string{"attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"} {
					lin(lp+n, H, H, true)
				}
				norm(lp+"attention.output.LayerNorm", H, true)
				lin(lp+"intermediate.dense", I, H, true)
				lin(lp+"output.dense", H, I, true)
				norm(lp+"output.LayerNorm", H, true)
			}
		}
		switch {
		case head == "tok":
			lin("classifier", 2, H, true)
		case head == "seq" && mt == "distilbert":
			lin("pre_classifier", H, H, true)
			lin("classifier", 2, H, true)
		case head == "seq" && mt == "bert":
			lin(p+"pooler.dense", H, H, true)
			lin("classifier", 2, H, true)
		case head == "seq":
			lin("classifier.dense", H, H, true)
			lin("classifier.out_proj", 2, H, true)
		}
	case "gpt2":
		cfg["architectures"] = []string{"GPT2LMHeadModel"}
		cfg["n_embd"], cfg["n_layer"], cfg["n_head"], cfg["n_positions"] = H, NL, NH, P
		cfg["activation_function"], cfg["layer_norm_epsilon"] = "gelu_new", 1e-5
		add("transformer.wte.weight", 0, V, H)
		add("transformer.wpe.weight", 0, P, H)
		for l := 0; l < NL; l++ {
			lp := fmt.Sprintf("transformer.h.%d.", l)
			norm(lp+"ln_1", H, true)
			norm(lp+"ln_2", H, true)
			add(lp+"attn.c_attn.weight", 0, H, 3*H)
			add(lp+"attn.c_attn.bias", 0, 3*H)
			add(lp+"attn.c_proj.weight", 0, H, H)
			add(lp+"attn.c_proj.bias", 0, H)
			add(lp+"mlp.c_fc.weight", 0, H, 4*H)
			add(lp+"mlp.c_fc.bias", 0, 4*H)
			add(lp+"mlp.c_proj.weight", 0, 4*H, H)
			add(lp+"mlp.c_proj.bias", 0, H)
		}
		norm("transformer.ln_f", H, true)
	default: // llama, mistral, qwen2, qwen3
		cls := map[string]string{"llama": "Llama", "mistral": "Mistral", "qwen2": "Qwen2", "qwen3": "Qwen3"}[mt]
		const KV, D = 2, 8
		cfg["architectures"] = []string{cls + "ForCausalLM"}
		cfg["hidden_size"], cfg["num_hidden_layers"], cfg["num_attention_heads"], cfg["num_key_value_heads"] = H, NL, NH, KV
		cfg["intermediate_size"], cfg["hidden_act"], cfg["rms_norm_eps"], cfg["rope_theta"] = I, "silu", 1e-6, 10000.0
		cfg["tie_word_embeddings"], cfg["head_dim"] = false, D
		bias := mt == "qwen2"
		add("model.embed_tokens.weight", 0, V, H)
		for l := 0; l < NL; l++ {
			lp := fmt.Sprintf("model.layers.%d.", l)
			norm(lp+"input_layernorm", H, false)
			norm(lp+"post_attention_layernorm", H, false)
			lin(lp+"self_attn.q_proj", NH*D, H, bias)
			lin(lp+"self_attn.k_proj", KV*D, H, bias)
			lin(lp+"self_attn.v_proj", KV*D, H, bias)
			lin(lp+"self_attn.o_proj", H, NH*D, false)
			if mt == "qwen3" {
				norm(lp+"self_attn.q_norm", D, false)
				norm(lp+"self_attn.k_norm", D, false)
			}
			lin(lp+"mlp.gate_proj", I, H, false)
			lin(lp+"mlp.up_proj", I, H, false)
			lin(lp+"mlp.down_proj", H, I, false)
		}
		norm("model.norm", H, false)
		lin("lm_head", V, H, false)
	}
	return cfg, ts
}

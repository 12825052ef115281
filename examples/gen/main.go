// Command gen writes the example model that ships with the repository,
// examples/tiny-sentiment: a tiny BERT-input text classifier whose weights are
// set by hand (not trained) so that its answers make sense for the demo, with a
// WordPiece tokenizer.json and a config.json in the Hugging Face layout.
//
//	go run ./examples/gen
//
// The output is deterministic; the files are committed, so the demo needs no network.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/mlos-foundation/axon/internal/onnx"
)

var (
	special  = []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}
	punct    = []string{".", ",", "!", "?", "'", "-", ":", ";", "(", ")"}
	positive = []string{"good", "great", "love", "loved", "excellent", "amazing", "wonderful", "happy", "best",
		"fantastic", "like", "nice", "awesome", "enjoy", "enjoyed", "perfect", "beautiful", "brilliant", "fun",
		"glad", "superb", "delightful", "fast", "easy", "helpful", "recommend", "pleasant", "cool", "works", "win"}
	negative = []string{"bad", "terrible", "hate", "hated", "awful", "worst", "horrible", "sad", "poor", "boring",
		"ugly", "disappointing", "angry", "annoying", "broken", "wrong", "slow", "fail", "failed", "useless",
		"nasty", "hard", "crash", "crashed", "bug", "bugs", "waste", "lost", "never", "refund"}
	neutral = []string{"the", "a", "an", "is", "was", "it", "this", "that", "i", "you", "we", "they", "he", "she",
		"and", "or", "but", "not", "very", "so", "day", "movie", "film", "food", "service", "product", "model",
		"hello", "mlos", "what", "to", "of", "in", "on", "for", "with", "my", "your", "are", "be", "have", "has",
		"had", "today", "time", "really", "just", "inference", "axon", "world", "##s", "##ed", "##ing", "##ly"}
)

const scale = 12

func main() {
	dir := "examples/tiny-sentiment"
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	if err := run(dir); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var vocab []string
	for _, group := range [][]string{special, punct, positive, negative, neutral} {
		vocab = append(vocab, group...)
	}
	// Two features per token: how positive, how negative. Mean pooling over the
	// attention mask, then a linear layer gives [NEGATIVE, POSITIVE] logits.
	emb := make([]float32, 0, 2*len(vocab))
	for _, w := range vocab {
		switch {
		case contains(positive, w):
			emb = append(emb, 1, 0)
		case contains(negative, w):
			emb = append(emb, 0, 1)
		case contains(special, w):
			emb = append(emb, 0, 0)
		default:
			emb = append(emb, 0.05, 0.05)
		}
	}
	b := onnx.NewBuilder("tiny_sentiment").Opset(17)
	b.Input("input_ids", "int64", "batch", "sequence")
	b.Input("attention_mask", "int64", "batch", "sequence")
	b.Input("token_type_ids", "int64", "batch", "sequence")
	b.InitFloat("embeddings", []int64{int64(len(vocab)), 2}, emb)
	b.InitFloat("classifier_w", []int64{2, 2}, []float32{-scale, scale, scale, -scale})
	b.InitFloat("classifier_b", []int64{2}, []float32{0.1, -0.1})
	b.InitInt64("axes_last", []int64{1}, []int64{-1})
	b.InitInt64("axes_seq", []int64{1}, []int64{1})
	b.Node("Gather", []string{"embeddings", "input_ids"}, []string{"tokens"}, onnx.AttrInt("axis", 0))
	b.Node("Cast", []string{"attention_mask"}, []string{"mask_f"}, onnx.AttrInt("to", onnx.TypeFloat))
	b.Node("Unsqueeze", []string{"mask_f", "axes_last"}, []string{"mask_3d"})
	b.Node("Mul", []string{"tokens", "mask_3d"}, []string{"masked"})
	b.Node("ReduceSum", []string{"masked", "axes_seq"}, []string{"summed"}, onnx.AttrInt("keepdims", 0))
	b.Node("ReduceSum", []string{"mask_3d", "axes_seq"}, []string{"count"}, onnx.AttrInt("keepdims", 0))
	b.Node("Div", []string{"summed", "count"}, []string{"pooled"})
	b.Node("MatMul", []string{"pooled", "classifier_w"}, []string{"scores"})
	b.Node("Add", []string{"scores", "classifier_b"}, []string{"logits"})
	b.Output("logits", "float32", "batch", 2)
	if err := b.WriteFile(filepath.Join(dir, "model.onnx")); err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(dir, "tokenizer.json"), tokenizerJSON(vocab)); err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(dir, "config.json"), map[string]any{
		"architectures":           []string{"BertForSequenceClassification"},
		"model_type":              "bert",
		"id2label":                map[string]string{"0": "NEGATIVE", "1": "POSITIVE"},
		"label2id":                map[string]int{"NEGATIVE": 0, "POSITIVE": 1},
		"max_position_embeddings": 128,
		"vocab_size":              len(vocab),
	}); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "README.md"), []byte(readme), 0o644)
}

func tokenizerJSON(vocab []string) map[string]any {
	ids := map[string]int{}
	for i, w := range vocab {
		ids[w] = i
	}
	var added []map[string]any
	for i, s := range special {
		added = append(added, map[string]any{"id": i, "content": s, "single_word": false, "lstrip": false,
			"rstrip": false, "normalized": false, "special": true})
	}
	tok := func(s string) map[string]any {
		return map[string]any{"SpecialToken": map[string]any{"id": s, "type_id": 0}}
	}
	return map[string]any{
		"version":      "1.0",
		"truncation":   map[string]any{"direction": "Right", "max_length": 128, "strategy": "LongestFirst", "stride": 0},
		"padding":      nil,
		"added_tokens": added,
		"normalizer": map[string]any{"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
			"strip_accents": nil, "lowercase": true},
		"pre_tokenizer": map[string]any{"type": "BertPreTokenizer"},
		"post_processor": map[string]any{
			"type":   "TemplateProcessing",
			"single": []any{tok("[CLS]"), map[string]any{"Sequence": map[string]any{"id": "A", "type_id": 0}}, tok("[SEP]")},
			"pair": []any{tok("[CLS]"), map[string]any{"Sequence": map[string]any{"id": "A", "type_id": 0}}, tok("[SEP]"),
				map[string]any{"Sequence": map[string]any{"id": "B", "type_id": 1}},
				map[string]any{"SpecialToken": map[string]any{"id": "[SEP]", "type_id": 1}}},
			"special_tokens": map[string]any{
				"[CLS]": map[string]any{"id": "[CLS]", "ids": []int{ids["[CLS]"]}, "tokens": []string{"[CLS]"}},
				"[SEP]": map[string]any{"id": "[SEP]", "ids": []int{ids["[SEP]"]}, "tokens": []string{"[SEP]"}},
			},
		},
		"decoder": map[string]any{"type": "WordPiece", "prefix": "##", "cleanup": true},
		"model": map[string]any{"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
			"max_input_chars_per_word": 100, "vocab": ids},
	}
}

func writeJSON(p string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(p, append(b, '\n'), 0o644)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

const readme = `# tiny-sentiment

The example model of Axon + MLOS Core: a text classifier small enough to ship in the repository
(a few KB). It takes what a BERT tokenizer produces (input_ids, attention_mask, token_type_ids) and
answers NEGATIVE or POSITIVE. Its weights were set by hand, not trained: each word of a small
vocabulary counts as positive, negative or neutral, and the mean over the sentence decides.
Generated by ` + "`go run ./examples/gen`" + `; license Apache-2.0.
`

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlos-foundation/axon/registry/ui/uitest"
)

// TestInspectTextGeneration: axon inspect says of a decoder package whether it
// keeps a KV cache and has a chat template, and prints the OpenAI call.
func TestInspectTextGeneration(t *testing.T) {
	t.Setenv("MLOS_URL", "http://mlosd.test:9999")
	home := t.TempDir()
	dir := t.TempDir()
	decoder, err := uitest.TinyDecoderONNX(2)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"model.onnx":            string(decoder),
		"config.json":           `{"architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3"}`,
		"tokenizer_config.json": `{"chat_template": "{% for m in messages %}{{ m.content }}{% endfor %}", "eos_token": "<|im_end|>"}`,
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ok(t, axonCLI(t, home, "", "pack", dir, "--name", "hf/tiny-qwen", "--version", "1"))
	r := axonCLI(t, home, "", "inspect", "hf/tiny-qwen@1")
	ok(t, r)
	for _, want := range []string{
		"# text generation: KV cache yes, chat template yes",
		"# OpenAI API (after axon register): curl http://mlosd.test:9999/v1/chat/completions -H 'Content-Type: application/json' -d '{\"model\":\"hf/tiny-qwen\"",
		"chatTemplate: true",
	} {
		if !strings.Contains(r.out, want) {
			t.Errorf("inspect lacks %q:\n%s", want, r.out)
		}
	}
	var insp struct {
		TextGeneration struct {
			KVCache, ChatTemplate bool
			Curl                  string
		} `json:"textGeneration"`
	}
	if err := json.Unmarshal([]byte(ok(t, axonCLI(t, home, "", "inspect", "--json", "hf/tiny-qwen@1")).out), &insp); err != nil ||
		!insp.TextGeneration.KVCache || !insp.TextGeneration.ChatTemplate || !strings.Contains(insp.TextGeneration.Curl, "/v1/chat/completions") {
		t.Fatalf("inspect --json: %+v %v", insp, err)
	}

	// Without the template and the cache inputs: no and no, and the completions call.
	os.Remove(filepath.Join(dir, "tokenizer_config.json"))
	mlp := model(t)
	os.WriteFile(filepath.Join(mlp, "config.json"), []byte(`{"architectures": ["GPT2LMHeadModel"]}`), 0o644)
	ok(t, axonCLI(t, home, "", "pack", mlp, "--name", "hf/tiny-gpt", "--version", "1"))
	r = ok(t, axonCLI(t, home, "", "inspect", "hf/tiny-gpt@1"))
	if !strings.Contains(r.out, "# text generation: KV cache no, chat template no") || !strings.Contains(r.out, "/v1/completions") {
		t.Errorf("inspect of a decoder without cache or template:\n%s", r.out)
	}
	// Not a text generator: nothing of the kind.
	ok(t, axonCLI(t, home, "", "pack", model(t), "--name", "local/mlp", "--version", "1"))
	if r := ok(t, axonCLI(t, home, "", "inspect", "local/mlp@1")); strings.Contains(r.out, "text generation") || strings.Contains(r.out, "OpenAI") {
		t.Errorf("inspect of an MLP:\n%s", r.out)
	}
}

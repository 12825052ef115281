package schemas

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestTextGenerationInfo(t *testing.T) {
	dec := &Manifest{Namespace: "hf", Name: "qwen3-0.6b", Task: "text-generation",
		IO:            IO{Inputs: []Tensor{{Name: "input_ids"}, {Name: "attention_mask"}, {Name: "past_key_values.0.key"}, {Name: "past_key_values.0.value"}}},
		Preprocessing: &Preprocessing{Tokenizer: &Tokenizer{Files: []string{"tokenizer.json"}, ChatTemplate: true}}}
	tg := dec.TextGenerationInfo("http://127.0.0.1:9000/")
	if tg == nil || !tg.KVCache || !tg.ChatTemplate || tg.Model != "hf/qwen3-0.6b" || tg.Endpoint != "/v1/chat/completions" {
		t.Fatalf("%+v", tg)
	}
	prefix := "curl http://127.0.0.1:9000/v1/chat/completions -H 'Content-Type: application/json' -d '"
	if !strings.HasPrefix(tg.Curl, prefix) {
		t.Fatalf("curl %q", tg.Curl)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSuffix(strings.TrimPrefix(tg.Curl, prefix), "'")), &body); err != nil || body["model"] != "hf/qwen3-0.6b" || body["messages"] == nil {
		t.Fatalf("body %v %v", body, err)
	}

	plain := &Manifest{Namespace: "hf", Name: "distilgpt2", Task: "text-generation", IO: IO{Inputs: []Tensor{{Name: "input_ids"}}}}
	tg = plain.TextGenerationInfo("")
	if tg == nil || tg.KVCache || tg.ChatTemplate || tg.Endpoint != "/v1/completions" || !strings.Contains(tg.Curl, "http://localhost:8080/v1/completions") {
		t.Fatalf("%+v", tg)
	}
	// A quote in the name must not break the shell quoting.
	odd := &Manifest{Namespace: "a", Name: "it's", Task: "text-generation"}
	if c := odd.TextGenerationInfo("").Curl; !strings.Contains(c, `it'\''s`) {
		t.Fatalf("curl %q", c)
	}
	// No task, but a decoder's cache inputs: still text generation.
	if (&Manifest{IO: IO{Inputs: []Tensor{{Name: "input_ids"}, {Name: "past.0.key"}}}}).TextGenerationInfo("") == nil {
		t.Fatal("cache inputs without a task")
	}
	for _, m := range []*Manifest{nil, {Task: "text-classification", IO: IO{Inputs: []Tensor{{Name: "input_ids"}}}}, {Task: "feature-extraction"}} {
		if m.TextGenerationInfo("") != nil {
			t.Errorf("%+v is no text generator", m)
		}
	}
}

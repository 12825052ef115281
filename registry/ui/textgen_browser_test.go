package ui

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/mlos-foundation/axon/registry/ui/uitest"
)

// TestBrowserTextGeneration: the model page of a text-generation package says
// whether it keeps a KV cache and has a chat template, and gives the OpenAI call
// to use; other packages show none of it.
func TestBrowserTextGeneration(t *testing.T) {
	b := newBrowser(t)
	e := newEnv(t)
	decoder, err := uitest.TinyDecoderONNX(1)
	if err != nil {
		t.Fatal(err)
	}
	e.model("hf/tiny-chat", "v1", uitest.Model{
		Namespace: "hf", Name: "tiny-chat", Version: "v1", Task: "text-generation", ONNX: decoder,
		ChatTemplate: true, Variant: "q4", SourceFile: "onnx/model_q4.onnx",
	})
	e.model("hf/tiny-gpt", "v1", uitest.Model{Namespace: "hf", Name: "tiny-gpt", Version: "v1", Task: "text-generation", Seed: 3})
	e.seedTwo()
	e.start(Options{RuntimeURL: "http://mlosd.example:8080"})
	srv := e.server(nil)

	type row struct{ kv, chat, openai, variant string }
	page := func(repo string) row {
		b.do("open "+repo, chromedp.Navigate(srv.URL+repoURL(repo)), chromedp.WaitVisible(chromedp.CSS("#io-schema")))
		return row{
			kv:      eval[string](b, `(document.querySelector("#kv-cache td") || {}).textContent || ""`),
			chat:    eval[string](b, `(document.querySelector("#chat-template td") || {}).textContent || ""`),
			openai:  eval[string](b, `[...document.querySelectorAll("#commands .cmd")].filter(c => c.querySelector(".label").textContent === "OpenAI API").map(c => c.querySelector("code").textContent).join("")`),
			variant: eval[string](b, `document.querySelector("#facts").innerText`),
		}
	}

	chat := page("hf/tiny-chat")
	if !strings.HasPrefix(chat.kv, "yes") || !strings.HasPrefix(chat.chat, "yes") || !strings.Contains(chat.chat, "/v1/chat/completions") {
		t.Fatalf("decoder with a chat template: KV cache %q, chat template %q", chat.kv, chat.chat)
	}
	if !strings.Contains(chat.variant, "variant q4 (onnx/model_q4.onnx)") {
		t.Errorf("format row lacks the variant:\n%s", chat.variant)
	}
	// The call is a real one: the curl's body is the JSON an OpenAI client sends.
	prefix := "curl http://mlosd.example:8080/v1/chat/completions -H 'Content-Type: application/json' -d '"
	if !strings.HasPrefix(chat.openai, prefix) || !strings.HasSuffix(chat.openai, "'") {
		t.Fatalf("OpenAI command %q", chat.openai)
	}
	var body struct {
		Model    string `json:"model"`
		Messages []struct{ Role, Content string }
	}
	if err := json.Unmarshal([]byte(strings.TrimSuffix(strings.TrimPrefix(chat.openai, prefix), "'")), &body); err != nil || body.Model != "hf/tiny-chat" || len(body.Messages) != 1 || body.Messages[0].Role != "user" {
		t.Fatalf("OpenAI request body: %+v %v", body, err)
	}
	if copyText := eval[string](b, `[...document.querySelectorAll("#commands .cmd")].filter(c => c.querySelector(".label").textContent === "OpenAI API").map(c => c.querySelector("button.copy").dataset.copy).join("")`); copyText != chat.openai {
		t.Errorf("copy button copies %q", copyText)
	}
	b.screenshot("model-text-generation")

	gpt := page("hf/tiny-gpt")
	if !strings.HasPrefix(gpt.kv, "no") || !strings.HasPrefix(gpt.chat, "no") || !strings.Contains(gpt.openai, "curl http://mlosd.example:8080/v1/completions ") || !strings.Contains(gpt.openai, `"prompt"`) {
		t.Fatalf("decoder without cache or template: %+v", gpt)
	}

	bert := page("hf/bert-tiny")
	if bert.kv != "" || bert.chat != "" || bert.openai != "" {
		t.Fatalf("a text classifier shows text-generation facts: %+v", bert)
	}

	// The JSON API says the same.
	resp, err := http.Get(srv.URL + "/api/repositories/hf/tiny-chat")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v RepositoryView
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || v.TextGeneration == nil || !v.TextGeneration.KVCache || !v.TextGeneration.ChatTemplate || v.TextGeneration.Curl != chat.openai {
		t.Fatalf("api: %+v %v", v.TextGeneration, err)
	}
}

package schemas

import (
	"encoding/json"
	"fmt"
	"strings"
)

// TextGeneration is what a user needs to know to talk to a text-generation
// package: whether generation keeps a KV cache, whether it takes chat messages,
// and the OpenAI-compatible call mlosd answers for it.
type TextGeneration struct {
	// KVCache: the graph takes past_key_values.* inputs, so each new token costs
	// one step instead of recomputing the whole sequence.
	KVCache bool `json:"kvCache"`
	// ChatTemplate: the tokenizer ships a chat template (messages → prompt).
	ChatTemplate bool `json:"chatTemplate"`
	// Model is the id to send: the name mlosd serves it under by default.
	Model string `json:"model"`
	// Endpoint is /v1/chat/completions with a chat template, else /v1/completions.
	Endpoint string `json:"endpoint"`
	// Curl is the call, ready to paste.
	Curl string `json:"curl"`
}

// IsTextGeneration reports a decoder package: task text-generation (or
// text2text-generation), or a graph with past_key_values inputs and logits.
func (m *Manifest) IsTextGeneration() bool {
	if m == nil {
		return false
	}
	switch m.Task {
	case "text-generation", "text2text-generation", "conversational":
		return true
	case "":
		return m.HasKVCache()
	}
	return false
}

// HasKVCache reports cache inputs in the I/O schema, as optimum, onnx-community,
// Xenova and ONNX Runtime GenAI name them (past_key_values.0.key, past.0.value...).
func (m *Manifest) HasKVCache() bool {
	if m == nil {
		return false
	}
	for _, in := range m.IO.Inputs {
		n := strings.ToLower(in.Name)
		if strings.HasPrefix(n, "past_key_values") || strings.HasPrefix(n, "past.") || strings.HasPrefix(n, "past_key") || strings.HasPrefix(n, "past_value") {
			return true
		}
	}
	return false
}

// HasChatTemplate reports a tokenizer with a chat template.
func (m *Manifest) HasChatTemplate() bool {
	return m != nil && m.Preprocessing != nil && m.Preprocessing.Tokenizer != nil && m.Preprocessing.Tokenizer.ChatTemplate
}

// TextGenerationInfo describes a text-generation package for `axon inspect` and
// the registry UI; nil for other packages. baseURL is mlosd's address
// ("" = http://localhost:8080).
func (m *Manifest) TextGenerationInfo(baseURL string) *TextGeneration {
	if !m.IsTextGeneration() {
		return nil
	}
	if baseURL == "" {
		baseURL = "http://localhost:8080"
	}
	baseURL = strings.TrimRight(baseURL, "/")
	model := m.Name
	if m.Namespace != "" {
		model = m.Namespace + "/" + m.Name
	}
	tg := &TextGeneration{KVCache: m.HasKVCache(), ChatTemplate: m.HasChatTemplate(), Model: model}
	var body []byte
	if tg.ChatTemplate {
		tg.Endpoint = "/v1/chat/completions"
		body, _ = json.Marshal(struct {
			Model     string              `json:"model"`
			Messages  []map[string]string `json:"messages"`
			MaxTokens int                 `json:"max_tokens"`
		}{model, []map[string]string{{"role": "user", "content": "Hello!"}}, 64})
	} else {
		tg.Endpoint = "/v1/completions"
		body, _ = json.Marshal(struct {
			Model     string `json:"model"`
			Prompt    string `json:"prompt"`
			MaxTokens int    `json:"max_tokens"`
		}{model, "Hello, my name is", 64})
	}
	// Single quotes around the body: escape any the JSON holds for a POSIX shell.
	tg.Curl = fmt.Sprintf("curl %s%s -H 'Content-Type: application/json' -d '%s'", baseURL, tg.Endpoint, strings.ReplaceAll(string(body), "'", `'\''`))
	return tg
}

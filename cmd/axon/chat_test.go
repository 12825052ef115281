package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The chat loop speaks the OpenAI chat-completions wire format and keeps the
// conversation: each request carries every earlier turn. (mlosd's /v1 is
// built elsewhere; this checks the client side of the wire.)
func TestChatKeepsConversation(t *testing.T) {
	var seen [][]chatMessage
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat/completions" || r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, `{"error":{"message":"wrong request"}}`, http.StatusBadRequest)
			return
		}
		var req struct {
			Model    string        `json:"model"`
			Messages []chatMessage `json:"messages"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Model != "hf/gpt2" {
			http.Error(w, `{"error":{"message":"bad body"}}`, http.StatusBadRequest)
			return
		}
		seen = append(seen, req.Messages)
		fmt.Fprintf(w, `{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"reply %d"},"finish_reason":"stop"}]}`, len(seen))
	}))
	defer srv.Close()
	var out strings.Builder
	if err := chat(context.Background(), srv.URL, "hf/gpt2", strings.NewReader("hello\n\nhow are you\n/bye\nnot sent\n"), &out, &strings.Builder{}, false, 0); err != nil {
		t.Fatal(err)
	}
	if out.String() != "reply 1\nreply 2\n" {
		t.Fatalf("printed %q", out.String())
	}
	if len(seen) != 2 || len(seen[1]) != 3 || seen[1][0].Content != "hello" || seen[1][1] != (chatMessage{"assistant", "reply 1"}) || seen[1][2].Content != "how are you" {
		t.Fatalf("conversation sent: %+v", seen)
	}
	// An mlosd without the OpenAI API: one clear line.
	old := httptest.NewServer(http.NotFoundHandler())
	defer old.Close()
	err := chat(context.Background(), old.URL, "hf/gpt2", strings.NewReader("hi\n"), &out, &strings.Builder{}, false, 0)
	if err == nil || !strings.Contains(err.Error(), "no /v1/chat/completions") {
		t.Fatalf("against an mlosd without /v1: %v", err)
	}
}

func TestParseInput(t *testing.T) {
	for in, want := range map[string]string{`Hello world`: `"Hello world"`, `[[1,2,3]]`: `[[1,2,3]]`, `{"a":1}`: `{"a":1}`, `3.5`: `3.5`, `[not json`: `"[not json"`, `-x`: `"-x"`} {
		b, _ := json.Marshal(parseInput(in))
		if string(b) != want {
			t.Errorf("parseInput(%q) = %s, want %s", in, b, want)
		}
	}
}

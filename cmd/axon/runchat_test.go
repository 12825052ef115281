package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlos-foundation/axon/adapters/hubtest"
	"github.com/mlos-foundation/axon/internal/testutil"
)

// chatTemplate marks each turn with its role, as chat models' templates do.
const chatTemplate = "{% for m in messages %}[{{ m.role }}] {{ m.content }} {% endfor %}{% if add_generation_prompt %}[assistant] {% endif %}"

// axon run of a text-generation model with no INPUT chats with a real mlosd:
// a tiny random decoder (converted natively from a replica hub repository
// whose tokenizer_config.json has a chat_template) answers each stdin line
// through /v1/chat/completions, every request carries the whole conversation
// (the second turn's prompt is what mlosd counts for [user 1, assistant 1,
// user 2], not for user 2 alone), and --json prints mlosd's raw answers.
func TestRunChatRealMLOSD(t *testing.T) {
	repo := hubtest.SafetensorsRepo("axon-test/tiny-chat", "llama")
	for i, f := range repo.Files {
		if f.Path != "tokenizer_config.json" {
			continue
		}
		var cfg map[string]any
		if err := json.Unmarshal(f.Data, &cfg); err != nil {
			t.Fatal(err)
		}
		cfg["chat_template"] = chatTemplate
		repo.Files[i].Data, _ = json.Marshal(cfg)
	}
	hub := hubtest.NewHF(t)
	hub.MustPush(t, repo)
	home := t.TempDir()
	noTools := t.TempDir() // neither python3 nor docker: the native converter
	env := []string{"HF_ENDPOINT=" + hub.URL, "ONNXRUNTIME_LIB=" + testutil.ORTLibrary(t),
		EnvMLOSD + "=" + testutil.Build(t, "github.com/mlos-foundation/axon/cmd/mlosd"),
		"PATH=" + noTools, "AXON_PYTHON=" + filepath.Join(noTools, "python3")}
	killStarted(t, home)
	ref := "hf/axon-test/tiny-chat@latest"
	first := "tell me a long story about the sea and the sky and the moon and the stars"
	// Unbounded, the first answer fills the tiny model's 66 positions: the
	// second turn cannot fit, and axon says why in one line.
	r := axonEnv(t, home, env, first+"\nok\n", "run", ref)
	if !strings.Contains(r.err, "started mlosd") {
		t.Fatalf("run did not start mlosd:\n%s", r.err)
	}
	if r.code == 0 || !strings.Contains(r.err, "longer than the model's 66 positions") || !strings.Contains(r.err, "--max-tokens") {
		t.Fatalf("a conversation past the model's context: exit %d\n%s", r.code, r.err)
	}
	r = okEnv(t, home, env, first+"\nok\n", "run", "--json", "--max-tokens", "8", ref)
	type answer struct {
		Object  string `json:"object"`
		Choices []struct {
			Message chatMessage `json:"message"`
		} `json:"choices"`
		Usage struct {
			PromptTokens     int `json:"prompt_tokens"`
			CompletionTokens int `json:"completion_tokens"`
		} `json:"usage"`
	}
	var turns []answer
	dec := json.NewDecoder(strings.NewReader(r.out))
	for {
		var a answer
		if err := dec.Decode(&a); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("--json printed %q: %v", r.out, err)
		}
		turns = append(turns, a)
	}
	if len(turns) != 2 || turns[0].Object != "chat.completion" || len(turns[0].Choices) != 1 || len(turns[1].Choices) != 1 {
		t.Fatalf("want two raw chat completions, got %q", r.out)
	}
	reply := turns[0].Choices[0].Message
	if reply.Role != "assistant" || turns[0].Usage.CompletionTokens == 0 || turns[0].Usage.CompletionTokens > 8 || turns[1].Usage.CompletionTokens > 8 {
		t.Fatalf("replies %+v (want 1 to 8 tokens each, --max-tokens 8)", turns)
	}

	// Ask the same mlosd what the prompts of the two possible second turns
	// count: the conversation, or the second line alone.
	var st mlosdState
	b := okEnv(t, home, env, "", "ps", "--json").out
	var ps struct{ MLOSD *mlosdState }
	if err := json.Unmarshal([]byte(b), &ps); err != nil || ps.MLOSD == nil {
		t.Fatalf("ps --json: %s", b)
	}
	st = *ps.MLOSD
	var info struct {
		Generation struct {
			ChatTemplate bool `json:"chatTemplate"`
		} `json:"generation"`
	}
	getJSON(t, st.URL+"/models/hf/axon-test/tiny-chat", &info)
	if !info.Generation.ChatTemplate {
		t.Fatal("mlosd does not report the chat template of tokenizer_config.json")
	}
	prompt := func(msgs ...chatMessage) int {
		t.Helper()
		var a answer
		postJSON(t, st.URL+"/v1/chat/completions", map[string]any{"model": "hf/axon-test/tiny-chat", "messages": msgs, "max_tokens": 1}, &a)
		return a.Usage.PromptTokens
	}
	whole := prompt(chatMessage{"user", first}, reply, chatMessage{"user", "ok"})
	alone := prompt(chatMessage{"user", "ok"})
	if turns[0].Usage.PromptTokens != prompt(chatMessage{"user", first}) || turns[1].Usage.PromptTokens != whole || whole == alone {
		t.Fatalf("second turn's prompt is %d tokens; the conversation is %d, the line alone %d (first turn %d)",
			turns[1].Usage.PromptTokens, whole, alone, turns[0].Usage.PromptTokens)
	}

	// Without --json: one reply per line, the text only.
	r = okEnv(t, home, env, "hello\n/bye\nnot sent\n", "run", "--max-tokens", "4", ref)
	if lines := strings.Split(strings.TrimRight(r.out, "\n"), "\n"); len(lines) != 1 || strings.HasPrefix(lines[0], "{") {
		t.Fatalf("chat printed %q", r.out)
	}
	okEnv(t, home, env, "", "stop")
}

func getJSON(t *testing.T, url string, out any) {
	t.Helper()
	code, b := testutil.Get(t, url)
	if code != 200 || json.Unmarshal(b, out) != nil {
		t.Fatalf("GET %s: %d %s", url, code, b)
	}
}

func postJSON(t *testing.T, url string, body, out any) {
	t.Helper()
	in, _ := json.Marshal(body)
	resp, err := http.Post(url, "application/json", bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || json.Unmarshal(b, out) != nil {
		t.Fatalf("POST %s: %d %s", url, resp.StatusCode, b)
	}
}

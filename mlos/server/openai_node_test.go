package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mlos-foundation/axon/internal/testutil"
	"github.com/mlos-foundation/axon/mlos/mlostest"
)

// openAIClientDir is where scripts/install-npm-openai.sh puts the client.
func openAIClientDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(testutil.ToolsDir(), "npm", "openai-6.30.1")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "openai", "package.json")); err != nil {
		testutil.Missing(t, "the npm openai client (scripts/install-npm-openai.sh)")
	}
	return dir
}

// TestOpenAINodeClient drives a real mlosd process with the official
// OpenAI Node client: models, chat (plain and streaming), completions,
// embeddings (the client's default base64) and errors.
func TestOpenAINodeClient(t *testing.T) {
	node := testutil.Tool(t, "node")
	clientDir := openAIClientDir(t)
	dir, _ := mlostest.DecoderFixture(t)
	layout := t.TempDir()
	cfg, _ := json.Marshal(map[string]any{"bos_token": "<s>", "eos_token": "</s>", "chat_template": chatTemplate})
	mlostest.DecoderPackage(t, dir, "cache", "chat", map[string][]byte{"tokenizer_config.json": cfg}).Layout(t, layout, "chat")
	bdir, _ := mlostest.BertFixture(t)
	_, emb, _ := mlostest.TextPackages(t, bdir)
	emb.Layout(t, layout, "emb")

	addr := testutil.FreeAddr(t)
	testutil.Start(t, []string{"ONNXRUNTIME_LIB=" + testutil.ORTLibrary(t)}, testutil.Build(t, "github.com/mlos-foundation/axon/cmd/mlosd"),
		"--addr", addr, "--data", t.TempDir(), "--max-new-tokens", "64", "--allow-layout", os.TempDir())
	base := "http://" + addr
	testutil.WaitHTTP(t, base+"/healthz", 30*time.Second)
	for _, tag := range []string{"chat", "emb"} {
		b, _ := json.Marshal(map[string]string{"ref": "oci-layout://" + layout + ":" + tag})
		if code, _, body := call(t, http.MethodPost, base+"/models", b, nil); code != 201 {
			t.Fatalf("register %s: %d %s", tag, code, body)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, self, _, _ := runtime.Caller(0)
	cmd := exec.CommandContext(ctx, node, filepath.Join(filepath.Dir(self), "testdata", "openai_client.mjs"))
	cmd.Env = append(os.Environ(), "OPENAI_DIR="+clientDir, "BASE_URL="+base, "CHAT_MODEL=test/chat", "EMBED_MODEL=test/bert-emb")
	raw, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("node openai client: %v\n%s", err, stderr)
	}
	var out struct {
		Models []string
		Chat   struct {
			Content, Finish string
			Usage           struct {
				PromptTokens     int `json:"prompt_tokens"`
				CompletionTokens int `json:"completion_tokens"`
			}
		}
		Stream struct {
			Content, Finish string
			Usage           *struct {
				CompletionTokens int `json:"completion_tokens"`
			}
			Chunks int
		}
		Completion       struct{ Text, Again, Finish string }
		CompletionStream string
		Embeddings       []int
		EmbeddingFloat   []float64
		EmbeddingB64     []float64
		Errors           map[string]struct {
			Status  int
			Message string
			Param   *string
			Code    *string
		}
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("client output %s: %v", raw, err)
	}
	t.Logf("openai client: %s", raw)
	if !slices.Contains(out.Models, "test/chat") || !slices.Contains(out.Models, "test/bert-emb") {
		t.Errorf("models %v", out.Models)
	}
	if out.Chat.Content == "" || out.Chat.Finish != "length" || out.Chat.Usage.CompletionTokens != 10 || out.Chat.Usage.PromptTokens == 0 {
		t.Errorf("chat %+v", out.Chat)
	}
	if out.Stream.Content != out.Chat.Content || out.Stream.Finish != "length" || out.Stream.Usage == nil || out.Stream.Usage.CompletionTokens != 10 || out.Stream.Chunks < 3 {
		t.Errorf("stream %+v, want the text %q", out.Stream, out.Chat.Content)
	}
	if out.Completion.Text == "" || out.Completion.Text != out.Completion.Again {
		t.Errorf("seeded completions %+v", out.Completion)
	}
	if out.CompletionStream == "" {
		t.Errorf("completion stream empty")
	}
	if len(out.Embeddings) != 2 || out.Embeddings[0] != 32 || len(out.EmbeddingFloat) != 4 {
		t.Errorf("embeddings %v", out.Embeddings)
	}
	for i := range out.EmbeddingFloat {
		if d := out.EmbeddingFloat[i] - out.EmbeddingB64[i]; d > 1e-6 || d < -1e-6 {
			t.Errorf("float %v and base64 %v embeddings differ", out.EmbeddingFloat, out.EmbeddingB64)
		}
	}
	for name, want := range map[string]struct {
		status int
		say    string
	}{"n2": {400, "n must be 1"}, "unknownModel": {404, "not registered"}, "overCap": {400, "cap of 64"}} {
		got := out.Errors[name]
		if got.Status != want.status || !strings.Contains(got.Message, want.say) {
			t.Errorf("%s: %+v, want %d saying %q", name, got, want.status, want.say)
		}
	}
}

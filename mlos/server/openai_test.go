package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/mlos-foundation/axon/internal/testutil"
	axrt "github.com/mlos-foundation/axon/mlos"
	"github.com/mlos-foundation/axon/mlos/chattemplate"
	"github.com/mlos-foundation/axon/mlos/mlostest"
	"github.com/mlos-foundation/axon/mlos/server"
	"github.com/mlos-foundation/axon/mlos/tokenizer"
)

// chatTemplate is a small template in the Llama-2 manner, with a
// raise_exception path, for the test decoder's tokenizer_config.json.
const chatTemplate = `{{ bos_token }}{% for m in messages %}{% if m['role'] == 'tool' %}{{ raise_exception('this template has no tool role') }}{% endif %}[{{ m['role'] }}] {{ m['content'] }}
{% endfor %}{% if add_generation_prompt %}[assistant]{% endif %}`

const testCap = 64

type genEnv struct {
	url string
	dir string // decoder fixture
	ref *mlostest.DecoderReference
	m   *axrt.Manager
}

// startGen serves the cache decoder as test/chat (with a chat template),
// test/plain (without) and the BERT encoder as test/emb (sentence-transformers
// CLS pooling + Normalize) and test/emb-mean (no modules.json).
func startGen(t *testing.T) *genEnv {
	t.Helper()
	dir, ref := mlostest.DecoderFixture(t)
	m, err := axrt.NewManager(context.Background(), axrt.Options{DataDir: t.TempDir(), ORTLib: testutil.ORTLibrary(t), MaxNewTokens: testCap, Batch: axrt.BatchOptions{MaxBatchSize: 8}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	s := server.New(m, server.Options{})
	s.SetReady(true)
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	cfg, _ := json.Marshal(map[string]any{"bos_token": "<s>", "eos_token": "</s>", "chat_template": chatTemplate})
	layout := t.TempDir()
	mlostest.DecoderPackage(t, dir, "cache", "chat", map[string][]byte{"tokenizer_config.json": cfg}).Layout(t, layout, "chat")
	mlostest.DecoderPackage(t, dir, "cache", "plain", nil).Layout(t, layout, "plain")
	bdir, _ := mlostest.BertFixture(t)
	_, emb, _ := mlostest.TextPackages(t, bdir)
	emb.Files = map[string][]byte{"tokenizer.json": emb.Files["tokenizer.json"], "config.json": emb.Files["config.json"],
		"modules.json":          []byte(`[{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},{"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"},{"idx":2,"name":"2","path":"2_Normalize","type":"sentence_transformers.models.Normalize"}]`),
		"1_Pooling/config.json": []byte(`{"word_embedding_dimension":32,"pooling_mode_cls_token":true,"pooling_mode_mean_tokens":false}`)}
	emb.Name = "emb"
	emb.Layout(t, layout, "emb")
	_, emb2, _ := mlostest.TextPackages(t, bdir)
	emb2.Name = "emb-mean"
	emb2.Layout(t, layout, "emb-mean")
	for _, tag := range []string{"chat", "plain", "emb", "emb-mean"} {
		if _, err := m.Register(context.Background(), "oci-layout://"+layout+":"+tag, ""); err != nil {
			t.Fatal(err)
		}
	}
	return &genEnv{url: ts.URL, dir: dir, ref: ref, m: m}
}

func post(t *testing.T, url string, body any) (int, []byte) {
	t.Helper()
	b, _ := json.Marshal(body)
	code, _, out := call(t, http.MethodPost, url, b, nil)
	return code, out
}

// events reads an SSE body into its data lines.
func events(t *testing.T, body []byte) []string {
	t.Helper()
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			out = append(out, d)
		}
	}
	return out
}

func TestSeedStream(t *testing.T) {
	e := startGen(t)
	code, body := post(t, e.url+"/models/test/plain/inference", map[string]any{"input": "Hello world", "parameters": map[string]any{"max_new_tokens": 12}})
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	var whole struct {
		Output axrt.Generation `json:"output"`
	}
	json.Unmarshal(body, &whole)
	code, body = post(t, e.url+"/models/test/plain/inference", map[string]any{"input": "Hello world", "stream": true, "parameters": map[string]any{"max_new_tokens": 12}})
	if code != 200 {
		t.Fatalf("stream: %d %s", code, body)
	}
	evs := events(t, body)
	var text strings.Builder
	var ids []int64
	for _, ev := range evs[:len(evs)-1] {
		var tok struct{ Token axrt.Token }
		if err := json.Unmarshal([]byte(ev), &tok); err != nil {
			t.Fatalf("event %s: %v", ev, err)
		}
		text.WriteString(tok.Token.Text)
		ids = append(ids, tok.Token.ID)
	}
	var end struct {
		GeneratedText string  `json:"generated_text"`
		TokenIDs      []int64 `json:"token_ids"`
		FinishReason  string  `json:"finish_reason"`
	}
	json.Unmarshal([]byte(evs[len(evs)-1]), &end)
	if end.GeneratedText != whole.Output.GeneratedText || "Hello world"+text.String() != end.GeneratedText || fmt.Sprint(end.TokenIDs) != fmt.Sprint(whole.Output.TokenIDs) || len(ids) != 12 || end.FinishReason != "length" {
		t.Fatalf("streamed %q (%d events) end %+v, want %+v", text.String(), len(ids), end, whole.Output)
	}
	// Refused before the stream starts: a plain JSON 400.
	code, body = post(t, e.url+"/models/test/plain/inference", map[string]any{"input": "Hello", "stream": true, "parameters": map[string]any{"max_new_tokens": 1000}})
	wantStatus(t, "above cap", code, 400, body, "above this server's cap of 64")
	code, body = post(t, e.url+"/models/test/emb/inference", map[string]any{"input": "Hello", "stream": true})
	wantStatus(t, "stream an encoder", code, 400, body, "does not generate text")
}

// TestStreamCancel: a client that disconnects mid-stream stops its
// generation; no goroutine and no ONNX Runtime value is left behind.
func TestStreamCancel(t *testing.T) {
	e := startGen(t)
	base := runtime.NumGoroutine()
	steps := axrt.DecodeSteps()
	for round := 0; round < 3; round++ {
		ctx, cancel := context.WithCancel(context.Background())
		b, _ := json.Marshal(map[string]any{"input": "Hello world", "stream": true, "parameters": map[string]any{"max_new_tokens": testCap, "min_new_tokens": testCap}})
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.url+"/models/test/plain/inference", bytes.NewReader(b))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		rd := bufio.NewReader(resp.Body)
		for n := 0; n < 2; {
			line, err := rd.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(line, "data: ") {
				n++
			}
		}
		cancel()
		resp.Body.Close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for axrt.LiveDecodeValues() != 0 || runtime.NumGoroutine() > base+2 {
		if time.Now().After(deadline) {
			t.Fatalf("after cancelled streams: %d ONNX Runtime values held, %d goroutines (were %d)", axrt.LiveDecodeValues(), runtime.NumGoroutine(), base)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Each stream was cut after 2 tokens of 64: together they ran far fewer
	// steps than three whole generations.
	if n := axrt.DecodeSteps() - steps; n >= 3*testCap {
		t.Fatalf("cancelled streams ran %d decode steps, as many as whole generations", n)
	}
	t.Logf("3 streams cancelled after 2 tokens ran %d decode steps", axrt.DecodeSteps()-steps)
	http.DefaultClient.CloseIdleConnections()
}

type oaErr struct {
	Error struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    *string `json:"code"`
	} `json:"error"`
}

func wantOAError(t *testing.T, what string, code int, body []byte, status int, say string) {
	t.Helper()
	var e oaErr
	if code != status || json.Unmarshal(body, &e) != nil || e.Error.Type == "" || !strings.Contains(e.Error.Message, say) {
		t.Errorf("%s: %d %s, want %d in OpenAI's error shape saying %q", what, code, body, status, say)
	}
}

func TestOpenAI(t *testing.T) {
	e := startGen(t)
	code, _, body := call(t, http.MethodGet, e.url+"/v1/models", nil, nil)
	var models struct {
		Object string
		Data   []struct{ ID, Object string }
	}
	if json.Unmarshal(body, &models); code != 200 || models.Object != "list" || len(models.Data) != 4 {
		t.Fatalf("models: %d %s", code, body)
	}
	code, _, body = call(t, http.MethodGet, e.url+"/models/test/chat", nil, nil)
	var info axrt.Info
	if json.Unmarshal(body, &info); code != 200 || info.Generation == nil || !info.Generation.KVCache || !info.Generation.ChatTemplate || !info.Generation.Batched || info.Generation.MaxPositions != 128 {
		t.Fatalf("model info %d %s: want generation with a KV cache, a chat template, batched decode, 128 positions", code, body)
	}
	// The rendered template goes to the tokenizer without special tokens
	// added again: the prompt is exactly the rendered text's tokens.
	msgs := []map[string]any{{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello world"}}
	tmpl, err := chattemplate.Parse(chatTemplate, map[string]any{"bos_token": "<s>", "eos_token": "</s>"})
	if err != nil {
		t.Fatal(err)
	}
	rendered, err := tmpl.Render(msgs, chattemplate.Options{AddGenerationPrompt: true})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.FromFile(filepath.Join(e.dir, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	promptIDs := tok.Encode(rendered, false).IDs
	if promptIDs[0] != 1 || promptIDs[1] == 1 {
		t.Fatalf("rendered prompt tokens %v should start with one <s>", promptIDs)
	}
	code, body = post(t, e.url+"/v1/chat/completions", map[string]any{"model": "test/chat", "messages": msgs, "max_tokens": 10, "temperature": 0})
	var chat struct {
		Object  string
		Choices []struct {
			Message      struct{ Role, Content string }
			FinishReason string `json:"finish_reason"`
		}
		Usage struct {
			PromptTokens     int `json:"prompt_tokens"`
			CompletionTokens int `json:"completion_tokens"`
			TotalTokens      int `json:"total_tokens"`
		}
	}
	if json.Unmarshal(body, &chat); code != 200 || chat.Object != "chat.completion" || len(chat.Choices) != 1 || chat.Choices[0].Message.Role != "assistant" {
		t.Fatalf("chat: %d %s", code, body)
	}
	if chat.Usage.PromptTokens != len(promptIDs) || chat.Usage.CompletionTokens != 10 || chat.Usage.TotalTokens != len(promptIDs)+10 || chat.Choices[0].FinishReason != "length" {
		t.Fatalf("chat usage %+v finish %q, want %d prompt tokens", chat.Usage, chat.Choices[0].FinishReason, len(promptIDs))
	}
	// Text parts are joined into the content the template sees.
	parts := []map[string]any{msgs[0], {"role": "user", "content": []any{map[string]any{"type": "text", "text": "Hello "}, map[string]any{"text": "world", "type": "text"}}}}
	code, body = post(t, e.url+"/v1/chat/completions", map[string]any{"model": "test/chat", "messages": parts, "max_tokens": 10, "temperature": 0})
	var chat2 struct {
		Choices []struct{ Message struct{ Content string } }
	}
	if json.Unmarshal(body, &chat2); code != 200 || chat2.Choices[0].Message.Content != chat.Choices[0].Message.Content {
		t.Fatalf("content parts: %d %s", code, body)
	}
	// The same generation through /v1/completions from the token ids.
	code, body = post(t, e.url+"/v1/completions", map[string]any{"model": "test/chat", "prompt": promptIDs, "max_tokens": 10, "temperature": 0})
	var cmpl struct {
		Object  string
		Choices []struct{ Text string }
	}
	if json.Unmarshal(body, &cmpl); code != 200 || cmpl.Object != "text_completion" || cmpl.Choices[0].Text != chat.Choices[0].Message.Content {
		t.Fatalf("completions %d %s, want text %q", code, body, chat.Choices[0].Message.Content)
	}
	// Streaming: role first, content deltas, finish_reason, usage, [DONE].
	code, body = post(t, e.url+"/v1/chat/completions", map[string]any{"model": "test/chat", "messages": msgs, "max_tokens": 10, "temperature": 0, "stream": true, "stream_options": map[string]any{"include_usage": true}})
	evs := events(t, body)
	if code != 200 || len(evs) < 4 || evs[len(evs)-1] != "[DONE]" {
		t.Fatalf("chat stream: %d %s", code, body)
	}
	var streamed strings.Builder
	finish := ""
	var usage *struct {
		CompletionTokens int `json:"completion_tokens"`
	}
	for i, ev := range evs[:len(evs)-1] {
		var ch struct {
			Object  string
			Choices []struct {
				Delta struct {
					Role    string
					Content *string
				}
				FinishReason *string `json:"finish_reason"`
			}
			Usage *struct {
				CompletionTokens int `json:"completion_tokens"`
			}
		}
		if err := json.Unmarshal([]byte(ev), &ch); err != nil || ch.Object != "chat.completion.chunk" {
			t.Fatalf("chunk %s: %v", ev, err)
		}
		if i == 0 && (len(ch.Choices) != 1 || ch.Choices[0].Delta.Role != "assistant") {
			t.Fatalf("first chunk %s has no assistant role", ev)
		}
		if ch.Usage != nil {
			usage = ch.Usage
		}
		for _, c := range ch.Choices {
			if c.Delta.Content != nil {
				streamed.WriteString(*c.Delta.Content)
			}
			if c.FinishReason != nil {
				finish = *c.FinishReason
			}
		}
	}
	if streamed.String() != chat.Choices[0].Message.Content || finish != "length" || usage == nil || usage.CompletionTokens != 10 {
		t.Fatalf("streamed %q finish %q usage %v, want %q", streamed.String(), finish, usage, chat.Choices[0].Message.Content)
	}
	// Generations and /v1 requests show in the metrics.
	code, _, body = call(t, http.MethodGet, e.url+"/metrics", nil, nil)
	for _, want := range []string{`mlosd_generated_tokens_total{model="test/chat",version="1"} 40`, `nv_inference_request_success{model="test/chat",version="1"} 4`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// Seeds reproduce sampled completions.
	sampled := func(seed int) string {
		_, body := post(t, e.url+"/v1/completions", map[string]any{"model": "test/chat", "prompt": "Hello", "max_tokens": 12, "temperature": 1.2, "seed": seed})
		json.Unmarshal(body, &cmpl)
		return cmpl.Choices[0].Text
	}
	if a, b := sampled(5), sampled(5); a != b {
		t.Fatalf("seed 5 gave %q then %q", a, b)
	}

	long := strings.Repeat("hello world ", 100)
	for _, c := range []struct {
		what, path string
		body       map[string]any
		status     int
		say        string
	}{
		{"n>1", "/v1/chat/completions", map[string]any{"model": "test/chat", "messages": msgs, "n": 2}, 400, "n must be 1"},
		{"empty messages", "/v1/chat/completions", map[string]any{"model": "test/chat", "messages": []any{}}, 400, "messages must not be empty"},
		{"unknown role", "/v1/chat/completions", map[string]any{"model": "test/chat", "messages": []any{map[string]any{"role": "wizard", "content": "hi"}}}, 400, `"wizard" is not one of`},
		{"not a list", "/v1/chat/completions", map[string]any{"model": "test/chat", "messages": "hi"}, 400, "messages must be a list"},
		{"image part", "/v1/chat/completions", map[string]any{"model": "test/chat", "messages": []any{map[string]any{"role": "user", "content": []any{map[string]any{"type": "image_url", "image_url": map[string]any{"url": "x"}}}}}}, 400, "only text parts"},
		{"template raises", "/v1/chat/completions", map[string]any{"model": "test/chat", "messages": []any{map[string]any{"role": "tool", "content": "hi"}}}, 400, "this template has no tool role"},
		{"no template", "/v1/chat/completions", map[string]any{"model": "test/plain", "messages": msgs}, 400, "has no chat template"},
		{"above cap", "/v1/chat/completions", map[string]any{"model": "test/chat", "messages": msgs, "max_tokens": 65}, 400, "max_tokens 65 is above this server's cap of 64"},
		{"long prompt", "/v1/completions", map[string]any{"model": "test/plain", "prompt": long}, 400, "longer than the model's 128 positions"},
		{"unknown model", "/v1/chat/completions", map[string]any{"model": "nope", "messages": msgs}, 404, "not registered"},
		{"chat an encoder", "/v1/chat/completions", map[string]any{"model": "test/emb", "messages": msgs}, 400, "does not generate text"},
		{"embed a decoder", "/v1/embeddings", map[string]any{"model": "test/chat", "input": "hi"}, 400, "does not answer embeddings"},
		{"dimensions", "/v1/embeddings", map[string]any{"model": "test/emb", "input": "hi", "dimensions": 8}, 400, "dimensions 8 is not supported"},
		{"encoding", "/v1/embeddings", map[string]any{"model": "test/emb", "input": "hi", "encoding_format": "hex"}, 400, "encoding_format"},
	} {
		code, body := post(t, e.url+c.path, c.body)
		wantOAError(t, c.what, code, body, c.status, c.say)
	}
	code, _, body = call(t, http.MethodGet, e.url+"/v1/chat/completions", nil, nil)
	wantOAError(t, "GET chat", code, body, 405, "use POST")
	code, _, body = call(t, http.MethodPost, e.url+"/v1/nope", []byte(`{}`), nil)
	wantOAError(t, "unknown route", code, body, 404, "no route POST /v1/nope")
	var nf oaErr
	code, body = post(t, e.url+"/v1/chat/completions", map[string]any{"model": "nope", "messages": msgs})
	if json.Unmarshal(body, &nf); nf.Error.Code == nil || *nf.Error.Code != "model_not_found" || nf.Error.Param == nil || *nf.Error.Param != "model" {
		t.Fatalf("unknown model: %s", body)
	}

	// Embeddings: CLS pooling and normalization from the sentence-transformers
	// files; without them, mean pooling, not normalized; base64 is float32 LE.
	bdir, ref := mlostest.BertFixture(t)
	_ = bdir
	code, body = post(t, e.url+"/v1/embeddings", map[string]any{"model": "test/emb-mean", "input": ref.Sentences[:2]})
	var embs struct {
		Object string
		Data   []struct {
			Index     int
			Embedding json.RawMessage
		}
		Usage struct {
			PromptTokens int `json:"prompt_tokens"`
		}
	}
	if json.Unmarshal(body, &embs); code != 200 || len(embs.Data) != 2 || embs.Usage.PromptTokens != len(ref.IDs[0])+len(ref.IDs[1]) {
		t.Fatalf("embeddings: %d %s", code, body)
	}
	for i := range embs.Data {
		var v []float64
		json.Unmarshal(embs.Data[i].Embedding, &v)
		// ref.Embeddings are mean-pooled then normalized by torch.
		if cos := cosine(v, ref.Embeddings[i]); math.Abs(cos-1) > 1e-4 || math.Abs(norm(v)-1) < 1e-3 {
			t.Fatalf("mean embedding %d: cosine %v to torch, norm %v (must not be normalized)", i, cos, norm(v))
		}
	}
	code, body = post(t, e.url+"/v1/embeddings", map[string]any{"model": "test/emb", "input": ref.Sentences[0], "encoding_format": "base64"})
	if json.Unmarshal(body, &embs); code != 200 || len(embs.Data) != 1 {
		t.Fatalf("base64 embeddings: %d %s", code, body)
	}
	var b64 string
	json.Unmarshal(embs.Data[0].Embedding, &b64)
	raw, _ := base64.StdEncoding.DecodeString(b64)
	v := make([]float64, len(raw)/4)
	for i := range v {
		v[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])))
	}
	if len(v) != 32 || math.Abs(norm(v)-1) > 1e-5 {
		t.Fatalf("CLS + Normalize embedding: %d values, norm %v", len(v), norm(v))
	}
	code, body = post(t, e.url+"/v1/embeddings", map[string]any{"model": "test/emb-mean", "input": ref.Sentences[0]})
	json.Unmarshal(body, &embs)
	var mean []float64
	json.Unmarshal(embs.Data[0].Embedding, &mean)
	if cosine(mean, v) > 0.9999 {
		t.Fatalf("CLS pooling gave the mean-pooled embedding")
	}
}

func norm(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x * x
	}
	return math.Sqrt(s)
}

func cosine(a, b []float64) float64 {
	if len(a) != len(b) {
		return 0
	}
	d := 0.0
	for i := range a {
		d += a[i] * b[i]
	}
	return d / (norm(a) * norm(b))
}

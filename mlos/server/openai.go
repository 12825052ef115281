package server

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/mlos-foundation/axon/mlos"
	"github.com/mlos-foundation/axon/mlos/chattemplate"
)

// The OpenAI-compatible API under /v1: model ids are the registered names.

func (s *Server) openAIRoutes(e *echo.Echo) {
	e.GET("/v1/models", s.oa(s.oaModels))
	e.GET("/v1/models/*", s.oa(s.oaModel))
	e.POST("/v1/chat/completions", s.oa(s.counted(s.oaChat)))
	e.POST("/v1/completions", s.oa(s.counted(s.oaCompletions)))
	e.POST("/v1/embeddings", s.oa(s.counted(s.oaEmbeddings)))
	e.Any("/v1/*", s.oa(func(c echo.Context) error {
		path := c.Request().URL.Path
		allow := ""
		switch {
		case path == "/v1/chat/completions" || path == "/v1/completions" || path == "/v1/embeddings":
			allow = http.MethodPost
		case path == "/v1/models" || strings.HasPrefix(path, "/v1/models/"):
			allow = http.MethodGet
		}
		if allow != "" {
			c.Response().Header().Set("Allow", allow)
			return echo.NewHTTPError(http.StatusMethodNotAllowed, fmt.Sprintf("%s %s is not allowed; use %s", c.Request().Method, path, allow))
		}
		return mlos.NotFound("no route %s %s in the OpenAI-compatible API", c.Request().Method, path)
	}))
}

// oaErrorBody is OpenAI's error shape.
type oaErrorBody struct {
	Error oaError `json:"error"`
}

type oaError struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

// badParam is a 400 about one request field, answered with its name in "param".
func badParam(param, format string, args ...any) error {
	return mlos.BadParam(param, format, args...)
}

// oa answers a handler's errors in OpenAI's shape with the runtime's status.
func (s *Server) oa(h echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := h(c)
		if err == nil || c.Response().Committed {
			return nil
		}
		status := mlos.StatusOf(err)
		msg := err.Error()
		var he *echo.HTTPError
		if errors.As(err, &he) {
			status, msg = he.Code, fmt.Sprint(he.Message)
			if status == http.StatusRequestEntityTooLarge {
				msg = fmt.Sprintf("request body larger than %d bytes", s.max)
			}
		}
		body := oaErrorBody{Error: oaError{Message: msg, Type: "invalid_request_error"}}
		if param := mlos.ParamOf(err); param != "" {
			body.Error.Param = &param
		}
		code := ""
		switch {
		case status == http.StatusNotFound && errors.Is(err, mlos.ErrNotRegistered):
			code = "model_not_found"
		case status == http.StatusServiceUnavailable:
			body.Error.Type = "server_error"
		case status >= 500:
			body.Error.Type = "server_error"
			s.log.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
		}
		if code != "" {
			body.Error.Code = &code
		}
		return c.JSON(status, body)
	}
}

// --- models ---

type oaModelObject struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

type oaModelList struct {
	Object string          `json:"object"`
	Data   []oaModelObject `json:"data"`
}

func modelObject(m *mlos.Model) oaModelObject {
	created := time.Now().Unix()
	if in := m.Info(); in.LoadedAt != nil {
		created = in.LoadedAt.Unix()
	}
	return oaModelObject{ID: m.Name, Object: "model", Created: created, OwnedBy: "mlosd"}
}

func (s *Server) oaModels(c echo.Context) error {
	list := oaModelList{Object: "list", Data: []oaModelObject{}}
	for _, m := range s.m.List() {
		list.Data = append(list.Data, modelObject(m))
	}
	return c.JSON(http.StatusOK, list)
}

func (s *Server) oaModel(c echo.Context) error {
	m, err := s.oaLookup(c.Param("*"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, modelObject(m))
}

// counted records the request in the model's nv_inference_request_* metrics
// once the handler has looked the model up.
func (s *Server) counted(h echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := h(c)
		if m, ok := c.Get("oa-model").(*mlos.Model); ok {
			s.m.Metrics.Request(m.Name, m.Version, err == nil, time.Since(start))
		}
		return err
	}
}

func (s *Server) oaLookup(name string) (*mlos.Model, error) {
	if name == "" {
		return nil, badParam("model", `missing "model": one of the names GET /v1/models lists`)
	}
	m, ok := s.m.Get(name)
	if !ok {
		return nil, mlos.WithParam("model", mlos.NotFound("the model %q is %w; GET /v1/models lists those that are", name, mlos.ErrNotRegistered))
	}
	return m, nil
}

// --- shared request pieces ---

// stopField is OpenAI's "stop": a string or a list of strings.
type stopField []string

func (s *stopField) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = stopField{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("stop must be a string or a list of strings")
	}
	*s = many
	return nil
}

type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// samplingFields are what chat and completions requests share.
type samplingFields struct {
	Model               string          `json:"model"`
	Temperature         *float64        `json:"temperature"`
	TopP                *float64        `json:"top_p"`
	MaxTokens           *int            `json:"max_tokens"`
	MaxCompletionTokens *int            `json:"max_completion_tokens"`
	Stop                stopField       `json:"stop"`
	Seed                *int64          `json:"seed"`
	N                   *int            `json:"n"`
	Stream              bool            `json:"stream"`
	StreamOptions       *streamOptions  `json:"stream_options"`
	FrequencyPenalty    *float64        `json:"frequency_penalty"`
	PresencePenalty     *float64        `json:"presence_penalty"`
	Logprobs            json.RawMessage `json:"logprobs"`
	// MinTokens is vLLM's extension: end-of-sequence is held off until then.
	MinTokens *int `json:"min_tokens"`
}

func (f samplingFields) params() (mlos.GenerateParams, error) {
	var p mlos.GenerateParams
	if f.N != nil && *f.N != 1 {
		return p, badParam("n", "n must be 1: mlosd answers one choice per request, got %d", *f.N)
	}
	for name, v := range map[string]*float64{"frequency_penalty": f.FrequencyPenalty, "presence_penalty": f.PresencePenalty} {
		if v != nil && *v != 0 {
			return p, badParam(name, "%s is not supported; leave it out or send 0", name)
		}
	}
	if lp := bytes.TrimSpace(f.Logprobs); len(lp) > 0 && string(lp) != "null" && string(lp) != "false" && string(lp) != "0" {
		return p, badParam("logprobs", "logprobs are not supported")
	}
	if f.Temperature != nil && (*f.Temperature < 0 || *f.Temperature > 2 || math.IsNaN(*f.Temperature)) {
		return p, badParam("temperature", "temperature must be between 0 and 2, got %v", *f.Temperature)
	}
	if f.TopP != nil && !(*f.TopP > 0 && *f.TopP <= 1) {
		return p, badParam("top_p", "top_p must be in (0, 1], got %v", *f.TopP)
	}
	if len(f.Stop) > 4 {
		return p, badParam("stop", "at most 4 stop sequences, got %d", len(f.Stop))
	}
	for _, st := range f.Stop {
		if st == "" {
			return p, badParam("stop", "stop sequences must not be empty")
		}
	}
	p.Temperature, p.TopP, p.Seed, p.Stop = f.Temperature, f.TopP, f.Seed, f.Stop
	if f.MinTokens != nil && *f.MinTokens < 0 {
		return p, badParam("min_tokens", "min_tokens must not be negative, got %d", *f.MinTokens)
	}
	p.MinNewTokens = f.MinTokens
	p.MaxNewTokens = f.MaxTokens
	param := "max_tokens"
	if f.MaxCompletionTokens != nil {
		p.MaxNewTokens, param = f.MaxCompletionTokens, "max_completion_tokens"
	}
	if p.MaxNewTokens != nil && *p.MaxNewTokens < 1 {
		return p, badParam(param, "%s must be at least 1, got %d", param, *p.MaxNewTokens)
	}
	return p, nil
}

// oaGenerator looks up a chat or completions request's model, which must
// generate text, and reads its sampling parameters.
func (s *Server) oaGenerator(c echo.Context, f samplingFields) (*mlos.Model, mlos.GenerateParams, error) {
	m, err := s.oaLookup(f.Model)
	if err != nil {
		return nil, mlos.GenerateParams{}, err
	}
	c.Set("oa-model", m)
	if !m.CanGenerate() {
		return nil, mlos.GenerateParams{}, badParam("model", "model %s does not generate text (task %q)", m.Name, m.Task())
	}
	params, err := f.params()
	if err != nil {
		return nil, mlos.GenerateParams{}, err
	}
	return m, params, nil
}

// generate runs one generation for chat or completions, mapping the
// runtime's max_new_tokens wording to the OpenAI field.
func (s *Server) oaGenerate(c echo.Context, m *mlos.Model, req mlos.GenerateRequest, emit func(mlos.Token) error) (*mlos.GenerateResult, error) {
	req.DefaultToCap = true
	res, err := m.Generate(c.Request().Context(), req, emit)
	if mlos.ParamOf(err) == "max_new_tokens" {
		return res, badParam("max_tokens", "%s", strings.ReplaceAll(err.Error(), "max_new_tokens", "max_tokens"))
	}
	return res, err
}

func (s *Server) oaDecode(c echo.Context, v any) error {
	b, err := readBody(c)
	if err != nil {
		return err
	}
	return decodeJSON(b, v)
}

func newID(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

type oaUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

func usageOf(r *mlos.GenerateResult) *oaUsage {
	return &oaUsage{PromptTokens: r.PromptTokens, CompletionTokens: r.CompletionTokens, TotalTokens: r.PromptTokens + r.CompletionTokens}
}

// --- chat completions ---

type chatRequest struct {
	samplingFields
	Messages json.RawMessage `json:"messages"`
	Tools    json.RawMessage `json:"tools"`
}

type chatMessage struct {
	Role    string  `json:"role"`
	Content *string `json:"content"`
}

type chatChoice struct {
	Index        int             `json:"index"`
	Message      *chatMessage    `json:"message,omitempty"`
	Delta        *chatMessageOut `json:"delta,omitempty"`
	FinishReason *string         `json:"finish_reason"`
	Logprobs     *struct{}       `json:"logprobs"`
}

type chatMessageOut struct {
	Role    string  `json:"role,omitempty"`
	Content *string `json:"content,omitempty"`
}

type chatResponse struct {
	ID                string       `json:"id"`
	Object            string       `json:"object"`
	Created           int64        `json:"created"`
	Model             string       `json:"model"`
	SystemFingerprint string       `json:"system_fingerprint"`
	Choices           []chatChoice `json:"choices"`
	Usage             *oaUsage     `json:"usage,omitempty"`
}

var chatRoles = map[string]bool{"system": true, "developer": true, "user": true, "assistant": true, "tool": true}

// chatMessages checks the messages and turns them into what chat templates
// read: role and content (text parts joined), other fields (tool_calls,
// name, tool_call_id) kept as sent, nested objects in their key order.
func chatMessages(raw json.RawMessage) ([]map[string]any, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" || string(raw) == "[]" {
		return nil, badParam("messages", "messages must not be empty")
	}
	out, err := chattemplate.DecodeMessages(raw)
	if err != nil {
		return nil, badParam("messages", "messages must be a list of objects with role and content: %v", err)
	}
	if len(out) == 0 {
		return nil, badParam("messages", "messages must not be empty")
	}
	for i, msg := range out {
		role, _ := msg["role"].(string)
		if !chatRoles[role] {
			return nil, badParam(fmt.Sprintf("messages[%d].role", i), "messages[%d].role %q is not one of system, developer, user, assistant, tool", i, msg["role"])
		}
		switch c := msg["content"].(type) {
		case string, nil:
		case []any:
			var sb strings.Builder
			for j, part := range c {
				var p map[string]any
				switch v := part.(type) {
				case chattemplate.Object:
					p = v.Map()
				case map[string]any:
					p = v
				}
				if t, _ := p["type"].(string); t != "text" {
					return nil, badParam(fmt.Sprintf("messages[%d].content[%d]", i, j), "messages[%d].content[%d]: only text parts are supported, got type %v", i, j, p["type"])
				}
				text, _ := p["text"].(string)
				sb.WriteString(text)
			}
			msg["content"] = sb.String()
		default:
			return nil, badParam(fmt.Sprintf("messages[%d].content", i), "messages[%d].content must be a string or a list of text parts", i)
		}
	}
	return out, nil
}

// chatTools decodes "tools" for the template, keeping their key order.
func chatTools(raw json.RawMessage) ([]map[string]any, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	tools, err := chattemplate.DecodeTools(raw)
	if err != nil {
		return nil, badParam("tools", "tools must be a list of tool objects: %v", err)
	}
	return tools, nil
}

func (s *Server) oaChat(c echo.Context) error {
	var req chatRequest
	if err := s.oaDecode(c, &req); err != nil {
		return err
	}
	m, params, err := s.oaGenerator(c, req.samplingFields)
	if err != nil {
		return err
	}
	msgs, err := chatMessages(req.Messages)
	if err != nil {
		return err
	}
	tools, err := chatTools(req.Tools)
	if err != nil {
		return err
	}
	prompt, err := m.RenderChat(msgs, tools)
	if err != nil {
		return err
	}
	gen := mlos.GenerateRequest{Prompt: prompt, Params: params, NoSpecialTokens: true}
	id, created := newID("chatcmpl-"), time.Now().Unix()
	chunk := func(choices []chatChoice, usage *oaUsage) chatResponse {
		return chatResponse{ID: id, Object: "chat.completion.chunk", Created: created, Model: m.Name, SystemFingerprint: "mlosd", Choices: choices, Usage: usage}
	}
	if !req.Stream {
		res, err := s.oaGenerate(c, m, gen, nil)
		if err != nil {
			return err
		}
		text := res.Text
		reason := res.FinishReason
		return c.JSON(http.StatusOK, chatResponse{ID: id, Object: "chat.completion", Created: created, Model: m.Name, SystemFingerprint: "mlosd",
			Choices: []chatChoice{{Message: &chatMessage{Role: "assistant", Content: &text}, FinishReason: &reason}}, Usage: usageOf(res)})
	}
	out := &sse{c: c}
	sentRole := false
	send := func(delta chatMessageOut, reason *string) error {
		return out.event("", chunk([]chatChoice{{Delta: &delta, FinishReason: reason}}, nil))
	}
	res, err := s.oaGenerate(c, m, gen, func(tok mlos.Token) error {
		if !sentRole {
			sentRole = true
			empty := ""
			if err := send(chatMessageOut{Role: "assistant", Content: &empty}, nil); err != nil {
				return err
			}
		}
		if tok.Text == "" {
			return nil
		}
		text := tok.Text
		return send(chatMessageOut{Content: &text}, nil)
	})
	return s.oaFinishStream(c, out, err, func() error {
		if !sentRole {
			empty := ""
			if err := send(chatMessageOut{Role: "assistant", Content: &empty}, nil); err != nil {
				return err
			}
		}
		reason := res.FinishReason
		if err := send(chatMessageOut{}, &reason); err != nil {
			return err
		}
		if req.StreamOptions != nil && req.StreamOptions.IncludeUsage {
			return out.event("", chunk([]chatChoice{}, usageOf(res)))
		}
		return nil
	})
}

// oaFinishStream ends a stream: the final chunks and [DONE], or for an error
// before anything was sent the error itself (with its status), after that
// an error event.
func (s *Server) oaFinishStream(c echo.Context, out *sse, err error, final func() error) error {
	if err != nil {
		if !out.started {
			return err
		}
		if c.Request().Context().Err() == nil {
			out.event("", oaErrorBody{Error: oaError{Message: err.Error(), Type: "server_error"}})
			out.raw("", []byte("[DONE]"))
		}
		return nil
	}
	if err := final(); err != nil {
		return nil // the client left
	}
	out.raw("", []byte("[DONE]"))
	return nil
}

// --- completions ---

type completionRequest struct {
	samplingFields
	Prompt json.RawMessage `json:"prompt"`
	Echo   bool            `json:"echo"`
}

type completionChoice struct {
	Text         string    `json:"text"`
	Index        int       `json:"index"`
	Logprobs     *struct{} `json:"logprobs"`
	FinishReason *string   `json:"finish_reason"`
}

type completionResponse struct {
	ID                string             `json:"id"`
	Object            string             `json:"object"`
	Created           int64              `json:"created"`
	Model             string             `json:"model"`
	SystemFingerprint string             `json:"system_fingerprint"`
	Choices           []completionChoice `json:"choices"`
	Usage             *oaUsage           `json:"usage,omitempty"`
}

// completionPrompt reads "prompt": a string, a list of one string, token
// ids, or a list of one list of token ids.
func completionPrompt(raw json.RawMessage) (mlos.GenerateRequest, error) {
	var req mlos.GenerateRequest
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return req, badParam("prompt", `missing "prompt"`)
	}
	var text string
	if json.Unmarshal(raw, &text) == nil {
		req.Prompt = text
		return req, nil
	}
	var texts []string
	if json.Unmarshal(raw, &texts) == nil {
		if len(texts) != 1 {
			return req, badParam("prompt", "send one prompt per request, got %d", len(texts))
		}
		req.Prompt = texts[0]
		return req, nil
	}
	var ids []int64
	if json.Unmarshal(raw, &ids) == nil {
		req.PromptIDs = ids
		return req, nil
	}
	var idLists [][]int64
	if json.Unmarshal(raw, &idLists) == nil && len(idLists) == 1 {
		req.PromptIDs = idLists[0]
		return req, nil
	}
	return req, badParam("prompt", "prompt must be a string or a list of token ids (one prompt per request)")
}

func (s *Server) oaCompletions(c echo.Context) error {
	var req completionRequest
	if err := s.oaDecode(c, &req); err != nil {
		return err
	}
	m, params, err := s.oaGenerator(c, req.samplingFields)
	if err != nil {
		return err
	}
	gen, err := completionPrompt(req.Prompt)
	if err != nil {
		return err
	}
	if req.MaxTokens == nil && req.MaxCompletionTokens == nil {
		// The legacy completions API's default.
		sixteen := 16
		params.MaxNewTokens = &sixteen
	}
	gen.Params = params
	for _, id := range gen.PromptIDs {
		if id < 0 {
			return badParam("prompt", "token id %d is negative", id)
		}
	}
	echoText := ""
	if req.Echo {
		echoText = gen.Prompt
	}
	id, created := newID("cmpl-"), time.Now().Unix()
	if !req.Stream {
		res, err := s.oaGenerate(c, m, gen, nil)
		if err != nil {
			return err
		}
		reason := res.FinishReason
		return c.JSON(http.StatusOK, completionResponse{ID: id, Object: "text_completion", Created: created, Model: m.Name, SystemFingerprint: "mlosd",
			Choices: []completionChoice{{Text: echoText + res.Text, FinishReason: &reason}}, Usage: usageOf(res)})
	}
	out := &sse{c: c}
	chunk := func(text string, reason *string, usage *oaUsage) completionResponse {
		choices := []completionChoice{{Text: text, FinishReason: reason}}
		if usage != nil {
			choices = []completionChoice{}
		}
		return completionResponse{ID: id, Object: "text_completion", Created: created, Model: m.Name, SystemFingerprint: "mlosd", Choices: choices, Usage: usage}
	}
	res, err := s.oaGenerate(c, m, gen, func(tok mlos.Token) error {
		if echoText != "" {
			text := echoText
			echoText = ""
			if err := out.event("", chunk(text, nil, nil)); err != nil {
				return err
			}
		}
		if tok.Text == "" {
			return nil
		}
		return out.event("", chunk(tok.Text, nil, nil))
	})
	return s.oaFinishStream(c, out, err, func() error {
		reason := res.FinishReason
		if err := out.event("", chunk(echoText, &reason, nil)); err != nil {
			return err
		}
		if req.StreamOptions != nil && req.StreamOptions.IncludeUsage {
			return out.event("", chunk("", nil, usageOf(res)))
		}
		return nil
	})
}

// --- embeddings ---

type embeddingRequest struct {
	Model          string          `json:"model"`
	Input          json.RawMessage `json:"input"`
	EncodingFormat string          `json:"encoding_format"`
	Dimensions     *int            `json:"dimensions"`
	User           string          `json:"user"`
}

type embeddingObject struct {
	Object    string `json:"object"`
	Index     int    `json:"index"`
	Embedding any    `json:"embedding"`
}

type embeddingResponse struct {
	Object string            `json:"object"`
	Data   []embeddingObject `json:"data"`
	Model  string            `json:"model"`
	Usage  struct {
		PromptTokens int `json:"prompt_tokens"`
		TotalTokens  int `json:"total_tokens"`
	} `json:"usage"`
}

func embeddingInputs(raw json.RawMessage) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, badParam("input", `missing "input": a string or a list of strings`)
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, nil
	}
	var many []string
	if json.Unmarshal(raw, &many) == nil {
		if len(many) == 0 {
			return nil, badParam("input", "input must not be an empty list")
		}
		if len(many) > 2048 {
			return nil, badParam("input", "at most 2048 inputs per request, got %d", len(many))
		}
		return many, nil
	}
	return nil, badParam("input", "input must be a string or a list of strings (token-id inputs are not supported)")
}

func (s *Server) oaEmbeddings(c echo.Context) error {
	var req embeddingRequest
	if err := s.oaDecode(c, &req); err != nil {
		return err
	}
	m, err := s.oaLookup(req.Model)
	if err != nil {
		return err
	}
	c.Set("oa-model", m)
	if !m.CanEmbed() {
		return badParam("model", "model %s does not answer embeddings (task %q); use a feature-extraction package", m.Name, m.Task())
	}
	switch req.EncodingFormat {
	case "", "float", "base64":
	default:
		return badParam("encoding_format", "encoding_format must be float or base64, got %q", req.EncodingFormat)
	}
	texts, err := embeddingInputs(req.Input)
	if err != nil {
		return err
	}
	for i, t := range texts {
		if t == "" {
			return badParam("input", "input[%d] is empty", i)
		}
	}
	vecs, tokens, err := m.Embed(c.Request().Context(), texts)
	if err != nil {
		return err
	}
	if req.Dimensions != nil && len(vecs) > 0 && *req.Dimensions != len(vecs[0]) {
		return badParam("dimensions", "model %s answers %d-dimensional embeddings and cannot shorten them; dimensions %d is not supported", m.Name, len(vecs[0]), *req.Dimensions)
	}
	resp := embeddingResponse{Object: "list", Model: m.Name, Data: make([]embeddingObject, len(vecs))}
	for i, v := range vecs {
		var emb any
		if req.EncodingFormat == "base64" {
			// OpenAI's base64 is the little-endian float32 bytes.
			b := make([]byte, 4*len(v))
			for j, x := range v {
				binary.LittleEndian.PutUint32(b[4*j:], math.Float32bits(float32(x)))
			}
			emb = base64.StdEncoding.EncodeToString(b)
		} else {
			f := make([]float32, len(v))
			for j, x := range v {
				f[j] = float32(x)
			}
			emb = f
		}
		resp.Data[i] = embeddingObject{Object: "embedding", Index: i, Embedding: emb}
	}
	resp.Usage.PromptTokens, resp.Usage.TotalTokens = tokens, tokens
	return c.JSON(http.StatusOK, resp)
}

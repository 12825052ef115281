package server

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/mlos-foundation/axon/mlos"
	"github.com/mlos-foundation/axon/mlos/api"
)

// sse writes Server-Sent Events. The response starts with the first event,
// so a request refused before any token still gets a plain JSON error with
// its status.
type sse struct {
	c       echo.Context
	started bool
	buf     []byte // one event, reused: written with one Write and one Flush
	js      bytes.Buffer
	enc     *json.Encoder // into js, reused across events
}

func (s *sse) start() {
	if s.started {
		return
	}
	s.started = true
	h := s.c.Response().Header()
	h.Set(echo.HeaderContentType, "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("Connection", "keep-alive")
	h.Set("X-Accel-Buffering", "no") // proxies must not buffer the stream
	s.c.Response().WriteHeader(http.StatusOK)
}

// event writes one event (name "" = the default "message") with v as JSON.
func (s *sse) event(name string, v any) error {
	if s.enc == nil {
		s.enc = json.NewEncoder(&s.js)
	}
	s.js.Reset()
	if err := s.enc.Encode(v); err != nil {
		return err
	}
	return s.raw(name, bytes.TrimSuffix(s.js.Bytes(), []byte{'\n'}))
}

func (s *sse) raw(name string, data []byte) error {
	s.start()
	w := s.c.Response()
	b := s.buf[:0]
	if name != "" {
		b = append(append(append(b, "event: "...), name...), '\n')
	}
	b = append(append(append(b, "data: "...), data...), "\n\n"...)
	s.buf = b
	if _, err := w.Write(b); err != nil {
		return err
	}
	w.Flush()
	return nil
}

// seedStream answers {"input": "text", "stream": true} with one event per
// token and a final event carrying the whole text. A client that goes away
// cancels the request's context, which stops the generation before its next
// step.
func (s *Server) seedStream(c echo.Context, m *mlos.Model, req api.InferenceRequest) error {
	var text string
	if err := json.Unmarshal(req.Input, &text); err != nil {
		return mlos.BadRequest(`"stream": true needs "input" to be a text`)
	}
	if !m.CanGenerate() {
		return mlos.BadRequest("model %s does not generate text (task %q); only generation streams", m.Name, m.Task())
	}
	params, err := mlos.ParamsFromMap(req.Parameters)
	if err != nil {
		return err
	}
	out := &sse{c: c}
	res, err := m.Generate(c.Request().Context(), mlos.GenerateRequest{Prompt: text, Params: params}, func(tok mlos.Token) error {
		return out.event("", api.StreamToken{Token: tok})
	})
	if err != nil {
		if !out.started {
			return err
		}
		// Mid-stream failures end the stream with an error event; a client
		// that left gets nothing more.
		if c.Request().Context().Err() == nil {
			out.event("error", api.ErrorResponse{Error: err.Error()})
		}
		return nil
	}
	return out.event("", api.StreamEnd{GeneratedText: text + res.Text, TokenIDs: res.TokenIDs, FinishReason: res.FinishReason, PromptTokens: res.PromptTokens, CompletionTokens: res.CompletionTokens})
}

package mlos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/mlos-foundation/axon/mlos/api"
	"github.com/mlos-foundation/axon/mlos/chattemplate"
	"github.com/mlos-foundation/axon/schemas"
)

// DefaultMaxNewTokensCap is the server cap on max_new_tokens when
// Options.MaxNewTokens is 0.
const DefaultMaxNewTokensCap = 4096

// GenerateParams are a request's generation parameters. Nil fields take the
// package's defaults (generation_config.json, then config.json, then the
// transformers defaults).
type GenerateParams struct {
	MaxNewTokens      *int     `json:"max_new_tokens,omitempty"`
	MinNewTokens      *int     `json:"min_new_tokens,omitempty"`
	Temperature       *float64 `json:"temperature,omitempty"`
	TopK              *int     `json:"top_k,omitempty"`
	TopP              *float64 `json:"top_p,omitempty"`
	RepetitionPenalty *float64 `json:"repetition_penalty,omitempty"`
	DoSample          *bool    `json:"do_sample,omitempty"`
	Seed              *int64   `json:"seed,omitempty"`
	Stop              []string `json:"stop,omitempty"`
	// EOSTokenID overrides the package's end-of-sequence ids (int or list).
	EOSTokenID TokenIDs `json:"eos_token_id,omitempty"`
}

// TokenIDs reads a JSON int or list of ints (eos_token_id comes in both forms).
type TokenIDs []int64

func (t *TokenIDs) UnmarshalJSON(b []byte) error {
	var one int64
	if err := json.Unmarshal(b, &one); err == nil {
		*t = TokenIDs{one}
		return nil
	}
	var many []int64
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("want a token id or a list of token ids")
	}
	*t = many
	return nil
}

// GenerateRequest is one generation: a prompt as text (tokenized with the
// tokenizer's special tokens) or as token ids (used as they are).
type GenerateRequest struct {
	Prompt    string
	PromptIDs []int64
	Params    GenerateParams
	// NoSpecialTokens tokenizes Prompt without adding the tokenizer's
	// special tokens: a rendered chat template already holds them.
	NoSpecialTokens bool
	// DefaultToCap makes an unset max_new_tokens run to the server cap (or the
	// end of the model's positions) instead of the package default: the
	// OpenAI API's meaning of an absent max_tokens.
	DefaultToCap bool
}

// Token is one generated token as streamed (the wire type, api.Token).
type Token = api.Token

// Finish reasons, as the OpenAI API names them.
const (
	FinishStop   = "stop"
	FinishLength = "length"
)

// GenerateResult is a finished generation.
type GenerateResult struct {
	Text             string  // the completion (prompt not included), cut at a stop string
	TokenIDs         []int64 // generated ids
	FinishReason     string
	PromptTokens     int
	CompletionTokens int
	FirstToken       time.Duration // time to the first token
}

// Generation is the seed API's text-generation answer (the wire type, api.Generation).
type Generation = api.Generation

// genDefaults are a package's generation defaults.
type genDefaults struct {
	MaxNewTokens      int
	MinNewTokens      int
	Temperature       float64
	TopK              int
	TopP              float64
	RepetitionPenalty float64
	DoSample          bool
	EOS               []int64
	MaxPositions      int
}

type genConfigFile struct {
	MaxNewTokens      *int     `json:"max_new_tokens"`
	MinNewTokens      *int     `json:"min_new_tokens"`
	Temperature       *float64 `json:"temperature"`
	TopK              *int     `json:"top_k"`
	TopP              *float64 `json:"top_p"`
	RepetitionPenalty *float64 `json:"repetition_penalty"`
	DoSample          *bool    `json:"do_sample"`
	EOS               TokenIDs `json:"eos_token_id"`
	MaxPositions      int      `json:"max_position_embeddings"`
	NPositions        int      `json:"n_positions"`
}

// readGenDefaults reads generation_config.json, then config.json, over the
// transformers defaults; files that are missing or unreadable are skipped.
func readGenDefaults(dir string) genDefaults {
	d := genDefaults{MaxNewTokens: 20, Temperature: 1, TopK: 50, TopP: 1, RepetitionPenalty: 1}
	var files [2]genConfigFile
	for i, name := range []string{"generation_config.json", "config.json"} {
		if b, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
			_ = json.Unmarshal(b, &files[i])
		}
	}
	// generation_config.json wins: apply config.json first.
	for i := len(files) - 1; i >= 0; i-- {
		f := files[i]
		if f.MaxNewTokens != nil {
			d.MaxNewTokens = *f.MaxNewTokens
		}
		if f.MinNewTokens != nil {
			d.MinNewTokens = *f.MinNewTokens
		}
		if f.Temperature != nil {
			d.Temperature = *f.Temperature
		}
		if f.TopK != nil {
			d.TopK = *f.TopK
		}
		if f.TopP != nil {
			d.TopP = *f.TopP
		}
		if f.RepetitionPenalty != nil {
			d.RepetitionPenalty = *f.RepetitionPenalty
		}
		if f.DoSample != nil {
			d.DoSample = *f.DoSample
		}
		if len(f.EOS) > 0 {
			d.EOS = f.EOS
		}
		if f.MaxPositions > 0 {
			d.MaxPositions = f.MaxPositions
		} else if f.NPositions > 0 && d.MaxPositions == 0 {
			d.MaxPositions = f.NPositions
		}
	}
	return d
}

// genSettings are the resolved parameters of one generation.
type genSettings struct {
	maxNew, minNew int
	sampling       samplingParams
	stop           []string
	eos            []int64
}

// resolve checks a request's parameters against the package defaults, the
// server cap and the model's positions.
func (g *generator) resolve(req GenerateRequest, promptLen int) (genSettings, error) {
	p, d := req.Params, g.defaults
	s := genSettings{maxNew: d.MaxNewTokens, minNew: d.MinNewTokens, eos: d.EOS, stop: p.Stop}
	if req.DefaultToCap {
		s.maxNew = g.cap
	}
	if len(p.EOSTokenID) > 0 {
		s.eos = p.EOSTokenID
	}
	if p.MaxNewTokens != nil {
		if *p.MaxNewTokens < 0 {
			return s, BadParam("max_new_tokens", "max_new_tokens must not be negative, got %d", *p.MaxNewTokens)
		}
		if *p.MaxNewTokens > g.cap {
			return s, BadParam("max_new_tokens", "max_new_tokens %d is above this server's cap of %d", *p.MaxNewTokens, g.cap)
		}
		s.maxNew = *p.MaxNewTokens
	}
	if s.maxNew > g.cap {
		s.maxNew = g.cap
	}
	if p.MinNewTokens != nil {
		if *p.MinNewTokens < 0 {
			return s, BadRequest("min_new_tokens must not be negative, got %d", *p.MinNewTokens)
		}
		s.minNew = *p.MinNewTokens
	}
	if s.minNew > s.maxNew {
		s.minNew = s.maxNew
	}
	if len(s.stop) > 16 {
		return s, BadRequest("at most 16 stop strings, got %d", len(s.stop))
	}
	for _, st := range s.stop {
		if st == "" {
			return s, BadRequest("stop strings must not be empty")
		}
		if len(st) > 256 {
			return s, BadRequest("stop strings must be at most 256 bytes")
		}
	}
	if max := g.defaults.MaxPositions; max > 0 {
		if promptLen > max {
			return s, BadRequest("the prompt is %d tokens long, longer than the model's %d positions", promptLen, max)
		}
		if promptLen+s.maxNew > max {
			s.maxNew = max - promptLen
		}
	}
	sp := samplingParams{temperature: d.Temperature, topK: d.TopK, topP: d.TopP, repetitionPenalty: d.RepetitionPenalty, sample: d.DoSample}
	// A request that asks for a temperature, top_k or top_p samples unless
	// it also says do_sample: false, as OpenAI-style clients expect.
	if p.Temperature != nil {
		if *p.Temperature < 0 || *p.Temperature > 100 || math.IsNaN(*p.Temperature) {
			return s, BadRequest("temperature must be between 0 and 100, got %v", *p.Temperature)
		}
		sp.temperature, sp.sample = *p.Temperature, true
	}
	if p.TopK != nil {
		if *p.TopK < 0 {
			return s, BadRequest("top_k must not be negative, got %d", *p.TopK)
		}
		sp.topK, sp.sample = *p.TopK, true
	}
	if p.TopP != nil {
		if !(*p.TopP > 0 && *p.TopP <= 1) {
			return s, BadRequest("top_p must be in (0, 1], got %v", *p.TopP)
		}
		sp.topP, sp.sample = *p.TopP, true
	}
	if p.RepetitionPenalty != nil {
		if !(*p.RepetitionPenalty > 0) || math.IsInf(*p.RepetitionPenalty, 0) {
			return s, BadRequest("repetition_penalty must be positive, got %v", *p.RepetitionPenalty)
		}
		sp.repetitionPenalty = *p.RepetitionPenalty
	}
	if p.DoSample != nil {
		sp.sample = *p.DoSample
	}
	if sp.temperature == 0 {
		sp.sample = false
	}
	if p.Seed != nil {
		sp.seed, sp.seeded = *p.Seed, true
	}
	s.sampling = sp
	return s, nil
}

// ParamsFromMap reads the seed API's "parameters" object into typed
// generation parameters; a parameter of the wrong type is a 400.
func ParamsFromMap(params map[string]any) (GenerateParams, error) {
	var p GenerateParams
	if len(params) == 0 {
		return p, nil
	}
	b, err := json.Marshal(params)
	if err != nil {
		return p, BadRequest("parameters: %w", err)
	}
	// A single stop string is accepted as well as a list.
	if s, ok := params["stop"].(string); ok {
		params = cloneMap(params)
		params["stop"] = []string{s}
		b, _ = json.Marshal(params)
	}
	if err := json.Unmarshal(b, &p); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return p, BadRequest("parameter %s must be %s, not %s", te.Field, kindOf(te.Type.Kind().String()), te.Value)
		}
		return p, BadRequest("parameters: %w", err)
	}
	return p, nil
}

func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func kindOf(k string) string {
	switch {
	case strings.HasPrefix(k, "int"):
		return "an integer"
	case strings.HasPrefix(k, "float"):
		return "a number"
	case k == "slice":
		return "a list"
	}
	return "a " + k
}

// generator runs generations for one model: the decoder that owns the
// graph's inputs, the tokenizer and the package's defaults.
type generator struct {
	dec      decoder
	tok      TextTokenizer
	defaults genDefaults
	cap      int
	chat     *chattemplate.Template
	chatErr  error // a template that is there but does not parse
}

// CanGenerate reports whether the model serves text generation.
func (m *Model) CanGenerate() bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.gen != nil
}

// HasKVCache reports whether the model's graph takes a KV cache.
func (m *Model) HasKVCache() bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.gen != nil && m.gen.dec.cached()
}

// MaxPositions is the model's context length (0 when unknown).
func (m *Model) MaxPositions() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.gen == nil {
		return 0
	}
	return m.gen.defaults.MaxPositions
}

// Tokenizer returns the model's tokenizer (nil when it has none).
func (m *Model) Tokenizer() TextTokenizer {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.text == nil {
		return nil
	}
	return m.text.tok
}

// Generate runs one generation; emit, when not nil, gets each token as it is
// produced and stops the generation by returning an error. A cancelled ctx
// stops it before the next step.
func (m *Model) Generate(ctx context.Context, req GenerateRequest, emit func(Token) error) (*GenerateResult, error) {
	m.runMu.RLock()
	defer m.runMu.RUnlock()
	m.mu.RLock()
	g, state := m.gen, m.state
	m.mu.RUnlock()
	if state != StateReady {
		return nil, Unavailable("model %s is not ready (%s)", m.Name, state)
	}
	if g == nil {
		return nil, BadRequest("model %s does not generate text (task %q)", m.Name, m.Task())
	}
	start := time.Now()
	res, err := g.generate(ctx, req, emit)
	if res != nil {
		m.metrics.executed(m.Name, m.Version, 1, Phases{Infer: time.Since(start)})
		m.metrics.generated(m.Name, m.Version, res.PromptTokens, len(res.TokenIDs), res.FirstToken)
	}
	return res, err
}

func (g *generator) generate(ctx context.Context, req GenerateRequest, emit func(Token) error) (*GenerateResult, error) {
	start := time.Now()
	prompt := req.PromptIDs
	if prompt == nil {
		enc, err := g.tok.Encode(req.Prompt)
		if plain, ok := g.tok.(plainEncoder); ok && req.NoSpecialTokens {
			enc, err = plain.EncodePlain(req.Prompt)
		}
		if err != nil {
			return nil, BadRequest("tokenize: %w", err)
		}
		prompt = enc.IDs
	}
	if len(prompt) == 0 {
		return nil, BadRequest("the prompt gives no tokens")
	}
	set, err := g.resolve(req, len(prompt))
	if err != nil {
		return nil, err
	}
	res := &GenerateResult{PromptTokens: len(prompt), FinishReason: FinishLength}
	smp := newSampler(set.sampling)
	text := newTextStream(g.tok, prompt, set.stop)
	if set.maxNew == 0 {
		return res, nil
	}
	st, err := g.dec.start(len(prompt) + set.maxNew)
	if err != nil {
		return nil, err
	}
	// Tokens reach emit through a writer of their own, so a slow client
	// (a blocked write) holds back neither this sequence's steps nor, when
	// decode steps are batched, anyone else's. The sequence leaves its batch
	// before its writer is waited for.
	var out *emitter
	if emit != nil {
		out = newEmitter(emit, set.maxNew+2)
	}
	defer func() {
		st.close()
		out.finish()
	}()
	history := append(make([]int64, 0, len(prompt)+set.maxNew), prompt...)
	feed := prompt
	for len(res.TokenIDs) < set.maxNew {
		if err := ctx.Err(); err != nil {
			return res, Unavailable("generation stopped: %w", err)
		}
		decodeSteps.Add(1)
		logits, err := st.step(ctx, feed)
		if err != nil {
			return res, runError(err)
		}
		var suppress []int64
		if len(res.TokenIDs) < set.minNew {
			suppress = set.eos
		}
		next := smp.next(logits, history, suppress)
		if len(res.TokenIDs) == 0 {
			res.FirstToken = time.Since(start)
		}
		if containsID(set.eos, next) {
			res.FinishReason = FinishStop
			break
		}
		res.TokenIDs = append(res.TokenIDs, next)
		history = append(history, next)
		last := len(res.TokenIDs) >= set.maxNew
		if pf, ok := st.(prefeeder); ok && !last {
			// A batched row hands its next token over before the text work,
			// so the batch's next step need not wait for this row's output.
			pf.prefeed(next)
		}
		piece, stopped := text.push(next)
		if piece != "" || !stopped {
			if err := out.send(Token{ID: next, Text: piece}); err != nil {
				return res, err
			}
		}
		if stopped {
			res.FinishReason = FinishStop
			break
		}
		feed = []int64{next}
	}
	st.close()
	if rest := text.flush(); rest != "" {
		if err := out.send(Token{ID: -1, Text: rest}); err != nil {
			return res, err
		}
	}
	res.Text = text.text()
	res.CompletionTokens = len(res.TokenIDs)
	if err := out.finish(); err != nil {
		return res, err
	}
	return res, nil
}

// emitter hands tokens to emit from a goroutine of its own. Its buffer holds
// every token a generation can produce, so send never blocks; the first
// error emit returns is answered by the following sends, which ends the
// generation.
type emitter struct {
	ch   chan Token
	done chan struct{}
	once sync.Once
	mu   sync.Mutex
	err  error
}

func newEmitter(emit func(Token) error, n int) *emitter {
	e := &emitter{ch: make(chan Token, n), done: make(chan struct{})}
	go func() {
		defer close(e.done)
		for tok := range e.ch {
			if e.failed() != nil {
				continue
			}
			if err := emit(tok); err != nil {
				e.mu.Lock()
				e.err = err
				e.mu.Unlock()
			}
		}
	}()
	return e
}

func (e *emitter) failed() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err
}

// send queues a token (nil emitter: nothing to do).
func (e *emitter) send(t Token) error {
	if e == nil {
		return nil
	}
	if err := e.failed(); err != nil {
		return err
	}
	e.ch <- t
	return nil
}

// finish waits until every queued token was emitted (idempotent).
func (e *emitter) finish() error {
	if e == nil {
		return nil
	}
	e.once.Do(func() { close(e.ch) })
	<-e.done
	return e.failed()
}

func containsID(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// newGenerator sets up generation for a loaded model: nil when the model
// does not generate text, an error when its KV cache cannot be driven
// (refused at register time rather than at the first request).
func newGenerator(pkg *Package, b Backend, pipe *textEncoder, cap, maxRows int) (*generator, error) {
	var kc kvConfig
	if cfg, err := schemas.ReadHFConfig(pkg.Dir); err == nil {
		kc = cfg.AttentionShape
	}
	layout, err := detectCache(b.Inputs(), b.Outputs(), kc)
	if err != nil {
		return nil, err
	}
	if cap <= 0 {
		cap = DefaultMaxNewTokensCap
	}
	if pipe == nil {
		return nil, nil
	}
	if layout != nil && pipe.task == "" {
		pipe.task = TaskTextGeneration
	}
	if pipe.task != TaskTextGeneration {
		return nil, nil
	}
	g := &generator{tok: pipe.tok, defaults: readGenDefaults(pkg.Dir), cap: cap}
	g.chat, g.chatErr = loadChat(pkg.Dir)
	if len(g.defaults.EOS) == 0 && pipe.eos >= 0 {
		g.defaults.EOS = []int64{pipe.eos}
	}
	if layout == nil {
		g.dec = &recomputeDecoder{b: b, pipe: pipe}
		return g, nil
	}
	ob, ok := b.(*ortBackend)
	if !ok {
		return nil, fmt.Errorf("KV-cache generation needs the onnxruntime plugin")
	}
	cd := &cacheDecoder{l: layout, b: ob}
	g.dec = cd
	if maxRows > 1 && batchableCache(layout, b.Inputs(), b.Outputs()) {
		g.dec = &batchingDecoder{cacheDecoder: cd, maxRows: maxRows}
	}
	return g, nil
}

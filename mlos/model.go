package mlos

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mlos-foundation/axon/internal/signing"
	"github.com/mlos-foundation/axon/mlos/api"
	"github.com/mlos-foundation/axon/schemas"
)

// Model states (api's, which Info reports).
const (
	StateLoading  = api.StateLoading
	StateReady    = api.StateReady
	StateFailed   = api.StateFailed
	StateUnloaded = api.StateUnloaded
)

// Model is one registered package.
type Model struct {
	Name     string
	Version  string
	Ref      string // as registered (may hold a tag)
	Pinned   string // the reference by digest it was pulled with
	Digest   string
	Manifest *schemas.Manifest
	Dir      string
	Signer   *signing.Signature // the verified signature it was registered with, if any

	mu sync.RWMutex
	// runMu is held shared by every execution and exclusively while the
	// session is closed, so a model is never freed under a running request.
	runMu    sync.RWMutex
	state    string
	err      string
	loadedAt time.Time
	backend  Backend
	inputs   []TensorSpec
	outputs  []TensorSpec
	inIndex  map[string]int
	batcher  *batcher
	text     *textEncoder // nil when the model has no tokenizer
	pipe     TextPipeline // the task's pipeline over text
	gen      *generator
	metrics  *Metrics
}

// Status is a snapshot of the model's state.
func (m *Model) Status() (state, errMsg string) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.state, m.err
}

// Ready reports whether the model can serve.
func (m *Model) Ready() bool {
	s, _ := m.Status()
	return s == StateReady
}

// Inputs and Outputs are the I/O specs computed at load (nil before).
func (m *Model) Inputs() []TensorSpec {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.inputs
}

func (m *Model) Outputs() []TensorSpec {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.outputs
}

// Task is the task the model serves: the manifest's, else the one its text
// pipeline guessed from config.json ("" when unknown).
func (m *Model) Task() string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.task()
}

func (m *Model) task() string {
	if m.text != nil && m.text.task != "" {
		return m.text.task
	}
	if m.Manifest == nil {
		return ""
	}
	return m.Manifest.Task
}

// The wire types of the seed API live in mlos/api, so clients need not
// link the runtime; these names keep the server's code reading as before.
type (
	Info           = api.Info
	TensorInfo     = api.TensorInfo
	GenerationInfo = api.GenerationInfo
)

// Info returns the model's JSON view.
func (m *Model) Info() Info {
	m.mu.RLock()
	defer m.mu.RUnlock()
	in := Info{Name: m.Name, Version: m.Version, Ref: m.Ref, Digest: m.Digest, State: m.state, Error: m.err, Batching: m.batcher != nil}
	in.Task = m.task()
	if sg := m.Signer; sg != nil {
		in.Signer = &api.Signer{Key: sg.Key, KeySource: sg.KeySource, DockerReference: sg.DockerReference, Manifest: sg.Manifest}
	}
	if m.Manifest != nil {
		in.Format = m.Manifest.Format.Name
	}
	for _, s := range m.inputs {
		in.Inputs = append(in.Inputs, TensorInfo{Name: s.Name, Datatype: string(s.DType), Shape: s.ShapeString()})
	}
	for _, s := range m.outputs {
		in.Outputs = append(in.Outputs, TensorInfo{Name: s.Name, Datatype: string(s.DType), Shape: s.ShapeString()})
	}
	if !m.loadedAt.IsZero() {
		t := m.loadedAt
		in.LoadedAt = &t
	}
	if g := m.gen; g != nil {
		_, batched := g.dec.(*batchingDecoder)
		in.Generation = &GenerationInfo{KVCache: g.dec.cached(), ChatTemplate: g.chat != nil, Batched: batched, MaxPositions: g.defaults.MaxPositions}
	}
	return in
}

func (m *Model) setState(state, errMsg string) {
	m.mu.Lock()
	m.state, m.err = state, errMsg
	m.mu.Unlock()
	m.metrics.ready(m.Name, m.Version, state == StateReady)
}

// attach installs a loaded backend.
func (m *Model) attach(b Backend, batch BatchOptions, text *textEncoder, gen *generator) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.backend = b
	m.inputs = b.Inputs()
	m.outputs = b.Outputs()
	m.inIndex = make(map[string]int, len(m.inputs))
	for i, s := range m.inputs {
		m.inIndex[s.Name] = i
	}
	if batch.MaxBatchSize > 1 && batchable(m.inputs, m.outputs) {
		name, version := m.Name, m.Version
		m.batcher = newBatcher(b, batch, func(rows int, ph Phases) { m.metrics.executed(name, version, rows, ph) })
	}
	m.text, m.gen = text, gen
	m.pipe = nil
	if text != nil {
		m.pipe = newTaskPipeline(text)
	}
	m.state, m.err = StateReady, ""
	m.loadedAt = time.Now()
	m.metrics.ready(m.Name, m.Version, true)
}

// detach stops serving and frees the session.
func (m *Model) detach(state string) {
	m.mu.Lock()
	b, bt := m.backend, m.batcher
	m.backend, m.batcher, m.text, m.pipe, m.gen = nil, nil, nil, nil, nil
	m.state, m.err = state, ""
	m.mu.Unlock()
	m.metrics.ready(m.Name, m.Version, false)
	if bt != nil {
		bt.close()
	}
	m.runMu.Lock()
	defer m.runMu.Unlock()
	if b != nil {
		b.Close()
	}
}

// Check validates named inputs against the model's specs and returns them
// in the model's input order. Errors are 400s naming the input and what was expected.
func (m *Model) Check(inputs map[string]*Tensor) ([]*Tensor, error) {
	m.mu.RLock()
	specs, index, pipe := m.inputs, m.inIndex, m.text
	m.mu.RUnlock()
	ordered := make([]*Tensor, len(specs))
	for name, t := range inputs {
		i, ok := index[name]
		if !ok {
			return nil, BadRequest("unknown input %q; the model takes %s", name, describe(specs))
		}
		ordered[i] = t
	}
	sym := map[string]int64{}
	for i, s := range specs {
		t := ordered[i]
		if t == nil {
			return nil, BadRequest("missing input %q (%s %s)", s.Name, s.DType.V2(), s.ShapeString())
		}
		if t.DType != s.DType {
			return nil, BadRequest("input %q: datatype %s, expected %s", s.Name, t.DType.V2(), s.DType.V2())
		}
		if len(t.Shape) != len(s.Shape) {
			return nil, BadRequest("input %q: shape %v has %d dimensions, expected %d: %s", s.Name, t.Shape, len(t.Shape), len(s.Shape), s.ShapeString())
		}
		for d, want := range s.Shape {
			got := t.Shape[d]
			if got < 0 || (want >= 0 && got != want) {
				return nil, BadRequest("input %q: shape %v, expected %s", s.Name, t.Shape, s.ShapeString())
			}
			if want < 0 && d < len(s.DimNames) && s.DimNames[d] != "" {
				if prev, ok := sym[s.DimNames[d]]; ok && prev != got {
					return nil, BadRequest("input %q: dimension %q is %d here but %d in another input", s.Name, s.DimNames[d], got, prev)
				}
				sym[s.DimNames[d]] = got
			}
		}
		if err := pipe.checkSequence(i, s.Name, t.Shape); err != nil {
			return nil, err
		}
		if n := NumElements(t.Shape); int64(t.Len()) != n {
			return nil, BadRequest("input %q: %d values for shape %v, which needs %d", s.Name, t.Len(), t.Shape, n)
		}
		if strs, ok := t.Data.([]string); ok {
			// ONNX Runtime takes strings as C strings: a NUL would cut the
			// element short without a word, so it is refused instead.
			for j, v := range strs {
				if strings.IndexByte(v, 0) >= 0 {
					return nil, BadRequest("input %q: element %d holds a NUL byte, which ONNX Runtime string tensors cannot carry", s.Name, j)
				}
			}
		}
	}
	return ordered, nil
}

func describe(specs []TensorSpec) string {
	parts := make([]string, len(specs))
	for i, s := range specs {
		parts[i] = fmt.Sprintf("%s (%s %s)", s.Name, s.DType.V2(), s.ShapeString())
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// RunStats says where a request's time went.
type RunStats struct {
	Queue, Compute time.Duration
	BatchSize      int
}

// Run executes checked inputs (model input order), batching them with other
// requests where the model allows.
func (m *Model) Run(ctx context.Context, inputs []*Tensor) ([]*Tensor, RunStats, error) {
	m.runMu.RLock()
	defer m.runMu.RUnlock()
	m.mu.RLock()
	b, bt := m.backend, m.batcher
	state := m.state
	m.mu.RUnlock()
	if b == nil {
		return nil, RunStats{}, Unavailable("model %s is not ready (%s)", m.Name, state)
	}
	if bt != nil {
		res := bt.run(ctx, inputs)
		m.metrics.queued(m.Name, m.Version, res.queue)
		if res.err != nil {
			return nil, RunStats{}, runError(res.err)
		}
		return res.outs, RunStats{Queue: res.queue, Compute: res.compute, BatchSize: res.size}, nil
	}
	outs, ph, err := runPhased(ctx, b, inputs)
	if err != nil {
		return nil, RunStats{}, runError(err)
	}
	m.metrics.queued(m.Name, m.Version, 0)
	m.metrics.executed(m.Name, m.Version, rowsOf(inputs), ph)
	return outs, RunStats{Compute: ph.Total(), BatchSize: 1}, nil
}

func rowsOf(inputs []*Tensor) int {
	if len(inputs) > 0 && len(inputs[0].Shape) > 0 {
		return int(inputs[0].Shape[0])
	}
	return 1
}

// runError keeps typed errors and turns execution failures, which come from
// input values the checks could not see (an out-of-range token id...), into 422s.
func runError(err error) error {
	if _, ok := err.(*Error); ok {
		return err
	}
	if err == context.Canceled || err == context.DeadlineExceeded {
		return Unavailable("%w", err)
	}
	return Unprocessable("the model could not run on this input: %w", err)
}

// Infer checks and runs named inputs and returns the outputs by name.
func (m *Model) Infer(ctx context.Context, inputs map[string]*Tensor) ([]*Tensor, RunStats, error) {
	if !m.Ready() {
		s, e := m.Status()
		if e != "" {
			return nil, RunStats{}, Unavailable("model %s is %s: %s", m.Name, s, e)
		}
		return nil, RunStats{}, Unavailable("model %s is %s", m.Name, s)
	}
	ordered, err := m.Check(inputs)
	if err != nil {
		return nil, RunStats{}, err
	}
	return m.Run(ctx, ordered)
}

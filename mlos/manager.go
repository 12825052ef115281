package mlos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/mlos-foundation/axon/internal/ort"
	"github.com/mlos-foundation/axon/internal/signing"
)

// Options configure a Manager.
type Options struct {
	DataDir string // pull cache, unpacked packages, registrations
	ORTLib  string // ONNX Runtime library ("" = discover)
	Threads Threads
	Batch   BatchOptions
	// MaxNewTokens caps max_new_tokens per generation (0 = DefaultMaxNewTokensCap).
	MaxNewTokens int
	// PlainHTTP names further registry hosts spoken to over plain HTTP
	// (nil: none); loopback hosts always are (reference.IsLoopback).
	PlainHTTP func(host string) bool
	Logger    *slog.Logger
	Metrics   *Metrics
	// RestrictLayouts limits oci-layout:// references to AllowLayouts
	// (mlosd sets it; none allowed when AllowLayouts is empty).
	RestrictLayouts bool
	AllowLayouts    []string
	// RequireSignature refuses packages without a cosign signature that
	// verifies with one of TrustKeys (signature.go).
	RequireSignature bool
	TrustKeys        []*signing.PublicKey
}

// Manager holds the registered models: it pulls, loads, serves and forgets
// them, and remembers registrations across restarts.
type Manager struct {
	opts   Options
	base   context.Context // ends at shutdown
	puller *Puller
	log    *slog.Logger
	// Metrics is where per-model counters go (never nil).
	Metrics *Metrics

	mu     sync.RWMutex
	models map[string]*Model
	// registering serialises registrations of the same name.
	regMu sync.Mutex
	save  sync.Mutex
	// declared names the models the configuration declares (declared.go);
	// declMu serialises applying it.
	declared map[string]declared
	declErr  error // what the last apply could not load
	declMu   sync.Mutex
}

// registration is what survives a restart.
type registration struct {
	Name     string `json:"name"`
	Ref      string `json:"ref"`
	Pinned   string `json:"pinned"`
	Digest   string `json:"digest"`
	Unloaded bool   `json:"unloaded,omitempty"`
	// Signer is the verified signature the registration was made with.
	Signer *signing.Signature `json:"signer,omitempty"`
}

// NewManager opens the data directory. ONNX Runtime is initialised here, so a
// missing library fails at startup, not at the first registration.
func NewManager(ctx context.Context, opts Options) (*Manager, error) {
	if opts.DataDir == "" {
		return nil, fmt.Errorf("no data directory")
	}
	if err := os.MkdirAll(opts.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	if err := ort.Init(opts.ORTLib); err != nil {
		return nil, err
	}
	p, err := NewPuller(ctx, opts.DataDir)
	if err != nil {
		return nil, err
	}
	if opts.PlainHTTP != nil {
		p.PlainHTTP = opts.PlainHTTP
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics()
	}
	return &Manager{opts: opts, base: ctx, puller: p, log: opts.Logger, Metrics: opts.Metrics, models: map[string]*Model{}, declared: map[string]declared{}}, nil
}

// Puller is the manager's OCI puller.
func (m *Manager) Puller() *Puller { return m.puller }

func (m *Manager) statePath() string { return filepath.Join(m.opts.DataDir, "models.json") }

// Restore loads the registrations saved by an earlier run. Each model loads on
// its own; one that fails is kept with its error while the others serve.
func (m *Manager) Restore(ctx context.Context) error {
	b, err := os.ReadFile(m.statePath())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read registrations: %w", err)
	}
	var regs []registration
	if err := json.Unmarshal(b, &regs); err != nil {
		return fmt.Errorf("read registrations %s: %w", m.statePath(), err)
	}
	var wg sync.WaitGroup
	for _, r := range regs {
		model := &Model{Name: r.Name, Ref: r.Ref, Pinned: r.Pinned, Digest: r.Digest, state: StateLoading, metrics: m.Metrics, Signer: r.Signer}
		if r.Unloaded {
			model.state = StateUnloaded
		}
		m.mu.Lock()
		m.models[r.Name] = model
		m.mu.Unlock()
		if r.Unloaded {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := m.load(ctx, model); err != nil {
				m.log.Error("restore model", "model", model.Name, "ref", model.Pinned, "err", err)
				model.setState(StateFailed, err.Error())
				return
			}
			m.log.Info("model restored", "model", model.Name, "digest", model.Digest)
		}()
	}
	wg.Wait()
	return nil
}

// load pulls (by digest when known) and loads the model's package.
func (m *Manager) load(ctx context.Context, model *Model) (err error) {
	defer func() { err = m.scrub("load", err) }()
	ref := model.Pinned
	if ref == "" {
		ref = model.Ref
	}
	r, err := ParseRef(ref)
	if err != nil {
		return err
	}
	if err := m.signaturePolicy(model); err != nil {
		return err
	}
	desc, err := m.puller.Pull(ctx, r)
	if err != nil {
		return err
	}
	pkg, err := m.puller.Unpack(ctx, desc.Digest)
	if err != nil {
		return err
	}
	model.Digest = desc.Digest.String()
	model.Manifest = pkg.Manifest
	model.Dir = pkg.Dir
	model.Version = pkg.Manifest.Version
	return m.start(ctx, model, pkg)
}

func (m *Manager) start(ctx context.Context, model *Model, pkg *Package) error {
	return m.startWith(ctx, model, pkg, m.opts.Threads, m.opts.Batch)
}

func (m *Manager) startWith(ctx context.Context, model *Model, pkg *Package, threads Threads, batch BatchOptions) error {
	plugin, err := PluginFor(pkg.Manifest.Format.Name)
	if err != nil {
		return Unprocessable("%w", err)
	}
	file := pkg.Manifest.Format.Model
	if file == "" {
		file = "model.onnx"
	}
	if !filepath.IsLocal(filepath.FromSlash(file)) {
		return Unprocessable("model file %q escapes the package", file)
	}
	modelPath := filepath.Join(pkg.Dir, filepath.FromSlash(file))
	if _, err := os.Stat(modelPath); err != nil {
		return Unprocessable("the package has no %s", file)
	}
	b, err := plugin.Load(ctx, LoadRequest{Dir: pkg.Dir, ModelPath: modelPath, Manifest: pkg.Manifest, Threads: threads})
	if err != nil {
		return Unprocessable("load %s with %s: %w", file, plugin.Name(), err)
	}
	text, err := newTextEncoder(pkg, b.Inputs())
	if err != nil {
		// Tensors still work; text input will say why it cannot.
		m.log.Warn("text pipeline unavailable", "model", model.Name, "err", err)
		text = nil
	}
	// newGenerator settles the task of a graph with a KV cache; the task's
	// pipeline is chosen after it.
	gen, err := newGenerator(pkg, b, text, m.opts.MaxNewTokens, batch.MaxBatchSize)
	if err != nil {
		b.Close()
		return Unprocessable("%s: %w", file, err)
	}
	model.attach(b, batch, text, gen)
	return nil
}

var nameRE = regexp.MustCompile(`^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$`)

// reservedSegments are route verbs; a name containing one as a path segment
// would make routes like /v2/models/{name}/ready ambiguous.
var reservedSegments = map[string]bool{"inference": true, "infer": true, "ready": true, "versions": true, "load": true, "unload": true}

// ValidName reports whether a model name is usable in every route.
func ValidName(n string) bool {
	if len(n) > 255 || !nameRE.MatchString(n) {
		return false
	}
	for _, seg := range strings.Split(n, "/") {
		if reservedSegments[seg] {
			return false
		}
	}
	return true
}

// Register pulls ref (tags are resolved to a digest, which is recorded), loads
// the package and serves it under name (default: the manifest's
// namespace/name). Registering the same name again replaces the model.
func (m *Manager) Register(ctx context.Context, ref, name string) (*Model, error) {
	ctx, done := m.withBase(ctx)
	defer done()
	model, err := m.register(ctx, ref, name)
	return model, m.scrub("register", m.shutdownErr(ctx, err))
}

// errShuttingDown answers the pulls and loads a shutdown cut short.
var errShuttingDown = Unavailable("mlosd is shutting down; try again once it is back")

// withBase ends ctx also when the manager's context ends (SIGTERM): a pull
// from a slow registry then stops at once instead of holding up the
// graceful shutdown until its deadline.
func (m *Manager) withBase(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(m.base, func() { cancel(errShuttingDown) })
	return ctx, func() { stop(); cancel(nil) }
}

func (m *Manager) shutdownErr(ctx context.Context, err error) error {
	if err != nil && context.Cause(ctx) == errShuttingDown {
		return errShuttingDown
	}
	return err
}

func (m *Manager) register(ctx context.Context, ref, name string) (*Model, error) {
	r, err := ParseRef(ref)
	if err != nil {
		return nil, err
	}
	if name != "" && !ValidName(name) {
		return nil, BadRequest("model name %q: use lower-case letters, digits, '.', '_', '-' and '/' between path parts", name)
	}
	if err := m.layoutAllowed(r); err != nil {
		return nil, err
	}
	r, signer, err := m.verifySignature(ctx, r)
	if err != nil {
		return nil, err
	}
	desc, err := m.puller.Pull(ctx, r)
	if err != nil {
		return nil, err
	}
	pinned := r
	pinned.Digest = desc.Digest
	pkg, err := m.puller.Unpack(ctx, desc.Digest)
	if err != nil {
		return nil, err
	}
	if name == "" {
		name = defaultName(pkg, r)
	}
	if !ValidName(name) {
		return nil, BadRequest("model name %q from the package is not usable; pass a name", name)
	}
	m.regMu.Lock()
	defer m.regMu.Unlock()
	model := &Model{Name: name, Ref: r.String(), Pinned: pinned.Pinned(), Digest: desc.Digest.String(), Manifest: pkg.Manifest,
		Dir: pkg.Dir, Version: pkg.Manifest.Version, state: StateLoading, metrics: m.Metrics, Signer: signer}
	if err := m.start(ctx, model, pkg); err != nil {
		m.discardUnpacked(pkg)
		return nil, err
	}
	m.mu.Lock()
	old := m.models[name]
	m.models[name] = model
	delete(m.declared, name) // registered over a declared one: until the next reload
	m.mu.Unlock()
	if old != nil {
		old.detach(StateUnloaded)
	}
	if err := m.persist(); err != nil {
		return model, err
	}
	m.log.Info("model registered", "model", name, "ref", model.Ref, "digest", model.Digest)
	return model, nil
}

func defaultName(pkg *Package, r Ref) string {
	if mf := pkg.Manifest; mf != nil && mf.Name != "" {
		if mf.Namespace != "" {
			return strings.ToLower(mf.Namespace + "/" + mf.Name)
		}
		return strings.ToLower(mf.Name)
	}
	if r.Repository != "" {
		return r.Repository
	}
	return strings.ToLower(path.Base(filepath.ToSlash(r.Layout)))
}

// Unregister stops serving a model and forgets it. Its cached blobs stay (the
// same digest registered again loads without downloading).
func (m *Manager) Unregister(name string) error {
	m.mu.Lock()
	model, ok := m.models[name]
	delete(m.models, name)
	delete(m.declared, name)
	m.mu.Unlock()
	if !ok {
		return NotFound("model %q is %w", name, ErrNotRegistered)
	}
	model.detach(StateUnloaded)
	m.Metrics.forget(model.Name, model.Version)
	m.log.Info("model unregistered", "model", name)
	return m.persist()
}

// Load (re)loads a registered model (KServe repository load).
func (m *Manager) Load(ctx context.Context, name string) error {
	model, ok := m.Get(name)
	if !ok {
		return NotFound("model %q is %w", name, ErrNotRegistered)
	}
	if model.Ready() {
		return nil
	}
	model.setState(StateLoading, "")
	ctx, done := m.withBase(ctx)
	defer done()
	if err := m.shutdownErr(ctx, m.load(ctx, model)); err != nil {
		model.setState(StateFailed, err.Error())
		m.log.Error("load model", "model", name, "err", err)
		return err
	}
	m.log.Info("model loaded", "model", name)
	return m.persist()
}

// Unload frees a model's session but keeps its registration.
func (m *Manager) Unload(name string) error {
	model, ok := m.Get(name)
	if !ok {
		return NotFound("model %q is %w", name, ErrNotRegistered)
	}
	model.detach(StateUnloaded)
	m.log.Info("model unloaded", "model", name)
	return m.persist()
}

// Get returns a registered model.
func (m *Manager) Get(name string) (*Model, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	model, ok := m.models[name]
	return model, ok
}

// List returns the registered models by name.
func (m *Manager) List() []*Model {
	m.mu.RLock()
	out := make([]*Model, 0, len(m.models))
	for _, mod := range m.models {
		out = append(out, mod)
	}
	m.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Close unloads every model (registrations stay on disk).
func (m *Manager) Close() {
	for _, model := range m.List() {
		model.detach(StateUnloaded)
	}
}

func (m *Manager) persist() error {
	m.save.Lock()
	defer m.save.Unlock()
	var regs []registration
	for _, model := range m.List() {
		if m.isDeclared(model.Name) {
			continue // the configuration is the record of declared models
		}
		s, _ := model.Status()
		regs = append(regs, registration{Name: model.Name, Ref: model.Ref, Pinned: model.Pinned, Digest: model.Digest, Unloaded: s == StateUnloaded, Signer: model.Signer})
	}
	if regs == nil {
		regs = []registration{}
	}
	b, err := json.MarshalIndent(regs, "", "  ")
	if err != nil {
		return err
	}
	tmp := m.statePath() + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("save registrations: %w", err)
	}
	if err := os.Rename(tmp, m.statePath()); err != nil {
		return fmt.Errorf("save registrations: %w", err)
	}
	return nil
}

// InferText runs a text input through the model's pipeline.
func (m *Model) InferText(ctx context.Context, text string, params map[string]any) (any, RunStats, error) {
	m.mu.RLock()
	pipe := m.pipe
	m.mu.RUnlock()
	if !m.Ready() {
		return nil, RunStats{}, Unavailable("model %s is not ready", m.Name)
	}
	if pipe == nil {
		// A model that takes strings directly gets the text as a tensor.
		ins := m.Inputs()
		if len(ins) == 1 && ins[0].DType == String {
			shape := make([]int64, len(ins[0].Shape))
			for i := range shape {
				shape[i] = 1
			}
			outs, st, err := m.Infer(ctx, map[string]*Tensor{ins[0].Name: {Name: ins[0].Name, DType: String, Shape: shape, Data: []string{text}}})
			if err != nil {
				return nil, st, err
			}
			return RawOutputs(outs), st, nil
		}
		return nil, RunStats{}, BadRequest("model %s has no tokenizer; send a number array or {input name: tensor}", m.Name)
	}
	return pipe.seed(ctx, m, text, params)
}

package mlos

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/mlos-foundation/axon/schemas"
	digest "github.com/opencontainers/go-digest"
	"gopkg.in/yaml.v3"
)

// DeclaredModel is a model mlosd serves because its configuration says so
// (--model, --models FILE, --model-dir), not because someone POSTed it.
// Declared models are not saved in models.json: the configuration is the record.
type DeclaredModel struct {
	// Ref is an OCI reference (HOST/REPO:TAG, HOST/REPO@sha256:..., oci-layout://PATH@...).
	Ref string `yaml:"ref,omitempty"`
	// Dir is an unpacked package directory (what `axon export` writes, and what a
	// KServe storage initializer leaves in /mnt/models). Exactly one of Ref and Dir.
	Dir string `yaml:"dir,omitempty"`
	// Name is the name it is served under (default: the package's namespace/name).
	Name    string       `yaml:"name,omitempty"`
	Options ModelOptions `yaml:"options,omitempty"`
}

// ModelOptions override the process-wide execution options for one model.
type ModelOptions struct {
	MaxBatchSize   *int           `yaml:"maxBatchSize,omitempty"`
	MaxQueueDelay  *time.Duration `yaml:"maxQueueDelay,omitempty"`
	BatchExecutors *int           `yaml:"batchExecutors,omitempty"`
	IntraOpThreads *int           `yaml:"intraOpThreads,omitempty"`
	InterOpThreads *int           `yaml:"interOpThreads,omitempty"`
}

// key says what a loaded copy was built from: a different key means reload.
func (o ModelOptions) key() string {
	b, _ := yaml.Marshal(o)
	return string(b)
}

func (o ModelOptions) apply(t Threads, b BatchOptions) (Threads, BatchOptions) {
	if o.MaxBatchSize != nil {
		b.MaxBatchSize = *o.MaxBatchSize
	}
	if o.MaxQueueDelay != nil {
		b.MaxQueueDelay = *o.MaxQueueDelay
	}
	if o.BatchExecutors != nil {
		b.Executors = *o.BatchExecutors
	}
	if o.IntraOpThreads != nil {
		t.IntraOp = *o.IntraOpThreads
	}
	if o.InterOpThreads != nil {
		t.InterOp = *o.InterOpThreads
	}
	return t, b
}

// ParseModelFlag reads the value of --model: REF or REF=NAME.
func ParseModelFlag(s string) (DeclaredModel, error) {
	d := DeclaredModel{Ref: strings.TrimSpace(s)}
	if i := strings.LastIndex(d.Ref, "="); i >= 0 {
		d.Ref, d.Name = strings.TrimSpace(d.Ref[:i]), strings.TrimSpace(d.Ref[i+1:])
		if d.Name == "" {
			return d, fmt.Errorf("--model %q: nothing after '='; use REF or REF=NAME", s)
		}
	}
	if _, err := ParseRef(d.Ref); err != nil {
		return d, fmt.Errorf("--model %q: %w", s, err)
	}
	return d, nil
}

// modelsFile is the YAML of --models FILE.
type modelsFile struct {
	Models []DeclaredModel `yaml:"models"`
}

// ReadModelsFile reads --models FILE:
//
//	models:
//	  - ref: registry:5000/hf/bert-base-uncased@sha256:...
//	    name: bert
//	    options: {maxBatchSize: 16, maxQueueDelay: 2ms, intraOpThreads: 2}
//	  - dir: /mnt/models
//
// Unknown fields are refused, so a typo is an error rather than a default.
func ReadModelsFile(path string) ([]DeclaredModel, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("models file: %w", err)
	}
	var f modelsFile
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("models file %s: %w", path, err)
	}
	for i, d := range f.Models {
		if (d.Ref == "") == (d.Dir == "") {
			return nil, fmt.Errorf("models file %s: model %d: give exactly one of ref and dir", path, i+1)
		}
		if d.Ref != "" {
			if _, err := ParseRef(d.Ref); err != nil {
				return nil, fmt.Errorf("models file %s: model %d: %w", path, i+1, err)
			}
		}
		if d.Dir != "" && !filepath.IsAbs(d.Dir) {
			// Relative to the file, as a GitOps repository would lay it out.
			f.Models[i].Dir = filepath.Join(filepath.Dir(path), d.Dir)
		}
	}
	return f.Models, nil
}

// declared is what the manager remembers of a declared model's loaded copy.
type declared struct {
	key    string // digest (or manifest.yaml digest for a directory) + options
	source string // the ref or dir it was declared with
}

func (d DeclaredModel) source() string {
	if d.Dir != "" {
		return "dir:" + d.Dir
	}
	return d.Ref
}

// DrainGrace is how long a replaced or removed declared model keeps its
// session after it left the model table, so requests that looked it up just
// before the swap finish on it instead of failing.
var DrainGrace = 5 * time.Second

// ApplyDeclared makes the declared models what the manager serves: new ones
// are loaded, ones whose digest or options changed are loaded again and
// swapped in only once the new copy is ready (the old one keeps serving until
// then and drains afterwards), and declared models no longer listed are
// removed. Imperatively registered models are left alone unless a declared
// model takes their name. It returns nil when every declared model is ready;
// otherwise the joined errors (models that failed keep their previous copy
// when they had one).
func (m *Manager) ApplyDeclared(ctx context.Context, decls []DeclaredModel) error {
	m.declMu.Lock()
	defer m.declMu.Unlock()
	ctx, done := m.withBase(ctx)
	defer done()

	var errs, unplaced []error
	want := map[string]bool{}
	for _, d := range decls {
		name, err := m.applyOne(ctx, d, want)
		if err != nil {
			what := d.Ref
			if what == "" {
				what = d.Dir
			}
			err = fmt.Errorf("declared model %s: %w", what, m.shutdownErr(ctx, err))
			errs = append(errs, err)
			if name == "" {
				// The name comes from the package, which could not be read:
				// the name it had last time, if it loaded before.
				name = m.previousName(d)
			}
			switch {
			case name == "":
				unplaced = append(unplaced, err)
			case !want[name]:
				m.failed(name, d, err)
			}
		}
		if name != "" {
			want[name] = true
		}
	}
	var retired []*Model
	m.mu.Lock()
	for name := range m.declared {
		if !want[name] {
			if old := m.models[name]; old != nil {
				retired = append(retired, old)
			}
			delete(m.models, name)
			delete(m.declared, name)
		}
	}
	m.mu.Unlock()
	for _, old := range retired {
		m.log.Info("declared model removed", "model", old.Name)
		m.retire(old)
	}
	err := errors.Join(errs...)
	// Readiness: every declared model has a serving copy. A failed reload that
	// left the previous copy serving does not take the pod out of its Service.
	m.mu.Lock()
	m.declErr = errors.Join(unplaced...)
	m.mu.Unlock()
	if perr := m.persist(); perr != nil {
		return errors.Join(err, perr)
	}
	return err
}

// previousName is the name a declared model was served under before.
func (m *Manager) previousName(d DeclaredModel) string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for name, st := range m.declared {
		if st.source == d.source() {
			return name
		}
	}
	return ""
}

// failed records a declared model that did not load. A copy that served
// before goes on serving; otherwise GET /models shows the failure.
func (m *Manager) failed(name string, d DeclaredModel, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur, ok := m.models[name]; ok {
		if _, isDecl := m.declared[name]; isDecl || cur.Ready() {
			m.declared[name] = declared{key: "failed", source: d.source()}
			return
		}
	}
	ref := d.Ref
	if ref == "" {
		ref = d.Dir
	}
	model := &Model{Name: name, Ref: ref, state: StateFailed, err: err.Error(), metrics: m.Metrics}
	m.models[name] = model
	m.declared[name] = declared{key: "failed", source: d.source()}
}

// applyOne loads one declared model unless the same copy already serves. It
// returns the model's name as soon as it is known, error or not.
func (m *Manager) applyOne(ctx context.Context, d DeclaredModel, seen map[string]bool) (string, error) {
	var pkg *Package
	var ref, pinned, dgst, key string
	var parsed Ref
	if d.Dir != "" {
		p, sum, err := readPackageDir(d.Dir)
		if err != nil {
			return d.Name, err
		}
		pkg, ref, pinned, key = p, d.Dir, d.Dir, "dir:"+sum
	} else {
		r, err := ParseRef(d.Ref)
		if err != nil {
			return d.Name, err
		}
		desc, err := m.puller.Pull(ctx, r)
		if err != nil {
			return d.Name, err
		}
		if pkg, err = m.puller.Unpack(ctx, desc.Digest); err != nil {
			return d.Name, err
		}
		parsed = r
		p := r
		p.Digest = desc.Digest
		ref, pinned, dgst, key = r.String(), p.Pinned(), desc.Digest.String(), desc.Digest.String()
	}
	name := d.Name
	if name == "" {
		if d.Dir != "" {
			parsed = Ref{Layout: filepath.Base(d.Dir)}
		}
		name = defaultName(pkg, parsed)
	}
	if !ValidName(name) {
		return "", BadRequest("model name %q is not usable; give a name (lower-case letters, digits, '.', '_', '-', '/')", name)
	}
	if seen[name] {
		return name, BadRequest("two declared models are named %q; give one of them another name", name)
	}
	key += "|" + d.Options.key()
	m.mu.RLock()
	cur, isDecl := m.declared[name]
	old := m.models[name]
	m.mu.RUnlock()
	if isDecl && cur.key == key && old != nil && old.Ready() {
		return name, nil
	}
	model := &Model{Name: name, Ref: ref, Pinned: pinned, Digest: dgst, Manifest: pkg.Manifest, Dir: pkg.Dir,
		Version: pkg.Manifest.Version, state: StateLoading, metrics: m.Metrics}
	threads, batch := d.Options.apply(m.opts.Threads, m.opts.Batch)
	if err := m.startWith(ctx, model, pkg, threads, batch); err != nil {
		return name, err
	}
	m.mu.Lock()
	old = m.models[name]
	m.models[name] = model
	m.declared[name] = declared{key: key, source: d.source()}
	m.mu.Unlock()
	if old != nil {
		m.retire(old)
	}
	m.log.Info("declared model loaded", "model", name, "ref", ref, "digest", dgst)
	return name, nil
}

// retire frees a model that left the model table after DrainGrace, so requests
// that found it just before keep their session.
func (m *Manager) retire(old *Model) {
	go func() {
		t := time.NewTimer(DrainGrace)
		defer t.Stop()
		select {
		case <-t.C:
		case <-m.base.Done():
		}
		// The gauges are keyed by name and version: a copy of the same version
		// that took over must stay ready, another version's series go.
		m.mu.RLock()
		now := m.models[old.Name]
		m.mu.RUnlock()
		old.detach(StateUnloaded)
		switch {
		case now != nil && now != old && now.Version == old.Version:
			m.Metrics.ready(now.Name, now.Version, now.Ready())
		case now != old:
			m.Metrics.forget(old.Name, old.Version)
		}
	}()
}

// isDeclared reports whether name is served because the configuration declares it.
func (m *Manager) isDeclared(name string) bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	_, ok := m.declared[name]
	return ok
}

// DeclaredReady reports whether every declared model is loaded.
func (m *Manager) DeclaredReady() bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.declErr != nil {
		return false
	}
	for name := range m.declared {
		if mod := m.models[name]; mod == nil || !mod.Ready() {
			return false
		}
	}
	return true
}

// readPackageDir reads an unpacked package: manifest.yaml, checked against the
// schema, and every file it lists verified against its digest (a storage
// initializer that stopped half way must not serve half a model). It returns
// the package and the digest of manifest.yaml, which changes when any file does.
func readPackageDir(dir string) (*Package, string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, "", err
	}
	raw, err := os.ReadFile(filepath.Join(abs, "manifest.yaml"))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, "", NotFound("%s has no manifest.yaml: it is not an unpacked axon package (write one with axon export REF %s)", dir, dir)
		}
		return nil, "", fmt.Errorf("read package directory: %w", err)
	}
	man, err := schemas.Parse(raw)
	if err != nil {
		return nil, "", Unprocessable("%s/manifest.yaml: %w", dir, err)
	}
	for _, f := range man.Files {
		p := filepath.FromSlash(f.Path)
		if !filepath.IsLocal(p) {
			return nil, "", Unprocessable("%s/manifest.yaml lists %q, which escapes the directory", dir, f.Path)
		}
		fi, err := os.Stat(filepath.Join(abs, p))
		if err != nil {
			return nil, "", Unprocessable("%s: %s is missing: %w", dir, f.Path, err)
		}
		if fi.IsDir() || f.Digest == "" {
			continue // a directory packed whole is checked by its files' use
		}
		if err := verifyFile(filepath.Join(abs, p), f); err != nil {
			return nil, "", Unprocessable("%s: %w", dir, err)
		}
	}
	sum := sha256.Sum256(raw)
	return &Package{Dir: abs, Manifest: man}, hex.EncodeToString(sum[:]), nil
}

func verifyFile(path string, f schemas.File) error {
	want, err := digest.Parse(f.Digest)
	if err != nil {
		return fmt.Errorf("%s: bad digest %q in manifest.yaml", f.Path, f.Digest)
	}
	fh, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fh.Close()
	v := want.Verifier()
	n, err := io.Copy(v, fh)
	if err != nil {
		return fmt.Errorf("read %s: %w", f.Path, err)
	}
	if (f.Size > 0 && n != f.Size) || !v.Verified() {
		return fmt.Errorf("%s does not match its digest %s in manifest.yaml (%d bytes): export it again", f.Path, f.Digest, n)
	}
	return nil
}

// DeclaredNames lists the declared models (sorted), for logs.
func (m *Manager) DeclaredNames() []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]string, 0, len(m.declared))
	for n := range m.declared {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

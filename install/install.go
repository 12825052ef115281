// Package install is `axon install`: a hub adapter fetches the model at an
// immutable revision (verified, digest-cached downloads), the converter turns it
// into ONNX (passthrough when the repository ships one), manifest.yaml is
// generated (source, task, I/O schema, tokenizer, labels, resources, validation),
// and the package is stored in the local store, tagged HUB/ID@VERSION as asked
// and HUB/ID@REVISION.
package install

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/mlos-foundation/axon/adapters"
	"github.com/mlos-foundation/axon/adapters/download"
	"github.com/mlos-foundation/axon/adapters/hf"
	"github.com/mlos-foundation/axon/adapters/local"
	"github.com/mlos-foundation/axon/adapters/modelscope"
	"github.com/mlos-foundation/axon/adapters/pytorch"
	"github.com/mlos-foundation/axon/adapters/tfhub"
	"github.com/mlos-foundation/axon/converter"
	"github.com/mlos-foundation/axon/internal/artifact"
	"github.com/mlos-foundation/axon/internal/fsutil"
	"github.com/mlos-foundation/axon/internal/reference"
	"github.com/mlos-foundation/axon/internal/store"
	"github.com/mlos-foundation/axon/schemas"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
)

// Options tune Install. Hub endpoints come from the environment the hubs' own
// clients read (HF_ENDPOINT, HF_TOKEN, MODELSCOPE_DOMAIN, TFHUB_ENDPOINT,
// AXON_GITHUB_API, GITHUB_TOKEN) unless set here.
type Options struct {
	Home      string            // local store ($AXON_HOME, default ~/.axon)
	Store     *store.Store      // an open store; overrides Home
	Converter converter.Options // backend (auto|local|docker), tolerance...
	Include   []string          // globs of repository files to fetch as well
	Exclude   []string          // globs of repository files not to fetch
	Parallel  int               // files downloaded at once (default 4)
	Name      string            // NAMESPACE/NAME to store the package as (default HUB/ID)
	Variant   string            // ONNX export to install from a repository that ships several (fp16, q4, quantized...)
	Offline   bool              // send no request (also HF_HUB_OFFLINE=1): install from the store or the HF cache
	Force     bool              // convert and pack again even when the revision is stored
	Progress  download.Progress // download progress; nil: none
	Client    *http.Client      // for every hub request; nil: default
	Log       *slog.Logger
	// Origin names where a local directory's files came from (axon install
	// oci://REF exports an artifact into a temporary directory): the
	// package's source says that, not the temporary path.
	Origin *adapters.Model

	// Endpoint overrides, mostly for tests; "" = environment / public hub.
	HFEndpoint, HFToken string
	GitHubAPI           string
	TFHubEndpoint       string
	ModelScopeEndpoint  string
}

// Result is what Install did.
type Result struct {
	Ref        adapters.Ref
	Tags       []string // local references now naming the package
	Descriptor ocispec.Descriptor
	Manifest   *schemas.Manifest
	Model      *adapters.Model // what was fetched (downloaded / cached counts)
	Backend    string          // converter backend: passthrough, local, docker; "" when reused
	Reused     bool            // the revision was already packaged: nothing converted or packed
}

func (o *Options) log() *slog.Logger {
	if o.Log != nil {
		return o.Log
	}
	return slog.New(slog.DiscardHandler)
}

// Adapter returns the adapter for a hub, configured from o and the environment.
func (o *Options) Adapter(hub string, engine *download.Engine) (adapters.Adapter, error) {
	switch hub {
	case adapters.HubHF:
		a := hf.New(engine)
		if o.HFEndpoint != "" {
			a.Endpoint = strings.TrimRight(o.HFEndpoint, "/")
		}
		if o.HFToken != "" {
			a.Token = o.HFToken
		}
		a.Include, a.Exclude, a.Variant = o.Include, o.Exclude, o.Variant
		a.Offline = a.Offline || o.Offline
		return a, nil
	case adapters.HubPyTorch:
		a := pytorch.New(engine)
		if o.GitHubAPI != "" {
			a.API = strings.TrimRight(o.GitHubAPI, "/")
		}
		return a, nil
	case adapters.HubTFHub:
		a := tfhub.New(engine)
		if o.TFHubEndpoint != "" {
			a.Endpoint = strings.TrimRight(o.TFHubEndpoint, "/")
		}
		return a, nil
	case adapters.HubModelScope:
		a := modelscope.New(engine)
		if o.ModelScopeEndpoint != "" {
			a.Endpoint = strings.TrimRight(o.ModelScopeEndpoint, "/")
		}
		a.Include, a.Exclude, a.Variant = o.Include, o.Exclude, o.Variant
		return a, nil
	case adapters.HubLocal:
		return local.Adapter{}, nil
	}
	return nil, fmt.Errorf("%w: unknown hub %q", adapters.ErrBadRef, hub)
}

// Install fetches, converts, packages and stores the model named by rawRef.
func Install(ctx context.Context, rawRef string, opts Options) (*Result, error) {
	ref, err := adapters.ParseRef(rawRef)
	if err != nil {
		return nil, err
	}
	st := opts.Store
	if st == nil {
		if st, err = store.Open(opts.Home); err != nil {
			return nil, fmt.Errorf("install: %w", err)
		}
	}
	repo, err := PackageName(ref, opts.Name)
	if err != nil {
		return nil, err
	}
	// Downloads go straight into the store's blobs: keep rm/prune away until tagged.
	release, err := st.Lease(ctx)
	if err != nil {
		return nil, fmt.Errorf("install: %w", err)
	}
	defer release()
	engine := &download.Engine{
		CacheDir: filepath.Join(st.Path(), "cache", "hub"),
		Client:   opts.Client, Parallel: opts.Parallel, Progress: opts.Progress, Log: opts.log(),
		// Verified downloads land in the store's own blob directory (same sha256
		// naming): packing then finds every layer present and copies nothing.
		Blobs: st,
	}
	adapter, err := opts.Adapter(ref.Hub, engine)
	if err != nil {
		return nil, err
	}
	tmpRoot := filepath.Join(st.Path(), "tmp")
	if err := os.MkdirAll(tmpRoot, 0o755); err != nil {
		return nil, fmt.Errorf("install: %w", err)
	}
	work, err := os.MkdirTemp(tmpRoot, "install-")
	if err != nil {
		return nil, fmt.Errorf("install: %w", err)
	}
	defer os.RemoveAll(work)

	log := opts.log()
	start := time.Now()
	if ref.Hub == adapters.HubHF && (opts.Offline || hf.OfflineFromEnv()) {
		// Offline, the store's package of the asked version is the answer, as
		// huggingface_hub answers from its cache without asking the Hub.
		if res, ok := installedOffline(ctx, st, ref, repo, opts.Variant); ok {
			return res, nil
		}
	}
	m, err := adapter.Fetch(ctx, ref, filepath.Join(work, "src"))
	if err != nil {
		return nil, fmt.Errorf("install %s: %w", ref, err)
	}
	if o := opts.Origin; o != nil {
		m.Hub, m.ID, m.URL, m.License, m.Created = o.Hub, o.ID, o.URL, o.License, o.Created
	}
	log.Info("fetched", "ref", ref.String(), "revision", m.Revision, "files", len(m.Files),
		"downloaded", m.Downloaded, "cached", m.Cached, "bytes", m.DownloadedBytes, "took", time.Since(start))

	revTag := VersionTag(m.Revision)
	tags := []string{repo + "@" + revTag}
	if asked := VersionTag(ref.VersionOrLatest()); asked != revTag {
		tags = append([]string{repo + "@" + asked}, tags...)
	}
	res := &Result{Ref: ref, Model: m, Tags: tags}

	// The same revision packaged before (same adapter output): tag it again,
	// convert nothing. Include/exclude globs may change the files: pack again then.
	if !opts.Force && len(opts.Include) == 0 && len(opts.Exclude) == 0 {
		if desc, err := st.Resolve(ctx, repo+"@"+revTag); err == nil {
			if man, err := readPackageManifest(ctx, st, desc); err == nil && man.Source != nil && man.Source.Revision == m.Revision &&
				man.Format.SourceFile == m.ONNXFile && man.Format.Variant == m.Variant {
				for _, t := range tags {
					if err := st.Tag(ctx, desc, t); err != nil {
						return nil, fmt.Errorf("install: %w", err)
					}
				}
				res.Descriptor, res.Manifest, res.Reused = desc, man, true
				return res, nil
			}
		}
	}

	out := filepath.Join(work, "pkg")
	in := converter.Input{
		Dir: m.Dir, Framework: m.Framework, Kind: m.Kind, Entrypoint: m.Entrypoint, Task: m.Task,
		Files: m.Files, Extra: map[string]string{},
	}
	for k, v := range m.Extra {
		in.Extra[k] = v
	}
	if m.ONNXFile != "" {
		in.Extra[converter.ExtraModel] = m.ONNXFile
	}
	if th := m.Extra["TORCH_HOME"]; th != "" {
		in.Extra[converter.ExtraTorchHome] = th
	}
	copts := opts.Converter
	if copts.Logger == nil {
		copts.Logger = log
	}
	cres, err := converter.Convert(ctx, in, out, copts)
	if err != nil {
		if errors.Is(err, converter.ErrUnsupported) && len(opts.Include)+len(opts.Exclude) > 0 {
			return nil, fmt.Errorf("install %s: %w (check --include / --exclude)", ref, err)
		}
		return nil, fmt.Errorf("install %s: %w", ref, err)
	}
	res.Backend = cres.Backend
	if err := placeSideFiles(ctx, m, out); err != nil {
		return nil, fmt.Errorf("install %s: %w", ref, err)
	}
	man, err := Manifest(ref, m, cres, out)
	if err != nil {
		return nil, fmt.Errorf("install %s: %w", ref, err)
	}
	ns, name, _ := strings.Cut(repo, "/")
	man.Namespace, man.Name, man.Version = ns, name, revTag
	var dst content.Pusher = st
	if cres.Backend == converter.BackendPassthrough {
		// Every layer is a download already filed among the store's blobs:
		// hashing it and finding it there beats the one-pass copy into the store.
		dst = hashThenPush{st}
	}
	desc, err := artifact.Pack(ctx, out, dst, artifact.WithManifest(man), artifact.WithTempDir(tmpRoot))
	if err != nil {
		return nil, fmt.Errorf("install %s: %w", ref, err)
	}
	for _, t := range tags {
		if err := st.Tag(ctx, desc, t); err != nil {
			return nil, fmt.Errorf("install %s: %w", ref, err)
		}
	}
	if packed, err := readPackageManifest(ctx, st, desc); err == nil {
		man = packed
	}
	res.Descriptor, res.Manifest = desc, man
	log.Info("installed", "ref", ref.String(), "digest", desc.Digest, "took", time.Since(start))
	return res, nil
}

// installedOffline finds the stored package repo@VERSION (as asked) for an
// offline install, without asking the hub which revision that is now.
func installedOffline(ctx context.Context, st *store.Store, ref adapters.Ref, repo, variant string) (*Result, bool) {
	tag := repo + "@" + VersionTag(ref.VersionOrLatest())
	desc, err := st.Resolve(ctx, tag)
	if err != nil {
		return nil, false
	}
	man, err := readPackageManifest(ctx, st, desc)
	if err != nil || man.Source == nil || (variant != "" && man.Format.Variant != variant) {
		return nil, false
	}
	m := &adapters.Model{Hub: man.Source.Hub, ID: man.Source.ID, Revision: man.Source.Revision, URL: man.Source.URL,
		ONNXFile: man.Format.SourceFile, Variant: man.Format.Variant}
	return &Result{Ref: ref, Tags: []string{tag}, Descriptor: desc, Manifest: man, Model: m, Reused: true}, true
}

// hashThenPush is the store without its Ingester side, so that Pack hashes each
// file and skips those the store has instead of copying them first.
type hashThenPush struct{ st *store.Store }

func (h hashThenPush) Push(ctx context.Context, desc ocispec.Descriptor, r io.Reader) error {
	return h.st.Push(ctx, desc, r)
}

func (h hashThenPush) Exists(ctx context.Context, desc ocispec.Descriptor) (bool, error) {
	return h.st.Exists(ctx, desc)
}

func readPackageManifest(ctx context.Context, st *store.Store, desc ocispec.Descriptor) (*schemas.Manifest, error) {
	pkg, err := artifact.Read(ctx, st, desc)
	if err != nil {
		return nil, err
	}
	if pkg.Format != artifact.FormatAxon {
		return nil, fmt.Errorf("%s is a %s artifact, not an axon package", desc.Digest, artifact.FormatTitle(pkg.Format))
	}
	return pkg.Manifest, nil
}

var badChars = regexp.MustCompile(`[^a-z0-9._/-]+`)

// PackageName is the local repository a reference installs to: HUB/ID in lower
// case (hf/bert-base-uncased, pytorch/pytorch/vision/resnet50), local/DIRNAME for
// directories, or name when given.
func PackageName(ref adapters.Ref, name string) (string, error) {
	if name == "" {
		id := ref.ID
		if ref.Hub == adapters.HubLocal {
			abs, err := filepath.Abs(ref.ID)
			if err != nil {
				return "", fmt.Errorf("install: %w", err)
			}
			id = filepath.Base(abs)
		}
		name = ref.Hub + "/" + badChars.ReplaceAllString(strings.ToLower(id), "-")
	}
	if !reference.ValidRepository(name) || !strings.Contains(name, "/") {
		return "", fmt.Errorf("install: %q is no valid package name NAMESPACE/NAME (lower-case letters, digits, . _ -); give --name", name)
	}
	return name, nil
}

// VersionTag turns a hub revision into a valid tag (refs/pr/1 → refs-pr-1).
func VersionTag(v string) string {
	t := regexp.MustCompile(`[^A-Za-z0-9._-]+`).ReplaceAllString(v, "-")
	t = strings.TrimLeft(t, ".-")
	if len(t) > 128 {
		t = t[:128]
	}
	if t == "" {
		return reference.DefaultVersion
	}
	return t
}

// sideFile reports whether a fetched file belongs next to model.onnx in the
// package: configuration, tokenizer, preprocessing and documentation files.
func sideFile(p string) bool {
	if strings.Contains(p, "/") {
		return false
	}
	lower := strings.ToLower(p)
	switch path.Ext(lower) {
	case ".json", ".txt", ".model", ".md", ".jinja":
		return true
	}
	return strings.HasPrefix(lower, "license") || strings.HasPrefix(lower, "readme") || strings.HasPrefix(lower, "notice")
}

// placeSideFiles links the configuration, tokenizer and doc files into the
// package directory (the converter writes model.onnx and original/).
func placeSideFiles(ctx context.Context, m *adapters.Model, out string) error {
	for _, f := range m.Files {
		if !sideFile(f) {
			continue
		}
		dst := filepath.Join(out, f)
		if _, err := os.Stat(dst); err == nil {
			continue
		}
		src := filepath.Join(m.Dir, f)
		if fi, err := os.Lstat(src); err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if err := fsutil.Place(ctx, src, dst); err != nil {
			return err
		}
	}
	return nil
}

// Manifest builds manifest.yaml for the converted model in out: source, task,
// framework, format, tokenizer and image preprocessing, labels, validation.
// Files, I/O schema and resources are filled in by artifact.Pack from the files.
func Manifest(ref adapters.Ref, m *adapters.Model, cres *converter.Result, out string) (*schemas.Manifest, error) {
	man := &schemas.Manifest{
		APIVersion: schemas.APIVersion, Kind: schemas.Kind,
		License: m.License,
		Source: &schemas.Source{
			Hub: m.Hub, ID: m.ID, Revision: m.Revision, URL: m.URL, License: m.License, Created: normTime(m.Created),
		},
		Framework:  cres.Framework,
		Format:     cres.Format,
		Task:       m.Task,
		Validation: cres.Validation,
	}
	if cres.Task != "" { // the native converter built the graph for this task
		man.Task = cres.Task
	}
	if man.Format.Name == "" {
		man.Format.Name = "onnx"
	}
	if man.Format.Model == "" {
		man.Format.Model = cres.Model
	}
	if man.Framework.Name == "" {
		man.Framework.Name = m.Framework
	}
	if m.ONNXFile != "" {
		man.Format.Variant, man.Format.SourceFile = m.Variant, m.ONNXFile
	}
	// A transformers repository that ships its own ONNX export: say so.
	if m.Hub == adapters.HubLocal {
		man.Source.ID = filepath.Base(m.ID)
	}
	if err := artifact.DescribeFromConfig(out, man); err != nil {
		return nil, err
	}
	cfg, err := schemas.ReadHFConfig(out)
	if err != nil {
		return nil, err
	}
	if len(cfg.Architectures) > 0 {
		man.Description = fmt.Sprintf("%s (%s) from %s", m.ID, strings.Join(cfg.Architectures, ", "), m.Hub)
	} else {
		man.Description = fmt.Sprintf("%s from %s", m.ID, m.Hub)
	}
	return man, nil
}

func normTime(s string) string {
	if s == "" {
		return ""
	}
	for _, layout := range []string{time.RFC3339Nano, time.RFC3339, "2006-01-02T15:04:05.000Z"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC().Format(time.RFC3339)
		}
	}
	return ""
}

// IsNotFound reports whether err says the model, revision or file does not exist.
func IsNotFound(err error) bool { return errors.Is(err, adapters.ErrNotFound) }

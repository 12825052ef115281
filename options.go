package axon

import (
	"io"
	"net/http"

	"github.com/mlos-foundation/axon/internal/progress"
	"github.com/mlos-foundation/axon/internal/transfer"
)

// Option configures any verb. There is one option type for every verb, as in
// crane: a program builds its options once (home, registry, TLS) and passes
// the same slice to Pack, Push, Pull and Register; an option a verb has no
// use for is ignored by it.
type Option func(*options)

type options struct {
	home        string
	registry    string
	plainHTTP   bool
	insecure    bool
	caFile      string
	concurrency int
	progress    Progress
	httpClient  *http.Client

	// pack
	name, version, format string
	wholeDirs             []string

	// install
	converter, dtype string
	validate         bool
	include, exclude []string
	variant          string
	offline, force   bool

	// runtime
	mlosURL string
}

func makeOptions(opts []Option) *options {
	o := &options{}
	for _, opt := range opts {
		if opt != nil {
			opt(o)
		}
	}
	return o
}

// WithHome names the local store directory. Without it the store is
// $AXON_HOME, else ~/.axon, as for the axon command.
func WithHome(dir string) Option { return func(o *options) { o.home = dir } }

// WithRegistry is the registry HOST[:PORT] that Push sends a package to when
// it is given no target, and that Pull fetches a package name
// (NAMESPACE/NAME@VERSION) from. Without it: $AXON_REGISTRY, else
// localhost:5000.
func WithRegistry(host string) Option { return func(o *options) { o.registry = host } }

// WithPlainHTTP talks HTTP instead of HTTPS to the registry. localhost and
// 127.0.0.1 get plain HTTP without asking, as with docker.
func WithPlainHTTP(v bool) Option { return func(o *options) { o.plainHTTP = v } }

// WithInsecure skips TLS certificate verification.
func WithInsecure(v bool) Option { return func(o *options) { o.insecure = v } }

// WithCAFile trusts the certificate authorities in a PEM file besides the
// system's.
func WithCAFile(path string) Option { return func(o *options) { o.caFile = path } }

// WithConcurrency is how many files move at once (push, pull, install
// downloads). 0 keeps the default.
func WithConcurrency(n int) Option { return func(o *options) { o.concurrency = n } }

// WithProgress reports each file's progress to r. Without it nothing is
// reported.
func WithProgress(r Progress) Option { return func(o *options) { o.progress = r } }

// WithHTTPClient sends every registry request through c (tests, proxies).
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.httpClient = c } }

// WithName names the package NAMESPACE/NAME: Pack and Install store it under
// that name; Register serves it under that name.
func WithName(name string) Option { return func(o *options) { o.name = name } }

// WithVersion is the version (tag) Pack gives the package; default: the one
// in manifest.yaml, else latest.
func WithVersion(v string) Option { return func(o *options) { o.version = v } }

// WithFormat is the artifact format: "axon" (manifest.yaml as the config) or
// "modelpack" (CNCF ModelPack). Pack writes it; Push converts to it.
func WithFormat(f string) Option { return func(o *options) { o.format = f } }

// WithWholeDirs keeps these directories (relative to the packed directory)
// whole, as one reproducible tar layer each (a SavedModel, say).
func WithWholeDirs(dirs ...string) Option {
	return func(o *options) { o.wholeDirs = append(o.wholeDirs, dirs...) }
}

// WithConverter picks Install's conversion backend: "auto" (default),
// "native", "local" or "docker".
func WithConverter(backend string) Option { return func(o *options) { o.converter = backend } }

// WithDType is the native converter's weight precision: "fp32" or "fp16".
func WithDType(dtype string) Option { return func(o *options) { o.dtype = dtype } }

// WithValidate compares a native conversion with the transformers model.
func WithValidate(v bool) Option { return func(o *options) { o.validate = v } }

// WithInclude also fetches the repository files matching these globs.
func WithInclude(globs ...string) Option {
	return func(o *options) { o.include = append(o.include, globs...) }
}

// WithExclude does not fetch the repository files matching these globs.
func WithExclude(globs ...string) Option {
	return func(o *options) { o.exclude = append(o.exclude, globs...) }
}

// WithVariant picks the ONNX export to install from a repository that ships
// several (fp16, q4, quantized... or a file name).
func WithVariant(v string) Option { return func(o *options) { o.variant = v } }

// WithOffline sends no request: Install works from the local store or the
// Hugging Face cache only (as HF_HUB_OFFLINE=1).
func WithOffline(v bool) Option { return func(o *options) { o.offline = v } }

// WithForce converts and packs again even when the revision is stored.
func WithForce(v bool) Option { return func(o *options) { o.force = v } }

// WithMLOSURL is the mlosd address Register and the other runtime calls use;
// default $MLOS_URL, else http://localhost:8080.
func WithMLOSURL(url string) Option { return func(o *options) { o.mlosURL = url } }

// Progress receives the progress of each file a verb moves. TextProgress and
// ProgressBars make the two the axon command shows; a program may implement
// it itself (Start returns one ProgressBar per file).
type Progress = progress.Reporter

// ProgressBar is one file's progress.
type ProgressBar = progress.Bar

// TextProgress writes one plain line per finished file to w (logs, CI).
func TextProgress(w io.Writer) Progress { return progress.Plain(w) }

// ProgressBars draws live bars on w (a terminal).
func ProgressBars(w io.Writer) Progress { return progress.New(w, false) }

// transferOptions are o as internal/transfer takes them.
func (o *options) transferOptions() []transfer.Option {
	t := []transfer.Option{
		transfer.WithPlainHTTP(o.plainHTTP),
		transfer.WithInsecure(o.insecure),
		transfer.WithCAFile(o.caFile),
	}
	if o.concurrency > 0 {
		t = append(t, transfer.WithConcurrency(o.concurrency))
	}
	if o.progress != nil {
		t = append(t, transfer.WithProgress(o.progress))
	}
	if o.httpClient != nil {
		t = append(t, transfer.WithHTTPClient(o.httpClient))
	}
	return t
}

package axon

import (
	"context"
	"fmt"
	"os"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/mlos-foundation/axon/adapters"
	"github.com/mlos-foundation/axon/adapters/download"
	"github.com/mlos-foundation/axon/converter"
	"github.com/mlos-foundation/axon/install"
	"github.com/mlos-foundation/axon/internal/artifact"
	"github.com/mlos-foundation/axon/internal/progress"
	"github.com/mlos-foundation/axon/internal/transfer"
)

// InstallResult is what Install did: the tags it set, the package, and what
// was downloaded or taken from the cache.
type InstallResult = install.Result

// Conversion backends (WithConverter).
const (
	ConverterAuto   = converter.BackendAuto
	ConverterNative = converter.BackendNative
	ConverterLocal  = converter.BackendLocal
	ConverterDocker = converter.BackendDocker
	// ConverterPassthrough is InstallResult.Backend for ONNX used as shipped.
	ConverterPassthrough = converter.BackendPassthrough
)

// ociScheme prefixes a registry reference to install from: a model artifact
// of another format (ModelPack, ModelKit, Docker Model Runner) whose files
// go through the same conversion as a local directory's.
const ociScheme = "oci://"

// Install fetches the model ref names from a hub (hf/ORG/NAME[@REV],
// pytorch/OWNER/REPO/MODEL[@REF], tfhub/..., modelscope/..., a local
// directory, or oci://HOST/REPO[:TAG] for another tool's model artifact),
// pinned to an immutable revision; converts it to ONNX unless it ships an
// export; and stores the package, tagged as asked and by revision. Downloads
// are verified, resumed and cached by digest, so installing the same
// revision again downloads nothing.
func Install(ctx context.Context, ref string, opts ...Option) (*InstallResult, error) {
	o := makeOptions(opts)
	backend := o.converter
	if backend == "" {
		backend = ConverterAuto
	}
	switch backend {
	case ConverterAuto, ConverterNative, ConverterLocal, ConverterDocker:
	default:
		return nil, fmt.Errorf("--converter %q: auto, native, local or docker", backend)
	}
	st, err := openStore(o)
	if err != nil {
		return nil, err
	}
	iopts := install.Options{
		Store:     st,
		Converter: converter.Options{Backend: backend, DType: o.dtype, Validate: o.validate},
		Include:   o.include,
		Exclude:   o.exclude,
		Parallel:  o.concurrency,
		Name:      o.name,
		Variant:   o.variant,
		Offline:   o.offline,
		Force:     o.force,
	}
	if iopts.Converter.DType == "" {
		iopts.Converter.DType = "fp32"
	}
	if o.progress != nil {
		iopts.Progress = downloadBars{o.progress}
	}
	target, ok := strings.CutPrefix(ref, ociScheme)
	if !ok {
		return install.Install(ctx, ref, iopts)
	}
	return installOCI(ctx, ref, target, iopts, o)
}

// installOCI pulls another tool's model artifact and installs its files like
// a local directory's; an axon package (or a ModelPack axon wrote) is only
// pulled, there being nothing to convert.
func installOCI(ctx context.Context, ref, target string, opts install.Options, o *options) (*InstallResult, error) {
	st := opts.Store
	if _, err := transfer.Pull(ctx, st, target, o.transferOptions()...); err != nil {
		return nil, fmt.Errorf("install %s: %w", ref, err)
	}
	pkg, err := st.Read(ctx, target)
	if err != nil {
		return nil, fmt.Errorf("install %s: %w", ref, err)
	}
	if pkg.Format == artifact.FormatAxon || pkg.EmbeddedManifest != nil {
		return &install.Result{Tags: []string{target}, Descriptor: pkg.Descriptor, Manifest: pkg.Manifest, Reused: true, Model: &adapters.Model{Revision: pkg.Descriptor.Digest.String()}}, nil
	}
	tmp, err := st.TempDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(tmp, "oci-install-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := st.Export(ctx, target, dir); err != nil {
		return nil, fmt.Errorf("install %s: %w", ref, err)
	}
	// The package's source is the artifact (not the temporary directory), so
	// installing it twice gives the same package digest.
	opts.Origin = &adapters.Model{Hub: "oci", ID: target, URL: ref, License: pkg.Manifest.License, Created: pkg.OCI.Annotations[ocispec.AnnotationCreated]}
	if opts.Name == "" {
		opts.Name = pkg.Manifest.Namespace + "/" + pkg.Manifest.Name
	}
	res, err := install.Install(ctx, dir, opts)
	if err != nil {
		return nil, fmt.Errorf("install %s (%s): %w", ref, pkg.Foreign.Summary(), err)
	}
	return res, nil
}

// downloadBars shows the download engine's progress as Progress bars.
type downloadBars struct{ r progress.Reporter }

func (p downloadBars) Track(name string, total int64) download.Tracker {
	return downloadBar{p.r.Start(name, total)}
}

type downloadBar struct{ b progress.Bar }

func (t downloadBar) Add(n int) { t.b.Add(int64(n)) }

func (t downloadBar) Done(err error) {
	if err != nil {
		t.b.Abort(err)
		return
	}
	t.b.Done("downloaded")
}

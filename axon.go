// Package axon is the Go API of every axon verb: pack a model directory,
// install from a hub, push to and pull from any OCI registry, inspect, tag,
// list, export and remove packages of the local store, sign and verify them,
// and register them with the mlosd runtime.
//
// It is shaped like go-containerregistry's crane: plain functions, a context
// first, the reference next, and one functional-options type for all of them
// (WithHome, WithRegistry, WithPlainHTTP...). The axon command is a thin
// layer of flags over these functions, so what the command does a Go program
// outside this module can do too, with the same results and messages.
//
//	pkg, err := axon.Pack(ctx, "./bert", axon.WithName("team/bert"), axon.WithVersion("1.0"))
//	res, err := axon.Push(ctx, pkg.Ref, "registry.example.com/team/bert:1.0")
//	reg, err := axon.Register(ctx, pkg.Ref, axon.WithMLOSURL("http://mlosd:8080"))
//
// The local store is an OCI image layout at $AXON_HOME (default ~/.axon, or
// WithHome). Local packages are named NAMESPACE/NAME@VERSION; registry
// references are HOST[:PORT]/REPOSITORY[:TAG|@DIGEST].
package axon

import (
	"context"
	"errors"
	"fmt"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/mlos-foundation/axon/internal/artifact"
	"github.com/mlos-foundation/axon/internal/reference"
	"github.com/mlos-foundation/axon/internal/store"
	"github.com/mlos-foundation/axon/schemas"
)

// ErrNotFound is wrapped by the error of every verb given a reference the
// local store does not hold (errors.Is).
var ErrNotFound = store.ErrNotFound

// Manifest is a package's manifest.yaml.
type Manifest = schemas.Manifest

// Entry is one tagged package of the local store, as List returns it.
type Entry = store.Entry

// Foreign describes a model artifact of another tool (CNCF ModelPack, KitOps
// ModelKit, Docker Model Runner): its files and what they are.
type Foreign = artifact.Foreign

// Package is a package in the local store, as Pack made it.
type Package struct {
	Ref        string             // NAMESPACE/NAME@VERSION it is tagged with
	Descriptor ocispec.Descriptor // its OCI manifest
	Manifest   *Manifest
}

// Digest is the package's digest, the name that never changes.
func (p *Package) Digest() digest.Digest { return p.Descriptor.Digest }

// Formats Pack and Push take (WithFormat).
const (
	FormatAxon      = artifact.FormatAxon
	FormatModelPack = artifact.FormatModelPack
)

func openStore(o *options) (*store.Store, error) { return store.Open(o.home) }

// Home is the local store directory the options name ($AXON_HOME, else
// ~/.axon, unless WithHome), created when missing.
func Home(opts ...Option) (string, error) {
	st, err := openStore(makeOptions(opts))
	if err != nil {
		return "", err
	}
	return st.Path(), nil
}

// Pack packages dir (model.onnx and its other files) into the local store and
// tags it NAMESPACE/NAME@VERSION. dir/manifest.yaml is used (and validated)
// when present, otherwise generated with the I/O schema read from model.onnx.
// Packing the same directory twice gives the same digest, so a package can be
// rebuilt and checked. A failed or cancelled pack tags nothing.
func Pack(ctx context.Context, dir string, opts ...Option) (*Package, error) {
	o := makeOptions(opts)
	var aopts []artifact.Option
	if o.name != "" {
		r, err := reference.ParseLocal(o.name + "@x")
		if err != nil || r.Name() == "" {
			return nil, fmt.Errorf("--name %q: write NAMESPACE/NAME, e.g. hf/bert-base-uncased", o.name)
		}
		aopts = append(aopts, artifact.WithName(r.Namespace(), r.Name()))
	}
	if o.version != "" {
		if !reference.ValidTag(o.version) {
			return nil, fmt.Errorf("--version %q: letters, digits, '.', '_' and '-' (at most 128)", o.version)
		}
		aopts = append(aopts, artifact.WithVersion(o.version))
	}
	if len(o.wholeDirs) > 0 {
		aopts = append(aopts, artifact.WithWholeDirs(o.wholeDirs...))
	}
	st, err := openStore(o)
	if err != nil {
		return nil, err
	}
	tmp, err := st.TempDir()
	if err != nil {
		return nil, err
	}
	format := o.format
	if format == "" {
		format = FormatAxon
	}
	aopts = append(aopts, artifact.WithTempDir(tmp), artifact.WithFormat(format))
	p, err := st.Pack(ctx, dir, aopts...)
	if err != nil {
		return nil, err
	}
	return &Package{Ref: p.Ref, Descriptor: p.Descriptor, Manifest: p.Manifest}, nil
}

// List returns the tagged packages of the local store, sorted by reference.
// With a repository (NAMESPACE/NAME, or HOST/REPO for a pulled package) it
// returns only that repository's versions, as `docker images REPOSITORY`
// does; "" lists all. A repository the store does not hold gives an empty
// list, not an error.
func List(ctx context.Context, repository string, opts ...Option) ([]Entry, error) {
	st, err := openStore(makeOptions(opts))
	if err != nil {
		return nil, err
	}
	entries, err := st.List(ctx)
	if err != nil {
		return nil, err
	}
	if repository == "" {
		return entries, nil
	}
	var only []Entry
	for _, e := range entries {
		if e.Repository == repository {
			only = append(only, e)
		}
	}
	return only, nil
}

// Where Inspect found a package.
const (
	FromLocal    = "local store"
	FromRegistry = "registry"
)

// Info is what Inspect reads of a package.
type Info struct {
	Ref        string             // as asked
	From       string             // FromLocal or FromRegistry
	Format     string             // FormatAxon, or the other tool's format
	Descriptor ocispec.Descriptor // its OCI manifest
	OCI        *ocispec.Manifest
	Manifest   *Manifest // manifest.yaml (for another tool's artifact: made from what it says)
	RawConfig  []byte    // the config blob as stored
	RawOCI     []byte    // the OCI manifest as stored
	// Remotes are the registry repositories the package was pushed to or
	// pulled from (HOST/REPO); empty for a package that never left the store.
	Remotes []string
	// Foreign is set for a model artifact of another tool; EmbeddedManifest
	// is the manifest.yaml such an artifact carries as a layer, if any.
	Foreign          *Foreign
	EmbeddedManifest []byte
}

// Inspect reads a package's manifest.yaml and OCI manifest from the local
// store or, when the store does not hold ref and ref names a registry, from
// the registry without pulling it: a user asks about a name and should not
// have to know where it is.
func Inspect(ctx context.Context, ref string, opts ...Option) (*Info, error) {
	o := makeOptions(opts)
	st, err := openStore(o)
	if err != nil {
		return nil, err
	}
	pkg, err := st.Read(ctx, ref)
	from := FromLocal
	if errors.Is(err, ErrNotFound) {
		if r, perr := reference.Parse(ref); perr == nil && r.IsRemote() {
			pkg, err = inspectRemote(ctx, ref, o)
			from = FromRegistry
		}
	}
	if err != nil {
		return nil, err
	}
	remotes := st.Remotes(pkg.Descriptor.Digest)
	if remotes == nil {
		remotes = []string{}
	}
	return &Info{
		Ref: ref, From: from, Format: pkg.Format, Descriptor: pkg.Descriptor, OCI: pkg.OCI,
		Manifest: pkg.Manifest, RawConfig: pkg.RawConfig, RawOCI: pkg.RawOCI, Remotes: remotes,
		Foreign: pkg.Foreign, EmbeddedManifest: pkg.EmbeddedManifest,
	}, nil
}

// Tag gives the stored package src another name: a local NAMESPACE/NAME@VERSION
// or a registry reference (which Push then sends it to).
func Tag(ctx context.Context, src, dst string, opts ...Option) error {
	st, err := openStore(makeOptions(opts))
	if err != nil {
		return err
	}
	desc, err := st.Resolve(ctx, src)
	if err != nil {
		return err
	}
	if _, err := reference.Parse(dst); err != nil {
		return err
	}
	return st.Tag(ctx, desc, dst)
}

// Remove removes the references from the local store. A package no reference
// names any more is deleted with the blobs no other package uses. Like
// `docker rmi`, one reference that cannot be removed does not stop the
// others: removed lists those that went, err joins the failures.
func Remove(ctx context.Context, refs []string, opts ...Option) (removed []string, err error) {
	st, err := openStore(makeOptions(opts))
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, ref := range refs {
		if err := st.Remove(ctx, ref); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, ref)
	}
	return removed, errors.Join(errs...)
}

// PruneReport is what Prune deleted.
type PruneReport = store.PruneReport

// Prune deletes untagged packages, blobs no package uses and partial
// downloads: what an interrupted pack, pull or install left behind.
func Prune(ctx context.Context, opts ...Option) (PruneReport, error) {
	st, err := openStore(makeOptions(opts))
	if err != nil {
		return PruneReport{}, err
	}
	return st.Prune(ctx)
}

// Export writes the files of the package ref, manifest.yaml included, under
// dir (created when missing), each verified against its digest. Files of the
// same name in dir are replaced; other files stay. The result packs again to
// the same digest. Another tool's artifact writes its own files.
func Export(ctx context.Context, ref, dir string, opts ...Option) error {
	st, err := openStore(makeOptions(opts))
	if err != nil {
		return err
	}
	return st.Export(ctx, ref, dir)
}

// Resolve returns the descriptor of the package ref names in the local store
// (ErrNotFound when it holds none): the digest a name stands for now.
func Resolve(ctx context.Context, ref string, opts ...Option) (ocispec.Descriptor, error) {
	st, err := openStore(makeOptions(opts))
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	return st.Resolve(ctx, ref)
}

// Artifact types List reports (Entry.Artifact) besides axon's own.
const (
	ArtifactTypeAxon            = schemas.ArtifactType
	ArtifactTypeModelPack       = artifact.ArtifactTypeModelPack
	ArtifactTypeModelPackLegacy = artifact.ArtifactTypeModelPackLegacy
	ArtifactTypeKit             = artifact.ArtifactTypeKit
)

// FormatTitle names an Info.Format for people ("CNCF ModelPack", ...).
func FormatTitle(format string) string { return artifact.FormatTitle(format) }

// IsRemote reports whether ref starts with a registry host (HOST[:PORT]/...,
// a dot, a port or localhost in the first component) rather than being a
// package name of the local store. It is the rule every verb uses to decide
// where a reference points, and it answers for malformed references too.
func IsRemote(ref string) bool { return reference.HasHost(ref) }

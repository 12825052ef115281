package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/mlos-foundation/axon/adapters"
	"github.com/mlos-foundation/axon/install"
	"github.com/mlos-foundation/axon/internal/artifact"
	"github.com/mlos-foundation/axon/internal/transfer"
)

// ociScheme prefixes a registry reference to install from: a model artifact
// of another format (ModelPack, ModelKit, Docker Model Runner) whose files
// go through the same conversion as a local directory's.
const ociScheme = "oci://"

// installAny is install.Install that also takes oci://REF.
func installAny(ctx context.Context, ref string, opts install.Options) (*install.Result, error) {
	target, ok := strings.CutPrefix(ref, ociScheme)
	if !ok {
		return install.Install(ctx, ref, opts)
	}
	st := opts.Store
	if _, err := transfer.Pull(ctx, st, target); err != nil {
		return nil, fmt.Errorf("install %s: %w", ref, err)
	}
	pkg, err := st.Read(ctx, target)
	if err != nil {
		return nil, fmt.Errorf("install %s: %w", ref, err)
	}
	if pkg.Format == artifact.FormatAxon || pkg.EmbeddedManifest != nil {
		// Already an axon package (or a ModelPack axon wrote): nothing to convert.
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
	// The artifact's files are a model directory like any other: the local
	// adapter hands them to the converter (ONNX as shipped, safetensors
	// through the converter backend).
	res, err := install.Install(ctx, dir, opts)
	if err != nil {
		return nil, fmt.Errorf("install %s (%s): %w", ref, pkg.Foreign.Summary(), err)
	}
	return res, nil
}

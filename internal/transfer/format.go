package transfer

import (
	"context"
	"fmt"
	"os"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/mlos-foundation/axon/internal/artifact"
	"github.com/mlos-foundation/axon/internal/reference"
	"github.com/mlos-foundation/axon/internal/store"
	"github.com/mlos-foundation/axon/schemas"
)

// PushFormat is Push in a chosen artifact format: "" pushes the package as it
// is stored; artifact.FormatModelPack pushes it as a CNCF ModelPack artifact
// (ToModelPack); artifact.FormatAxon as an axon package (ToAxon).
func PushFormat(ctx context.Context, st *store.Store, src, target, format string, opts ...Option) (*Result, error) {
	convert := ToModelPack
	switch format {
	case "":
		return Push(ctx, st, src, target, opts...)
	case artifact.FormatModelPack:
	case artifact.FormatAxon:
		convert = ToAxon
	default:
		return nil, fmt.Errorf("push %s: format %q: axon or modelpack", src, format)
	}
	desc, err := convert(ctx, st, src)
	if err != nil {
		return nil, fmt.Errorf("push %s: %w", src, err)
	}
	if target == "" {
		if r, err := reference.Parse(src); err == nil && r.IsRemote() && r.Tag != "" {
			target = r.Registry + "/" + r.Repository + ":" + r.Tag
		}
	}
	return pushDigest(ctx, st, src, desc, target, opts...)
}

// ToModelPack stores the package src also as a ModelPack artifact (the same
// files as layers, manifest.yaml among them as a weight.config layer, a
// ModelPack config) and returns its descriptor, untagged. The conversion is
// reproducible: the same package gives the same digest.
func ToModelPack(ctx context.Context, st *store.Store, src string) (ocispec.Descriptor, error) {
	pkg, err := st.Read(ctx, src)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	switch pkg.Format {
	case artifact.FormatModelPack:
		return pkg.Descriptor, nil
	case artifact.FormatAxon:
	default:
		return ocispec.Descriptor{}, fmt.Errorf("it is a %s artifact, not an axon package; push it as it is", artifact.FormatTitle(pkg.Format))
	}
	return repack(ctx, st, pkg, artifact.FormatModelPack)
}

// ToAxon stores a ModelPack artifact axon made (manifest.yaml inside) also
// as an axon package and returns its descriptor, untagged; an axon package
// is returned as it is.
func ToAxon(ctx context.Context, st *store.Store, src string) (ocispec.Descriptor, error) {
	pkg, err := st.Read(ctx, src)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	if pkg.Format == artifact.FormatAxon {
		return pkg.Descriptor, nil
	}
	if pkg.EmbeddedManifest == nil {
		return ocispec.Descriptor{}, fmt.Errorf("it is a %s artifact axon did not make (no manifest.yaml inside); axon install oci://REF converts it", artifact.FormatTitle(pkg.Format))
	}
	return repack(ctx, st, pkg, artifact.FormatAxon)
}

// repack exports pkg and packs it again in format, keeping its created time.
func repack(ctx context.Context, st *store.Store, pkg *artifact.Package, format string) (ocispec.Descriptor, error) {
	tmp, err := st.TempDir()
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	dir, err := os.MkdirTemp(tmp, "modelpack-")
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	defer os.RemoveAll(dir)
	if err := artifact.Export(ctx, st, pkg.Descriptor, dir); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("to %s: %w", format, err)
	}
	opts := []artifact.Option{artifact.WithFormat(format), artifact.WithTempDir(tmp)}
	if c, err := time.Parse(time.RFC3339, pkg.OCI.Annotations[schemas.AnnotationCreated]); err == nil {
		opts = append(opts, artifact.WithCreated(c))
	}
	release, err := st.Lease(ctx)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	defer release()
	desc, err := artifact.Pack(ctx, dir, st, opts...)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("to %s: %w", format, err)
	}
	return desc, nil
}

package mlos

import (
	"context"
	"errors"
	"os"
	"path/filepath"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"

	"github.com/mlos-foundation/axon/internal/artifact"
	"github.com/mlos-foundation/axon/schemas"
)

// Model artifacts of other tools (ModelPack, KitOps ModelKits, Docker Model
// Runner) are served when they hold an ONNX model; the manifest mlosd runs
// them by is the manifest.yaml they carry (axon pack --format modelpack) or
// one written at unpack from the ONNX graph and config.json.

// generatedManifest is where the manifest written for a foreign artifact is
// kept in its unpacked directory, out of the model's own file names.
const generatedManifest = ".axon/manifest.yaml"

// checkServable refuses, before anything is downloaded, an artifact mlosd
// cannot serve, saying in one line what it holds and what converts it.
func checkServable(ctx context.Context, src content.Fetcher, r Ref, m *ocispec.Manifest) error {
	if m.Config.MediaType == schemas.MediaTypeManifest {
		return nil
	}
	format := artifact.Identify(m)
	if format == "" {
		return Unprocessable("%s is not an axon package (config media type %s, want %s)", r, m.Config.MediaType, schemas.MediaTypeManifest)
	}
	if m.Config.Size > 4<<20 {
		return Unprocessable("%s: its %s config is %d bytes; refusing more than 4 MiB", r, artifact.FormatTitle(format), m.Config.Size)
	}
	cfg, err := content.FetchAll(ctx, src, m.Config)
	if err != nil {
		return BadGateway("fetch config of %s: %w", r, err)
	}
	f, err := artifact.DescribeForeign(format, m, cfg)
	if err != nil {
		return Unprocessable("%s: %w", r, err)
	}
	if !f.HasONNX() {
		convert := "axon install oci://" + r.String()
		if r.Layout != "" {
			convert = "axon install oci://HOST/REPO:TAG (from the registry it came from)"
		}
		return Unprocessable("%s is %s; mlosd serves ONNX models: %s converts it into an axon package", r, f.Summary(), convert)
	}
	return nil
}

// unpackForeign lays out a foreign artifact's files under dir (once per
// digest) and finds or writes the manifest it is served by.
func (p *Puller) unpackForeign(ctx context.Context, d digest.Digest, raw []byte, dir string) (*Package, error) {
	desc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: d, Size: int64(len(raw))}
	if _, err := os.Stat(dir); err == nil {
		if man, err := readUnpackedManifest(dir); err == nil {
			return &Package{Digest: d, Dir: dir, Manifest: man}, nil
		}
	}
	pkg, err := artifact.Read(ctx, p.cache, desc)
	if err != nil {
		return nil, Unprocessable("%s: %w", d, err)
	}
	if pkg.Foreign != nil && !pkg.Foreign.HasONNX() {
		return nil, Unprocessable("%s is %s; mlosd serves ONNX models (axon install oci://REF converts it)", d, pkg.Foreign.Summary())
	}
	man := pkg.Manifest
	err = unpackAs(dir, d, func(tmp string) error {
		if err := artifact.Export(ctx, p.cache, desc, tmp); err != nil {
			return Unprocessable("unpack %s: %w", d, err)
		}
		if pkg.EmbeddedManifest != nil {
			return nil
		}
		var err error
		if man, err = artifact.DescribeDir(ctx, tmp, pkg.Manifest); err != nil {
			return Unprocessable("%s (%s): %w", d, artifact.FormatTitle(pkg.Format), err)
		}
		b, err := man.Marshal()
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(tmp, filepath.Dir(generatedManifest)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(tmp, filepath.FromSlash(generatedManifest)), b, 0o644)
	})
	if err != nil {
		return nil, err
	}
	return &Package{Digest: d, Dir: dir, Manifest: man}, nil
}

func readUnpackedManifest(dir string) (*schemas.Manifest, error) {
	for _, name := range []string{generatedManifest, schemas.ManifestFile} {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return schemas.Parse(b)
	}
	return nil, os.ErrNotExist
}

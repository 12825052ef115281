package ui

import (
	"context"
	"fmt"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/mlos-foundation/axon/internal/artifact"
	"github.com/mlos-foundation/axon/schemas"
)

// Model artifacts of other tools (CNCF ModelPack, KitOps ModelKits, Docker
// Model Runner) are listed as models: name, format and files from their own
// config, and the full manifest.yaml (I/O schema) when one travels as a layer.

func asImageManifest(m *ociManifest) *ocispec.Manifest {
	return &ocispec.Manifest{MediaType: m.MediaType, ArtifactType: m.ArtifactType, Config: m.Config, Layers: m.Layers, Annotations: m.Annotations}
}

// foreignFormat is the model format of another tool m is in, or "".
func foreignFormat(m *ociManifest) string {
	if len(m.Manifests) > 0 {
		return ""
	}
	if f := artifact.Identify(asImageManifest(m)); f != artifact.FormatAxon {
		return f
	}
	return ""
}

// readForeignModel describes a foreign model artifact as an axon manifest.
func readForeignModel(ctx context.Context, src Source, m *ociManifest, format string) (*schemas.Manifest, error) {
	om := asImageManifest(m)
	cfg, err := readBlob(ctx, src, m.Config, maxConfigBytes)
	if err != nil {
		return nil, err
	}
	f, err := artifact.DescribeForeign(format, om, cfg)
	if err != nil {
		return nil, err
	}
	if f.EmbeddedManifest {
		for _, x := range f.Files {
			if x.Path == schemas.ManifestFile && x.Archive == artifact.ArchiveNone {
				raw, err := readBlob(ctx, src, x.Layer, maxConfigBytes)
				if err != nil {
					return nil, err
				}
				pm, err := schemas.Parse(raw)
				if err != nil {
					return nil, fmt.Errorf("%s in the %s artifact: %w", schemas.ManifestFile, artifact.FormatTitle(format), err)
				}
				return pm, nil
			}
		}
	}
	return f.AxonManifest(om), nil
}

package transfer

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/credentials"

	"github.com/mlos-foundation/axon/internal/artifact"
	"github.com/mlos-foundation/axon/internal/testutil"
	"github.com/mlos-foundation/axon/schemas"
)

// axon pull refuses packages with a duplicated or non-canonical layer path
// and packages whose manifest.yaml digests are not their layers', and stores
// nothing of them.
func TestPullRefusesHostileLayers(t *testing.T) {
	ctx := context.Background()
	reg := testutil.StartDistribution(t)
	src := openStore(t)
	if _, err := src.Pack(ctx, modelDir(t, 0, 7), artifact.WithName("hf", "good")); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		edit func([]ocispec.Descriptor, ocispec.Descriptor) []ocispec.Descriptor
		want string
	}{
		"dup": {func(ls []ocispec.Descriptor, junk ocispec.Descriptor) []ocispec.Descriptor {
			return append(ls, titled(junk, "model.onnx"))
		}, "both have the path"},
		"backslash": {func(ls []ocispec.Descriptor, junk ocispec.Descriptor) []ocispec.Descriptor {
			return append(ls, titled(junk, `a\b`))
		}, "backslash"},
		"digest": {func(ls []ocispec.Descriptor, junk ocispec.Descriptor) []ocispec.Descriptor {
			ls[0] = titled(junk, ls[0].Annotations[schemas.AnnotationFilepath])
			return ls
		}, "manifest.yaml says model.onnx is"},
	} {
		t.Run(name, func(t *testing.T) {
			repo, err := remote.NewRepository(reg + "/test/" + name)
			if err != nil {
				t.Fatal(err)
			}
			repo.PlainHTTP = true
			res, err := Push(ctx, src, "hf/good@latest", reg+"/test/"+name+":1", WithCredentials(credentials.NewMemoryStore()))
			if err != nil {
				t.Fatal(err)
			}
			desc := res.Descriptor
			raw, err := content.FetchAll(ctx, repo, desc)
			if err != nil {
				t.Fatal(err)
			}
			var m ocispec.Manifest
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatal(err)
			}
			b := []byte("garbage, not ONNX")
			junk := content.NewDescriptorFromBytes(schemas.MediaTypeWeight, b)
			if err := repo.Push(ctx, junk, bytes.NewReader(b)); err != nil {
				t.Fatal(err)
			}
			bad, err := oras.PackManifest(ctx, repo, oras.PackManifestVersion1_1, schemas.ArtifactType, oras.PackManifestOptions{
				ConfigDescriptor: &m.Config, Layers: tc.edit(m.Layers, junk), ManifestAnnotations: m.Annotations,
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := repo.Tag(ctx, bad, "bad"); err != nil {
				t.Fatal(err)
			}
			st := openStore(t)
			_, err = Pull(ctx, st, reg+"/test/"+name+":bad", WithCredentials(credentials.NewMemoryStore()))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("pull: %v, want %q", err, tc.want)
			}
			if entries, _ := st.List(ctx); len(entries) != 0 {
				t.Fatalf("a refused package is in the store: %v", entries)
			}
		})
	}
}

func titled(d ocispec.Descriptor, path string) ocispec.Descriptor {
	d.Annotations = map[string]string{schemas.AnnotationTitle: path, schemas.AnnotationFilepath: path}
	return d
}

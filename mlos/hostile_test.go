package mlos_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlos-foundation/axon/internal/artifact"
	"github.com/mlos-foundation/axon/internal/onnx"
	"github.com/mlos-foundation/axon/internal/testutil"
	"github.com/mlos-foundation/axon/mlos"
	"github.com/mlos-foundation/axon/mlos/mlostest"
	"github.com/mlos-foundation/axon/schemas"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/content/oci"
)

// hostileLayout stores a valid affine package in an OCI layout, then a copy
// whose layers edit changed, tagged "bad"; it returns the layout directory.
func hostileLayout(t *testing.T, edit func(layers []ocispec.Descriptor, push func([]byte) ocispec.Descriptor) []ocispec.Descriptor) string {
	t.Helper()
	dir := t.TempDir()
	st, err := oci.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	good := mlostest.Package{Namespace: "test", Name: "affine", Version: "1", Model: mlostest.AffineModel(t)}.Push(t, st, "good")
	raw, err := content.FetchAll(ctx, st, good)
	if err != nil {
		t.Fatal(err)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	push := func(b []byte) ocispec.Descriptor {
		d := content.NewDescriptorFromBytes(schemas.MediaTypeWeight, b)
		if err := st.Push(ctx, d, bytes.NewReader(b)); err != nil && !strings.Contains(err.Error(), "exists") {
			t.Fatal(err)
		}
		return d
	}
	bad, err := oras.PackManifest(ctx, st, oras.PackManifestVersion1_1, schemas.ArtifactType, oras.PackManifestOptions{
		ConfigDescriptor: &m.Config, Layers: edit(m.Layers, push), ManifestAnnotations: m.Annotations,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Tag(ctx, bad, "bad"); err != nil {
		t.Fatal(err)
	}
	return dir
}

func named(d ocispec.Descriptor, path string) ocispec.Descriptor {
	d.Annotations = map[string]string{schemas.AnnotationTitle: path, schemas.AnnotationFilepath: path}
	return d
}

// Packages whose layer paths are duplicated or not canonical are refused by
// mlosd's unpack and by axon's reader with the same rule (one function), and
// nothing of them is left unpacked.
func TestHostileLayerPathsRefused(t *testing.T) {
	cases := map[string]struct {
		edit func([]ocispec.Descriptor, func([]byte) ocispec.Descriptor) []ocispec.Descriptor
		want string
	}{
		"model.onnx twice": {func(ls []ocispec.Descriptor, push func([]byte) ocispec.Descriptor) []ocispec.Descriptor {
			return append(ls, named(push([]byte("garbage, not ONNX")), "model.onnx"))
		}, "both have the path"},
		"backslash": {func(ls []ocispec.Descriptor, push func([]byte) ocispec.Descriptor) []ocispec.Descriptor {
			return append(ls, named(push([]byte("x")), `sub\evil.txt`))
		}, "backslash"},
		"dot-dot": {func(ls []ocispec.Descriptor, push func([]byte) ocispec.Descriptor) []ocispec.Descriptor {
			return append(ls, named(push([]byte("x")), "../evil.txt"))
		}, "leaves the package"},
		"absolute": {func(ls []ocispec.Descriptor, push func([]byte) ocispec.Descriptor) []ocispec.Descriptor {
			return append(ls, named(push([]byte("x")), "/etc/evil"))
		}, "absolute"},
		"dot-slash": {func(ls []ocispec.Descriptor, push func([]byte) ocispec.Descriptor) []ocispec.Descriptor {
			return append(ls, named(push([]byte("x")), "./model.onnx"))
		}, "not a clean"},
		"empty": {func(ls []ocispec.Descriptor, push func([]byte) ocispec.Descriptor) []ocispec.Descriptor {
			d := push([]byte("x"))
			return append(ls, d)
		}, "empty path"},
		"file inside a file": {func(ls []ocispec.Descriptor, push func([]byte) ocispec.Descriptor) []ocispec.Descriptor {
			return append(ls, named(push([]byte("x")), "model.onnx/inner"))
		}, "inside layer"},
		"manifest.yaml digest differs": {func(ls []ocispec.Descriptor, push func([]byte) ocispec.Descriptor) []ocispec.Descriptor {
			ls[0] = named(push([]byte("garbage, not ONNX")), "model.onnx")
			return ls
		}, "manifest.yaml says model.onnx is"},
	}
	ctx := context.Background()
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			layout := hostileLayout(t, c.edit)
			data := t.TempDir()
			p, err := mlos.NewPuller(ctx, data)
			if err != nil {
				t.Fatal(err)
			}
			ref, err := mlos.ParseRef("oci-layout://" + layout + ":bad")
			if err != nil {
				t.Fatal(err)
			}
			desc, err := p.Pull(ctx, ref)
			if err == nil {
				_, err = p.Unpack(ctx, desc.Digest)
			}
			if err == nil || !strings.Contains(err.Error(), c.want) || mlos.StatusOf(err) != http.StatusUnprocessableEntity {
				t.Fatalf("mlosd unpack: %v (status %d), want 422 with %q", err, mlos.StatusOf(err), c.want)
			}
			if ents, _ := os.ReadDir(filepath.Join(data, "models")); len(ents) != 0 {
				t.Fatalf("a refused package left %d entries in models/", len(ents))
			}
			// axon's side: the same package read from the layout (export, pull, push).
			st, err := oci.New(layout)
			if err != nil {
				t.Fatal(err)
			}
			bad, err := st.Resolve(ctx, "bad")
			if err != nil {
				t.Fatal(err)
			}
			out := t.TempDir()
			if err := artifact.Export(ctx, st, bad, out); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("axon export: %v, want %q", err, c.want)
			}
			if ents, _ := os.ReadDir(out); len(ents) != 0 {
				t.Fatalf("a refused export wrote %d files", len(ents))
			}
		})
	}
}

// mlosd reads oci-layout:// only under the allowed directories, answers the
// same for a path that exists and one that does not, leaves nothing unpacked
// after a failed registration and names no server path in its errors.
func TestLayoutPolicyAndScrubbedErrors(t *testing.T) {
	allowed, other, data := t.TempDir(), t.TempDir(), t.TempDir()
	affine := mlostest.Package{Namespace: "test", Name: "affine", Version: "1", Model: mlostest.AffineModel(t)}
	affine.Layout(t, allowed, "v1")
	affine.Layout(t, other, "v1")
	b := onnx.NewBuilder("unloadable")
	b.Input("x", "float32", "batch", 3)
	b.Node("NoSuchOperator", []string{"x"}, []string{"y"})
	b.Output("y", "float32", "batch", 3)
	model, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	mlostest.Package{Namespace: "test", Name: "unloadable", Version: "1", Model: model}.Layout(t, filepath.Join(allowed, "unloadable"), "v1")
	ctx := context.Background()
	m, err := mlos.NewManager(ctx, mlos.Options{DataDir: data, ORTLib: testutil.ORTLibrary(t), RestrictLayouts: true, AllowLayouts: []string{allowed}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	if _, err := m.Register(ctx, "oci-layout://"+allowed+":v1", ""); err != nil {
		t.Fatalf("allowed layout: %v", err)
	}
	var msgs []string
	for _, ref := range []string{"oci-layout://" + other + ":v1", "oci-layout:///etc:v1", "oci-layout://" + allowed + "/../" + filepath.Base(other) + ":v1", "oci-layout://relative/dir:v1"} {
		_, err := m.Register(ctx, ref, "x")
		if err == nil || (mlos.StatusOf(err) != http.StatusForbidden && mlos.StatusOf(err) != http.StatusBadRequest) {
			t.Fatalf("%s: %v (status %d), want 403", ref, err, mlos.StatusOf(err))
		}
		msgs = append(msgs, err.Error())
	}
	if !strings.Contains(msgs[0], "--allow-layout") {
		t.Fatalf("refusal does not say how to allow: %s", msgs[0])
	}
	// A package whose model does not load: 422, nothing left unpacked, no data path.
	before, _ := os.ReadDir(filepath.Join(data, "models"))
	_, err = m.Register(ctx, "oci-layout://"+filepath.Join(allowed, "unloadable")+":v1", "")
	if err == nil || mlos.StatusOf(err) != http.StatusUnprocessableEntity {
		t.Fatalf("unloadable model: %v, want 422", err)
	}
	msgs = append(msgs, err.Error())
	for _, msg := range msgs {
		if strings.Contains(msg, data) {
			t.Fatalf("error names the data directory: %s", msg)
		}
	}
	after, _ := os.ReadDir(filepath.Join(data, "models"))
	if len(after) != len(before) {
		t.Fatalf("failed registration left unpacked files: %d -> %d", len(before), len(after))
	}
}

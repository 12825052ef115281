package artifact

import (
	"context"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content/memory"

	"github.com/mlos-foundation/axon/schemas"
)

func layerAt(path, mediaType string) ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: mediaType, Digest: digest.FromString(path), Size: int64(len(path)),
		Annotations: map[string]string{schemas.AnnotationFilepath: path}}
}

func TestCheckLayerPaths(t *testing.T) {
	raw, tarred := schemas.MediaTypeWeight, schemas.MediaTypeWeight+".tar"
	for name, c := range map[string]struct {
		layers []ocispec.Descriptor
		want   string
	}{
		"fine":            {[]ocispec.Descriptor{layerAt("model.onnx", raw), layerAt("tok/vocab.txt", raw), layerAt("assets", tarred)}, ""},
		"duplicate":       {[]ocispec.Descriptor{layerAt("model.onnx", raw), layerAt("model.onnx", raw)}, "both have the path"},
		"backslash":       {[]ocispec.Descriptor{layerAt(`sub\model.onnx`, raw)}, "backslash"},
		"dot-dot":         {[]ocispec.Descriptor{layerAt("a/../../x", raw)}, "leaves the package"},
		"absolute":        {[]ocispec.Descriptor{layerAt("/x", raw)}, "absolute"},
		"dot":             {[]ocispec.Descriptor{layerAt("./x", raw)}, "not a clean"},
		"empty":           {[]ocispec.Descriptor{layerAt("", raw)}, "empty path"},
		"double slash":    {[]ocispec.Descriptor{layerAt("a//b", raw)}, "not a clean"},
		"inside a file":   {[]ocispec.Descriptor{layerAt("a", raw), layerAt("a/b", raw)}, "inside layer 0's file"},
		"inside a tar":    {[]ocispec.Descriptor{layerAt("d", tarred), layerAt("d/x", raw)}, "inside layer 0's directory"},
		"title only, bad": {[]ocispec.Descriptor{{MediaType: raw, Annotations: map[string]string{schemas.AnnotationTitle: "../x"}}}, "leaves"},
	} {
		err := CheckLayerPaths(c.layers)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
}

func TestCheckFileDigests(t *testing.T) {
	l := layerAt("model.onnx", schemas.MediaTypeWeight)
	ok := &schemas.Manifest{Files: []schemas.File{{Path: "model.onnx", Digest: l.Digest.String(), Size: l.Size}}}
	if err := CheckFileDigests([]ocispec.Descriptor{l}, ok); err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]schemas.File{
		"digest":  {Path: "model.onnx", Digest: digest.FromString("other").String()},
		"size":    {Path: "model.onnx", Digest: l.Digest.String(), Size: 99},
		"missing": {Path: "absent.bin", Digest: l.Digest.String()},
	} {
		if err := CheckFileDigests([]ocispec.Descriptor{l}, &schemas.Manifest{Files: []schemas.File{f}}); err == nil {
			t.Errorf("%s mismatch accepted", name)
		}
	}
}

// Pack refuses a directory whose file names are not canonical package paths.
func TestPackRefusesBackslashName(t *testing.T) {
	dir := modelDir(t)
	write(t, dir, `odd\name.txt`, "x")
	_, err := Pack(context.Background(), dir, memory.New(), WithName("hf", "odd"))
	if err == nil || !strings.Contains(err.Error(), "backslash") {
		t.Fatalf("pack with a backslash in a file name: %v", err)
	}
}

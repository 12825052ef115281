// Package uitest builds real OCI content for the UI's tests and benchmarks: axon
// model packages (a real ONNX model, its I/O schema read back with onnx.Inspect, a
// manifest.yaml config), plain container images and signatures that refer to a
// manifest. Everything is pushed with oras-go into any content.Pusher (an OCI
// layout, or a remote registry repository).
package uitest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"gopkg.in/yaml.v3"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"

	"github.com/mlos-foundation/axon/internal/onnx"
	"github.com/mlos-foundation/axon/schemas"
)

// Model describes a package to build. Zero fields get plain defaults.
type Model struct {
	Namespace, Name, Version string
	Description              string
	Task                     string
	License                  string
	Hub, ID, Revision        string
	Created                  string // RFC 3339; pins the manifest's created annotation
	Classes                  int
	Labels                   []string
	Seed                     uint64
	// ONNX, when set, is used as model.onnx instead of a generated classifier
	// (benchmarks share one model blob across thousands of packages).
	ONNX []byte
	// ChatTemplate adds a tokenizer_config.json with a chat_template (and the
	// manifest says so), as text-generation packages of chat models have.
	ChatTemplate bool
	// Variant and SourceFile fill format.variant / format.sourceFile.
	Variant, SourceFile string
}

// TinyDecoderONNX returns a small real graph with a decoder's interface as
// optimum exports it: input_ids, attention_mask, past_key_values.0.key/.value
// → logits, present.0.key/.value.
func TinyDecoderONNX(seed uint64) ([]byte, error) {
	b := onnx.NewBuilder("tiny_decoder")
	b.Input("input_ids", "int64", "batch", "sequence")
	b.Input("attention_mask", "int64", "batch", "total_sequence")
	b.Input("past_key_values.0.key", "float32", "batch", 2, "past_sequence", 4)
	b.Input("past_key_values.0.value", "float32", "batch", 2, "past_sequence", 4)
	w := make([]float32, 16*16)
	for i := range w {
		w[i] = float32((uint64(i)*2654435761+seed)%1000) / 1000
	}
	b.InitFloat("embedding", []int64{16, 16}, w)
	b.Node("Gather", []string{"embedding", "input_ids"}, []string{"logits"}, onnx.AttrInt("axis", 0))
	b.Node("Identity", []string{"past_key_values.0.key"}, []string{"present.0.key"})
	b.Node("Identity", []string{"past_key_values.0.value"}, []string{"present.0.value"})
	b.Output("logits", "float32", "batch", "sequence", 16)
	b.Output("present.0.key", "float32", "batch", 2, "total_sequence", 4)
	b.Output("present.0.value", "float32", "batch", 2, "total_sequence", 4)
	return b.Bytes()
}

// TinyONNX returns a small real text classifier (input_ids [batch, sequence] →
// probs [batch, classes]).
func TinyONNX(classes int, seed uint64) ([]byte, error) {
	return onnx.TinyTextClassifier(onnx.TextClassifierOptions{Classes: classes, Seed: seed, BERTInputs: true}).Bytes()
}

// Push stores data under desc unless it is already there.
func Push(ctx context.Context, p content.Pusher, mediaType string, data []byte, annotations map[string]string) (ocispec.Descriptor, error) {
	desc := content.NewDescriptorFromBytes(mediaType, data)
	desc.Annotations = annotations
	err := p.Push(ctx, desc, bytes.NewReader(data))
	if err != nil && !errors.Is(err, errdef.ErrAlreadyExists) {
		return desc, fmt.Errorf("push %s: %w", mediaType, err)
	}
	return desc, nil
}

// BuildModel pushes an axon package for m and returns its manifest's descriptor.
func BuildModel(ctx context.Context, p content.Pusher, m Model) (ocispec.Descriptor, *schemas.Manifest, error) {
	if m.Namespace == "" {
		m.Namespace = "test"
	}
	if m.Name == "" {
		m.Name = "tiny"
	}
	if m.Version == "" {
		m.Version = "v1"
	}
	if m.Classes == 0 {
		m.Classes = max(2, len(m.Labels))
	}
	if m.Created == "" {
		m.Created = "2025-01-02T03:04:05Z"
	}
	model := m.ONNX
	if model == nil {
		var err error
		if model, err = TinyONNX(m.Classes, m.Seed); err != nil {
			return ocispec.Descriptor{}, nil, fmt.Errorf("build onnx: %w", err)
		}
	}
	info, err := onnx.InspectReader(bytes.NewReader(model), int64(len(model)))
	if err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	readme := []byte("# " + m.Namespace + "/" + m.Name + "\n\n" + m.Description + "\n")
	cfg := []byte(fmt.Sprintf(`{"id2label": %d}`, m.Classes))
	files := []struct {
		path, role, mediaType string
		data                  []byte
	}{
		{"model.onnx", schemas.RoleModel, schemas.MediaTypeWeight, model},
		{"config.json", schemas.RoleConfig, schemas.MediaTypeWeightConfig, cfg},
		{"README.md", schemas.RoleDoc, schemas.MediaTypeDoc, readme},
	}
	if m.ChatTemplate {
		files = append(files, struct {
			path, role, mediaType string
			data                  []byte
		}{"tokenizer_config.json", schemas.RoleTokenizer, schemas.MediaTypeWeightConfig,
			[]byte(`{"chat_template": "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}", "eos_token": "<|end|>"}`)})
	}
	mf := &schemas.Manifest{
		APIVersion: schemas.APIVersion, Kind: schemas.Kind,
		Name: m.Name, Namespace: m.Namespace, Version: m.Version, Description: m.Description, License: m.License,
		Framework: schemas.Framework{Name: "onnx"},
		Format:    schemas.Format{Name: "onnx", Opset: info.Opset, IRVersion: info.IRVersion, Model: "model.onnx"},
		Task:      m.Task,
		IO:        schemas.IO{Inputs: info.Inputs, Outputs: info.Outputs},
		Labels:    m.Labels,
		Resources: schemas.Resources{Parameters: info.Parameters},
	}
	if m.Hub != "" {
		mf.Source = &schemas.Source{Hub: m.Hub, ID: m.ID, Revision: m.Revision, Created: m.Created}
	}
	if m.Task == "text-classification" {
		mf.Preprocessing = &schemas.Preprocessing{Tokenizer: &schemas.Tokenizer{Type: "wordpiece", Files: []string{"tokenizer.json"}, MaxLength: 128}}
	}
	if m.ChatTemplate {
		mf.Preprocessing = &schemas.Preprocessing{Tokenizer: &schemas.Tokenizer{Type: "bpe", Files: []string{"tokenizer_config.json"}, ChatTemplate: true}}
	}
	mf.Format.Variant, mf.Format.SourceFile = m.Variant, m.SourceFile
	var layers []ocispec.Descriptor
	for _, f := range files {
		d, err := Push(ctx, p, f.mediaType, f.data, map[string]string{
			schemas.AnnotationTitle: f.path, schemas.AnnotationFilepath: f.path,
		})
		if err != nil {
			return ocispec.Descriptor{}, nil, err
		}
		layers = append(layers, d)
		mf.Files = append(mf.Files, schemas.File{Path: f.path, Role: f.role, Digest: d.Digest.String(), Size: d.Size})
		mf.Resources.Bytes += d.Size
	}
	raw, err := yaml.Marshal(mf)
	if err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	config, err := Push(ctx, p, schemas.MediaTypeManifest, raw, nil)
	if err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	ann := map[string]string{
		schemas.AnnotationTitle: m.Namespace + "/" + m.Name, schemas.AnnotationVersion: m.Version,
		schemas.AnnotationCreated: m.Created,
	}
	if m.Description != "" {
		ann[schemas.AnnotationDescription] = m.Description
	}
	desc, err := oras.PackManifest(ctx, p, oras.PackManifestVersion1_1, schemas.ArtifactType, oras.PackManifestOptions{
		ConfigDescriptor: &config, Layers: layers, ManifestAnnotations: ann,
	})
	if err != nil && !errors.Is(err, errdef.ErrAlreadyExists) {
		return ocispec.Descriptor{}, nil, fmt.Errorf("pack %s/%s: %w", m.Namespace, m.Name, err)
	}
	return desc, mf, nil
}

// BuildImage pushes a minimal container image (an OCI image config and one layer).
func BuildImage(ctx context.Context, p content.Pusher, cmd string) (ocispec.Descriptor, error) {
	cfg, _ := json.Marshal(ocispec.Image{
		Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"},
		Config:   ocispec.ImageConfig{Cmd: []string{cmd}},
		RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{digest.FromString(cmd)}},
	})
	config, err := Push(ctx, p, ocispec.MediaTypeImageConfig, cfg, nil)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	layer, err := Push(ctx, p, ocispec.MediaTypeImageLayer, []byte(cmd), nil)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	m, _ := json.Marshal(ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest,
		Config: config, Layers: []ocispec.Descriptor{layer},
	})
	return Push(ctx, p, ocispec.MediaTypeImageManifest, m, nil)
}

// SignatureType is the artifact type of the signatures BuildSignature makes.
const SignatureType = "application/vnd.example.signature.v1"

// BuildSignature pushes an artifact whose subject is subject, as a signing tool would.
func BuildSignature(ctx context.Context, p content.Pusher, subject ocispec.Descriptor) (ocispec.Descriptor, error) {
	sig, err := Push(ctx, p, "application/octet-stream", []byte("signature of "+subject.Digest.String()), nil)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	return oras.PackManifest(ctx, p, oras.PackManifestVersion1_1, SignatureType, oras.PackManifestOptions{
		Subject: &subject, Layers: []ocispec.Descriptor{sig},
		ManifestAnnotations: map[string]string{ocispec.AnnotationCreated: "2025-02-03T04:05:06Z"},
	})
}

// BuildIndex pushes a multi-platform image index over images built for each platform.
func BuildIndex(ctx context.Context, p content.Pusher, platforms ...ocispec.Platform) (ocispec.Descriptor, error) {
	idx := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex}
	for _, pl := range platforms {
		d, err := BuildImage(ctx, p, "/bin/sh "+pl.OS+"/"+pl.Architecture)
		if err != nil {
			return ocispec.Descriptor{}, err
		}
		d.Platform = &pl
		idx.Manifests = append(idx.Manifests, d)
	}
	raw, _ := json.Marshal(idx)
	return Push(ctx, p, ocispec.MediaTypeImageIndex, raw, nil)
}

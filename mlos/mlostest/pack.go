// Package mlostest builds axon packages for tests of the runtime: files in,
// an OCI image layout (and optionally a registry push) out, with the media
// types and annotations of the package format.
package mlostest

import (
	"bytes"
	"context"
	"errors"
	"path"
	"sort"
	"strings"
	"testing"

	"github.com/mlos-foundation/axon/internal/onnx"
	"github.com/mlos-foundation/axon/schemas"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"gopkg.in/yaml.v3"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/content/oci"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote"
)

// Package is what goes into a test package.
type Package struct {
	Namespace, Name, Version string
	Task                     string
	Labels                   []string
	Model                    []byte            // model.onnx
	Files                    map[string][]byte // other files by relative path (tokenizer.json, config.json...)
	// Edit, when set, changes manifest.yaml before it is stored (to make bad packages).
	Edit func(*schemas.Manifest)
}

// Manifest builds manifest.yaml for the package, reading the I/O schema
// from model.onnx with onnx.InspectReader.
func (p Package) Manifest(t testing.TB) schemas.Manifest {
	t.Helper()
	info, err := onnx.InspectReader(bytes.NewReader(p.Model), int64(len(p.Model)))
	if err != nil {
		t.Fatalf("inspect model: %v", err)
	}
	m := schemas.Manifest{
		APIVersion: schemas.APIVersion, Kind: schemas.Kind,
		Name: p.Name, Namespace: p.Namespace, Version: p.Version,
		Framework: schemas.Framework{Name: "onnx"},
		Format:    schemas.Format{Name: "onnx", Opset: info.Opset, IRVersion: info.IRVersion, Model: "model.onnx"},
		Task:      p.Task,
		IO:        schemas.IO{Inputs: info.Inputs, Outputs: info.Outputs},
		Labels:    p.Labels,
		Resources: schemas.Resources{Bytes: int64(len(p.Model)), Parameters: info.Parameters},
	}
	m.Files = append(m.Files, schemas.File{Path: "model.onnx", Role: schemas.RoleModel, Digest: digest.FromBytes(p.Model).String(), Size: int64(len(p.Model))})
	for _, name := range p.fileNames() {
		role := schemas.RoleConfig
		if strings.HasPrefix(path.Base(name), "tokenizer") || strings.HasPrefix(path.Base(name), "vocab") {
			role = schemas.RoleTokenizer
		}
		b := p.Files[name]
		m.Files = append(m.Files, schemas.File{Path: name, Role: role, Digest: digest.FromBytes(b).String(), Size: int64(len(b))})
	}
	m.Resources.Bytes = 0
	for _, f := range m.Files {
		m.Resources.Bytes += f.Size
	}
	if _, ok := p.Files["tokenizer.json"]; ok {
		m.Preprocessing = &schemas.Preprocessing{Tokenizer: &schemas.Tokenizer{Files: []string{"tokenizer.json"}}}
	}
	return m
}

func (p Package) fileNames() []string {
	var names []string
	for n := range p.Files {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Push stores the package in target (an OCI layout store or a remote
// repository), tags it, and returns the manifest descriptor.
func (p Package) Push(t testing.TB, target oras.Target, tag string) ocispec.Descriptor {
	t.Helper()
	ctx := context.Background()
	man := p.Manifest(t)
	if p.Edit != nil {
		p.Edit(&man)
	}
	cfg, err := yaml.Marshal(man)
	if err != nil {
		t.Fatal(err)
	}
	push := func(mediaType string, b []byte, annotations map[string]string) ocispec.Descriptor {
		desc := content.NewDescriptorFromBytes(mediaType, b)
		desc.Annotations = annotations
		if err := target.Push(ctx, desc, bytes.NewReader(b)); err != nil && !errors.Is(err, errdef.ErrAlreadyExists) {
			t.Fatalf("push blob: %v", err)
		}
		return desc
	}
	layer := func(mediaType, name string, b []byte) ocispec.Descriptor {
		return push(mediaType, b, map[string]string{schemas.AnnotationTitle: name, schemas.AnnotationFilepath: name})
	}
	layers := []ocispec.Descriptor{layer(schemas.MediaTypeWeight, "model.onnx", p.Model)}
	for _, name := range p.fileNames() {
		layers = append(layers, layer(schemas.MediaTypeWeightConfig, name, p.Files[name]))
	}
	cfgDesc := push(schemas.MediaTypeManifest, cfg, nil)
	desc, err := oras.PackManifest(ctx, target, oras.PackManifestVersion1_1, schemas.ArtifactType, oras.PackManifestOptions{
		ConfigDescriptor:    &cfgDesc,
		Layers:              layers,
		ManifestAnnotations: map[string]string{schemas.AnnotationTitle: p.Name, schemas.AnnotationVersion: p.Version, ocispec.AnnotationCreated: "2024-01-01T00:00:00Z"},
	})
	if err != nil {
		t.Fatalf("pack manifest: %v", err)
	}
	if tag != "" {
		if err := target.Tag(ctx, desc, tag); err != nil {
			t.Fatalf("tag %s: %v", tag, err)
		}
	}
	return desc
}

// Layout writes the package into an OCI image layout at dir.
func (p Package) Layout(t testing.TB, dir, tag string) ocispec.Descriptor {
	t.Helper()
	st, err := oci.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	return p.Push(t, st, tag)
}

// PushRemote pushes the package to host/repo:tag over plain HTTP.
func (p Package) PushRemote(t testing.TB, host, repo, tag string) ocispec.Descriptor {
	t.Helper()
	r, err := remote.NewRepository(host + "/" + repo)
	if err != nil {
		t.Fatal(err)
	}
	r.PlainHTTP = true
	return p.Push(t, r, tag)
}

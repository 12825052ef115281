package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlos-foundation/axon/schemas"
	"gopkg.in/yaml.v3"
)

// docs/manifest.md and docs/manifest.schema.json must be what the schema generates.
func TestDocsAreUpToDate(t *testing.T) {
	md, err := Markdown()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join("..", "..", "docs", "manifest.md"))
	if err != nil || string(got) != md {
		t.Errorf("docs/manifest.md is stale: run go run ./scripts/gendocs")
	}
	sch, err := os.ReadFile(filepath.Join("..", "..", "docs", "manifest.schema.json"))
	if err != nil || !bytes.Equal(sch, schemas.SchemaJSON) {
		t.Errorf("docs/manifest.schema.json is stale: run go run ./scripts/gendocs")
	}
	for _, field := range []string{"`io.inputs[].shape`", "`source.revision`", "`files[].digest`", "`preprocessing.image.mean`"} {
		if !strings.Contains(md, field) {
			t.Errorf("reference lacks %s", field)
		}
	}
}

func TestAPIDocIsUpToDate(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "..", "mlos", "server", "openapi.json"))
	if err != nil {
		t.Fatal(err)
	}
	md, err := APIMarkdown(src)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join("..", "..", "docs", "mlosd-api.md"))
	if err != nil || string(got) != md {
		t.Errorf("docs/mlosd-api.md is stale: run go run ./scripts/gendocs")
	}
	for _, route := range []string{"`/models/{name}/inference`", "`/v2/models/{name}/infer`"} {
		if !strings.Contains(md, route) {
			t.Errorf("API doc lacks %s", route)
		}
	}
}

// The reference's example must be a manifest the schema accepts (digests aside).
func TestExampleParses(t *testing.T) {
	var m schemas.Manifest
	if err := yaml.Unmarshal([]byte(example), &m); err != nil {
		t.Fatal(err)
	}
	if m.Name != "bert-base-uncased" || len(m.IO.Inputs) != 3 || m.IO.Inputs[0].Shape[0].Name != "batch" {
		t.Errorf("example parsed as %+v", m)
	}
}

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlos-foundation/axon/internal/onnx"
)

// The committed example must be exactly what the generator writes, so that the
// demo's model is reproducible from source.
func TestExampleIsUpToDate(t *testing.T) {
	dir := t.TempDir()
	if err := run(dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"model.onnx", "tokenizer.json", "config.json", "README.md"} {
		want, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join("..", "tiny-sentiment", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("examples/tiny-sentiment/%s is stale: run go run ./examples/gen", name)
		}
	}
	info, err := onnx.Inspect(filepath.Join(dir, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, in := range info.Inputs {
		names = append(names, in.Name)
	}
	if len(names) != 3 || names[0] != "input_ids" || names[1] != "attention_mask" || names[2] != "token_type_ids" {
		t.Errorf("inputs = %v, want the BERT inputs", names)
	}
}

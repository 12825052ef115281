// Package artifacttest makes model directories for the tests of the packages
// that pack, move and export them, and compares directory trees.
package artifacttest

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlos-foundation/axon/internal/onnx"
	"github.com/mlos-foundation/axon/schemas"
)

// ModelDir writes a small text-classifier model directory: model.onnx with
// external data (model.onnx.data), tokenizer.json, config.json with labels and
// README.md. Tests add what else they need with WriteFile.
func ModelDir(t testing.TB, seed uint64) string {
	t.Helper()
	dir := t.TempDir()
	b := onnx.TinyTextClassifier(onnx.TextClassifierOptions{Vocab: 64, Dim: 8, Classes: 3, Seed: seed})
	if err := b.WriteFileExternal(filepath.Join(dir, "model.onnx"), "model.onnx.data"); err != nil {
		t.Fatal(err)
	}
	WriteFile(t, dir, "tokenizer.json", `{"model":{"type":"WordPiece"}}`)
	WriteFile(t, dir, "config.json", `{"id2label":{"0":"a","1":"b","2":"c"}}`)
	WriteFile(t, dir, "README.md", "# tiny\n")
	return dir
}

// WriteFile writes s to dir/rel ('/'-separated), creating directories.
func WriteFile(t testing.TB, dir, rel, s string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// SameTree checks that every file under want (but manifest.yaml, which a
// package may add) is byte-identical under got.
func SameTree(t testing.TB, want, got string) {
	t.Helper()
	n := 0
	filepath.Walk(want, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() || fi.Name() == schemas.ManifestFile {
			return nil
		}
		rel, _ := filepath.Rel(want, p)
		a, _ := os.ReadFile(p)
		b, err := os.ReadFile(filepath.Join(got, rel))
		if err != nil {
			t.Errorf("%s missing: %v", rel, err)
			return nil
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs", rel)
		}
		n++
		return nil
	})
	if n == 0 {
		t.Fatal("no files compared")
	}
}

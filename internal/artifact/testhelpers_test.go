package artifact

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/mlos-foundation/axon/internal/onnx"
)

// modelDir writes a small model directory: model.onnx with external data, a
// tokenizer, a config, a README and original weights.
func modelDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	b := onnx.TinyTextClassifier(onnx.TextClassifierOptions{Vocab: 64, Dim: 8, Classes: 3, Seed: 7})
	if err := b.WriteFileExternal(filepath.Join(dir, "model.onnx"), "model.onnx.data"); err != nil {
		t.Fatal(err)
	}
	write(t, dir, "tokenizer.json", `{"model":{"type":"WordPiece"}}`)
	write(t, dir, "config.json", `{"id2label":{"0":"a","1":"b","2":"c"}}`)
	write(t, dir, "README.md", "# tiny\n")
	write(t, dir, "original/pytorch_model.bin", "not really torch weights")
	return dir
}

func write(t testing.TB, dir, rel, s string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

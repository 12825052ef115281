package artifact

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mlos-foundation/axon/schemas"
)

// exampleDir copies examples/tiny-sentiment (a transformers text classifier:
// config.json with architectures and id2label, tokenizer.json, model.onnx).
func exampleDir(t *testing.T) string {
	t.Helper()
	src := filepath.Join("..", "..", "examples", "tiny-sentiment")
	des, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, de := range des {
		if de.IsDir() || de.Name() == schemas.ManifestFile {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, de.Name()))
		if err != nil {
			t.Fatal(err)
		}
		write(t, dir, de.Name(), string(b))
	}
	return dir
}

func packAndRead(t *testing.T, dir string, opts ...Option) *schemas.Manifest {
	t.Helper()
	_, pkg := packRead(t, newStore(t), dir, append([]Option{WithName("examples", "tiny-sentiment"), WithVersion("1.0")}, opts...)...)
	return pkg.Manifest
}

func TestPackDescribesFromHFConfig(t *testing.T) {
	m := packAndRead(t, exampleDir(t))
	if m.Task != "text-classification" {
		t.Errorf("task %q, want text-classification (config.json: BertForSequenceClassification)", m.Task)
	}
	if !slices.Equal(m.Labels, []string{"NEGATIVE", "POSITIVE"}) {
		t.Errorf("labels %q, want [NEGATIVE POSITIVE]", m.Labels)
	}
	if m.Preprocessing == nil || m.Preprocessing.Tokenizer == nil {
		t.Fatalf("no tokenizer preprocessing: %+v", m.Preprocessing)
	}
	tok := m.Preprocessing.Tokenizer
	if !slices.Equal(tok.Files, []string{"tokenizer.json"}) || tok.Type != "wordpiece" {
		t.Errorf("tokenizer %+v, want tokenizer.json, wordpiece", tok)
	}
	for _, f := range m.Files {
		if f.Path == "tokenizer.json" && f.Role != schemas.RoleTokenizer {
			t.Errorf("tokenizer.json role %q", f.Role)
		}
	}
}

func TestPackKeepsManifestYAML(t *testing.T) {
	dir := exampleDir(t)
	write(t, dir, schemas.ManifestFile, "task: feature-extraction\nlabels: [bad, good]\n")
	m := packAndRead(t, dir)
	if m.Task != "feature-extraction" {
		t.Errorf("task %q: manifest.yaml's feature-extraction was overridden", m.Task)
	}
	if !slices.Equal(m.Labels, []string{"bad", "good"}) {
		t.Errorf("labels %q: manifest.yaml's were overridden", m.Labels)
	}
	// What manifest.yaml leaves out is still filled in.
	if m.Preprocessing == nil || m.Preprocessing.Tokenizer == nil || len(m.Preprocessing.Tokenizer.Files) != 1 {
		t.Errorf("tokenizer not filled in: %+v", m.Preprocessing)
	}

	// A base manifest given to Pack is the caller's: it is not written to.
	base := &schemas.Manifest{Task: "text-classification", Preprocessing: &schemas.Preprocessing{Image: &schemas.Image{Size: []int{4, 4}}}}
	m = packAndRead(t, exampleDir(t), WithManifest(base))
	if m.Preprocessing.Tokenizer == nil || m.Preprocessing.Image == nil || base.Preprocessing.Tokenizer != nil || len(base.Labels) != 0 {
		t.Errorf("packed %+v; base now %+v", m.Preprocessing, base)
	}
}

func TestDescribeFromConfig(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "config.json", `{"architectures":["ViTForImageClassification"],"id2label":{"1":"dog","0":"cat","2":"bird"}}`)
	write(t, dir, "preprocessor_config.json", `{"size":{"height":224,"width":160},"image_mean":[0.5,0.5,0.5],"image_std":[0.25,0.25,0.25]}`)
	write(t, dir, "vocab.txt", "[PAD]\n")
	write(t, dir, "tokenizer_config.json", `{"model_max_length":512}`)
	var m schemas.Manifest
	if err := DescribeFromConfig(dir, &m); err != nil {
		t.Fatal(err)
	}
	if m.Task != "image-classification" || !slices.Equal(m.Labels, []string{"cat", "dog", "bird"}) {
		t.Errorf("task %q labels %q", m.Task, m.Labels)
	}
	img, tok := m.Preprocessing.Image, m.Preprocessing.Tokenizer
	if img == nil || !slices.Equal(img.Size, []int{224, 160}) || len(img.Mean) != 3 || img.Std[0] != 0.25 {
		t.Errorf("image %+v", img)
	}
	if tok == nil || tok.Type != "wordpiece" || tok.MaxLength != 512 || !slices.Equal(tok.Files, []string{"tokenizer_config.json", "vocab.txt"}) {
		t.Errorf("tokenizer %+v", tok)
	}

	for _, c := range []struct{ arch, task string }{
		{"GPT2ForCausalLM", "text-generation"}, {"GPT2LMHeadModel", "text-generation"}, {"BertModel", "feature-extraction"}, {"T5ForConditionalGeneration", "text2text-generation"}, {"Unknown", ""},
	} {
		if got := schemas.TaskFromArchitectures([]string{c.arch}); got != c.task {
			t.Errorf("%s: task %q, want %q", c.arch, got, c.task)
		}
	}

	// A directory without Hugging Face files adds nothing.
	var empty schemas.Manifest
	if err := DescribeFromConfig(t.TempDir(), &empty); err != nil || empty.Task != "" || empty.Labels != nil || empty.Preprocessing != nil {
		t.Errorf("empty dir: %v %+v", err, empty)
	}

	for _, bad := range []string{`{"id2label":{"x":"a"}}`, `{"id2label":{"5":"a"}}`, `[1]`, `{`} {
		write(t, dir, "config.json", bad)
		err := DescribeFromConfig(dir, &schemas.Manifest{})
		if err == nil || !strings.Contains(err.Error(), "config.json") {
			t.Errorf("config.json %s: err %v, want one naming config.json", bad, err)
		}
		// Packing such a directory says why, rather than guessing labels.
		if _, err := Pack(context.Background(), exampleDirWith(t, bad), newStore(t), WithName("a", "b")); err == nil || !strings.Contains(err.Error(), "config.json") {
			t.Errorf("pack with config.json %s: err %v", bad, err)
		}
	}
}

func exampleDirWith(t *testing.T, config string) string {
	dir := exampleDir(t)
	write(t, dir, "config.json", config)
	return dir
}

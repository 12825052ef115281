package schemas

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestDetect(t *testing.T) {
	for _, c := range []struct {
		files    []string
		kind, fw string
	}{
		{[]string{"config.json", "onnx/model.onnx", "model.safetensors"}, KindONNX, "onnx"},
		{[]string{"Model.ONNX"}, KindONNX, "onnx"},
		{[]string{"hubconf.py"}, KindHubconf, "pytorch"},
		{[]string{"repo-abc/hubconf.py", "repo-abc/models.py"}, KindHubconf, "pytorch"},
		{[]string{"a/b/hubconf.py"}, "", ""},
		{[]string{"saved_model.pb", "variables/variables.index"}, KindSavedModel, "tensorflow"},
		{[]string{"config.json", "model.safetensors", "tokenizer.json"}, KindTransformers, "transformers"},
		{[]string{"config.json", "pytorch_model-00001-of-00002.bin"}, KindTransformers, "transformers"},
		{[]string{"config.json", "training_args.bin"}, "", ""},
		{[]string{"weights.pt"}, "", ""}, // not a TorchScript archive (no such file even)
		{[]string{"README.md"}, "", ""},
	} {
		if k, fw := Detect(t.TempDir(), c.files); k != c.kind || fw != c.fw {
			t.Errorf("Detect(%v) = %q, %q; want %q, %q", c.files, k, fw, c.kind, c.fw)
		}
	}
}

func TestHFConfig(t *testing.T) {
	dir := t.TempDir()
	for body, want := range map[string]int64{`{"eos_token_id": 2}`: 2, `{"eos_token_id": [7, 8]}`: 7, `{"eos_token_id": null}`: -1, `{}`: -1} {
		if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := ReadHFConfig(dir)
		if err != nil || c.EOS() != want {
			t.Errorf("%s: eos %d, %v; want %d", body, c.EOS(), err, want)
		}
	}
	c := &HFConfig{ID2Label: map[string]string{"1": "pos", "0": "neg"}}
	if l, err := c.Labels(); err != nil || !slices.Equal(l, []string{"neg", "pos"}) {
		t.Errorf("labels %v, %v", l, err)
	}
	if c, err := ReadHFConfig(t.TempDir()); err != nil || c.EOS() != -1 || len(c.Architectures) != 0 {
		t.Errorf("no config.json: %+v, %v", c, err)
	}
}

func TestHeadsAndFiles(t *testing.T) {
	if h := HeadForTask("sentiment-analysis"); h.AutoClass != "AutoModelForSequenceClassification" || h.OptimumTask != TaskTextClassification {
		t.Errorf("sentiment-analysis: %+v", h)
	}
	if h := HeadForTask(TaskTextGeneration); h.AutoClass != "AutoModel" || h.OptimumTask != TaskFeatureExtraction {
		t.Errorf("a task without a head exports the bare model: %+v", h)
	}
	if !IsTokenizerFile("Vocab.txt") || !IsTokenizerFile("chat_template.jinja") || IsTokenizerFile("config.json") {
		t.Error("IsTokenizerFile")
	}
	if !IsManifestMediaType(MediaTypeDockerManifestList) || IsManifestMediaType(MediaTypeDockerImageConfig) {
		t.Error("IsManifestMediaType")
	}
}

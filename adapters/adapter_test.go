package adapters_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/mlos-foundation/axon/adapters"
	"github.com/mlos-foundation/axon/adapters/download"
)

func TestParseRef(t *testing.T) {
	good := map[string]adapters.Ref{
		"hf/bert-base-uncased@latest":             {Hub: "hf", ID: "bert-base-uncased", Version: "latest"},
		"hf/google-bert/bert-base-uncased":        {Hub: "hf", ID: "google-bert/bert-base-uncased"},
		"hf/org/name@refs/pr/1":                   {Hub: "hf", ID: "org/name", Version: "refs/pr/1"},
		"pytorch/pytorch/vision/resnet50@v0.16.0": {Hub: "pytorch", ID: "pytorch/vision/resnet50", Version: "v0.16.0"},
		"tfhub/google/mobilenet/5":                {Hub: "tfhub", ID: "google/mobilenet", Version: "5"},
		"tfhub/google/mobilenet@latest":           {Hub: "tfhub", ID: "google/mobilenet", Version: "latest"},
		"modelscope/damo/bert@master":             {Hub: "modelscope", ID: "damo/bert", Version: "master"},
		"./models/bert":                           {Hub: "local", ID: "models/bert"},
		"file:///srv/models/bert":                 {Hub: "local", ID: "/srv/models/bert"},
	}
	for s, want := range good {
		got, err := adapters.ParseRef(s)
		got.Raw = ""
		if err != nil || got != want {
			t.Errorf("ParseRef(%q) = %+v, %v; want %+v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "bert", "npm/left-pad", "hf/a/b/c", "hf/../x", "pytorch/vision/resnet50",
		"tfhub/google", "tfhub/google/m/5@6", "tfhub/google/m@x", "modelscope/bert", "hf/a@b@c", "file://host/x", "hf/a b"} {
		if _, err := adapters.ParseRef(s); !errors.Is(err, adapters.ErrBadRef) {
			t.Errorf("ParseRef(%q) = %v, want invalid", s, err)
		}
	}
	// A malformed id says how the hub's references are written.
	if _, err := adapters.ParseRef("hf/"); err == nil || !strings.Contains(err.Error(), "expected hf/ORG/NAME@REV") {
		t.Errorf("ParseRef(hf/) = %v", err)
	}
}

func TestSelect(t *testing.T) {
	repo := []string{".gitattributes", "README.md", "config.json", "tokenizer.json", "vocab.txt",
		"pytorch_model.bin", "model.safetensors", "tf_model.h5", "flax_model.msgpack", "rust_model.ot",
		"onnx/model.onnx", "onnx/model_quantized.onnx", "onnx/model_fp16.onnx", "coreml/model.mlpackage/x",
		"openvino/openvino_model.bin"}
	got := adapters.Select(repo, nil, nil)
	want := []string{"README.md", "config.json", "onnx/model.onnx", "tokenizer.json", "vocab.txt"}
	if !slices.Equal(got, want) {
		t.Errorf("with ONNX: %v, want %v", got, want)
	}
	noONNX := slices.DeleteFunc(slices.Clone(repo), func(s string) bool { return s[:4] == "onnx" })
	got = adapters.Select(noONNX, nil, nil)
	want = []string{"README.md", "config.json", "model.safetensors", "tokenizer.json", "vocab.txt"}
	if !slices.Equal(got, want) {
		t.Errorf("without ONNX: %v, want %v", got, want)
	}
	got = adapters.Select(repo, []string{"onnx/*quantized*"}, []string{"*.md", "vocab.txt"})
	want = []string{"config.json", "onnx/model.onnx", "onnx/model_quantized.onnx", "tokenizer.json"}
	if !slices.Equal(got, want) {
		t.Errorf("include/exclude: %v, want %v", got, want)
	}
	if !adapters.Glob("**/*.bin", "a/b/c.bin") || !adapters.Glob("**/*.bin", "c.bin") || adapters.Glob("*.bin", "a/b.json") {
		t.Error("glob")
	}
}

func TestSafeJoin(t *testing.T) {
	for _, bad := range []string{"", "/etc/passwd", "../x", "a/../../x", "a//b", "a\\..\\x", "C:x", "./a", "a/./b"} {
		if _, err := download.SafeJoin("/tmp/d", bad); !errors.Is(err, adapters.ErrUnsafe) {
			t.Errorf("SafeJoin(%q) = %v, want refused", bad, err)
		}
	}
	if p, err := download.SafeJoin("/tmp/d", "onnx/model.onnx"); err != nil || p != "/tmp/d/onnx/model.onnx" {
		t.Errorf("SafeJoin = %s, %v", p, err)
	}
}

func TestEnvURL(t *testing.T) {
	t.Setenv("AXON_TEST_HUB", "")
	if got := adapters.EnvURL("AXON_TEST_HUB", "https://hub.example"); got != "https://hub.example" {
		t.Errorf("unset: %q", got)
	}
	t.Setenv("AXON_TEST_HUB", " http://127.0.0.1:8080/ ")
	if got := adapters.EnvURL("AXON_TEST_HUB", "https://hub.example"); got != "http://127.0.0.1:8080" {
		t.Errorf("set: %q", got)
	}
}

func TestParseRefHubSpellings(t *testing.T) {
	for in, want := range map[string]string{
		"hf://Qwen/Qwen3-0.6B":           "hf/Qwen/Qwen3-0.6B@latest",
		"hf.co/Qwen/Qwen3-0.6B@abc":      "hf/Qwen/Qwen3-0.6B@abc",
		"ms://qwen/Qwen3-0.6B":           "modelscope/qwen/Qwen3-0.6B@latest",
		"modelscope://qwen/Qwen3@v1.0":   "modelscope/qwen/Qwen3@v1.0",
		"huggingface.co/bert-base-cased": "hf/bert-base-cased@latest",
	} {
		r, err := adapters.ParseRef(in)
		if err != nil || r.String() != want || r.Raw != in {
			t.Errorf("%s: %v %v, want %s", in, r, err, want)
		}
	}
	if _, err := adapters.ParseRef("hf://a/b/c"); err == nil {
		t.Error("hf://a/b/c parsed")
	}
}

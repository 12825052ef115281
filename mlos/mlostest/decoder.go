package mlostest

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/json"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/mlos-foundation/axon/mlos/tokenizer"
)

// DecoderPrompts are the prompts the decoder fixture's references are for.
var DecoderPrompts = []string{"Hello world", "The quick brown fox jumps over"}

// DecoderReference is reference.json written by testdata/make_decoder.py:
// for each prompt, the greedy tokens of torch recomputing the whole
// sequence without a cache (MHA, GQA weights), and of a torch loop keeping
// a float16 cache (FP16).
type DecoderReference struct {
	Prompts      [][]int64 `json:"prompts"`
	MaxNewTokens int       `json:"max_new_tokens"`
	EOS          int64     `json:"eos"`
	MHA          [][]int64 `json:"mha"`
	GQA          [][]int64 `json:"gqa"`
	FP16         [][]int64 `json:"fp16"`
}

// DecoderTokenizer is the real byte-fallback BPE tokenizer.json (Llama 2
// pipeline) from mlos/tokenizer/testdata that the decoder fixture uses.
func DecoderTokenizer(t testing.TB) []byte {
	t.Helper()
	return TokenizerJSON(t, "llama-bpe-bytefallback")
}

// TokenizerJSON is mlos/tokenizer/testdata/NAME.json.gz uncompressed: one of
// the real tokenizer.json files the tokenizer package is tested against.
func TokenizerJSON(t testing.TB, name string) []byte {
	t.Helper()
	_, self, _, _ := runtime.Caller(0)
	f, err := os.Open(filepath.Join(filepath.Dir(self), "..", "tokenizer", "testdata", name+".json.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// DecoderFixture runs mlos/testdata/make_decoder.py with Debian's
// python3-torch (cached per script version and prompts) and returns the
// directory holding nocache.onnx, cache.onnx, fp16.onnx, gqa.onnx,
// merged.onnx, config.json, tokenizer.json and reference.json.
func DecoderFixture(t testing.TB) (string, *DecoderReference) {
	t.Helper()
	return decoderFixture(t, "")
}

// BenchDecoderFixture is the benchmarks' larger decoder (bench.onnx: 4
// layers, hidden 256, GQA 8/4 heads, 512 positions) with config.json and
// tokenizer.json.
func BenchDecoderFixture(t testing.TB) string {
	t.Helper()
	dir, _ := decoderFixture(t, "bench")
	return dir
}

func decoderFixture(t testing.TB, mode string) (string, *DecoderReference) {
	_, self, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(self), "..", "testdata", "make_decoder.py")
	src, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	tokJSON := DecoderTokenizer(t)
	tmpTok := filepath.Join(t.TempDir(), "tokenizer.json")
	if err := os.WriteFile(tmpTok, tokJSON, 0o644); err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.FromFile(tmpTok)
	if err != nil {
		t.Fatal(err)
	}
	var prompts [][]int64
	for _, p := range DecoderPrompts {
		prompts = append(prompts, tok.Encode(p, true).IDs)
	}
	pj, _ := json.Marshal(prompts)
	sum := sha256.Sum256(append(append(append(src, pj...), tokJSON...), mode...))
	return cachedFixture[DecoderReference](t, "decoder"+mode, sum[:], func(py, tmp string) {
		promptsPath := filepath.Join(tmp, "prompts.json")
		if err := os.WriteFile(promptsPath, pj, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(tmp, "tokenizer.json"), tokJSON, 0o644); err != nil {
			t.Fatal(err)
		}
		args := []string{script, tmp, promptsPath}
		if mode != "" {
			args = append(args, mode)
		}
		out, err := exec.Command(py, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("make_decoder.py: %v\n%s", err, out)
		}
	})
}

// DecoderPackage builds test/NAME from the fixture's VARIANT.onnx
// (nocache, cache, fp16, gqa, merged) with its tokenizer.json and
// config.json; extra files are added (or replace) as given.
func DecoderPackage(t testing.TB, dir, variant, name string, extra map[string][]byte) Package {
	t.Helper()
	files := textFiles(t, dir)
	maps.Copy(files, extra)
	return Package{Namespace: "test", Name: name, Version: "1", Task: "text-generation", Model: readFixture(t, dir, variant+".onnx"), Files: files}
}

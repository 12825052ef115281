package converter

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mlos-foundation/axon/adapters/hubtest"
	"github.com/mlos-foundation/axon/internal/testutil"
)

func safetensorsDir(t *testing.T, arch string) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range hubtest.SafetensorsRepo("test/"+arch, arch).Files {
		if err := os.WriteFile(filepath.Join(dir, f.Path), f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestNativeBackend: auto picks the native converter for a safetensors
// checkpoint it handles, and the result says so: backend, converter and its
// version in the format, the head's task and labels, and how it was validated.
func TestNativeBackend(t *testing.T) {
	dir := safetensorsDir(t, "bert:seq")
	out := t.TempDir()
	res, err := Convert(context.Background(), Input{Dir: dir}, out, Options{Python: filepath.Join(t.TempDir(), "no-python")})
	if err != nil {
		t.Fatal(err)
	}
	if res.Backend != BackendNative || res.Format.Converter != BackendNative || res.Format.ConverterVersion == "" || res.Format.Opset < 17 {
		t.Fatalf("result %+v", res)
	}
	if res.Task != "text-classification" || strings.Join(res.Labels, ",") != "NEGATIVE,POSITIVE" {
		t.Fatalf("task %q labels %v", res.Task, res.Labels)
	}
	if v := res.Validation; v == nil || v.Method != MethodConverterTests || !v.Passed || !strings.Contains(v.Reference, "native converter tests") {
		t.Fatalf("validation %+v", res.Validation)
	}
	// --validate insists on transformers, which is not there.
	if _, err := Convert(context.Background(), Input{Dir: dir}, t.TempDir(), Options{Python: filepath.Join(t.TempDir(), "no-python"), Validate: true}); !errors.Is(err, ErrFrameworkMissing) || !strings.Contains(err.Error(), "--validate") {
		t.Fatalf("--validate without transformers: %v", err)
	}
	if !slices.Contains(res.Files, "model.onnx") || !slices.Contains(res.Files, "original/model.safetensors") {
		t.Fatalf("files %v", res.Files)
	}
	if len(res.Info.Inputs) != 3 || res.Info.Outputs[0].Name != "logits" {
		t.Fatalf("I/O %+v -> %+v", res.Info.Inputs, res.Info.Outputs)
	}

	// --dtype fp16 halves the weights; a bad --dtype is refused.
	half := t.TempDir()
	if _, err := Convert(context.Background(), Input{Dir: dir}, half, Options{Backend: BackendNative, DType: "fp16", SkipValidation: true, NoOriginals: true}); err != nil {
		t.Fatal(err)
	}
	a, _ := os.Stat(filepath.Join(out, "model.onnx"))
	b, _ := os.Stat(filepath.Join(half, "model.onnx"))
	if b.Size()*10 > a.Size()*7 {
		t.Fatalf("fp16 model %d bytes, fp32 %d", b.Size(), a.Size())
	}
	if _, err := Convert(context.Background(), Input{Dir: dir}, t.TempDir(), Options{Backend: BackendNative, DType: "int3"}); err == nil || !strings.Contains(err.Error(), "--dtype") {
		t.Fatalf("bad dtype: %v", err)
	}
}

// TestNativeRefuses: --converter native on what it does not handle names it
// and the fallbacks; auto leaves such a model to the Python and Docker backends.
func TestNativeRefuses(t *testing.T) {
	dir := safetensorsDir(t, "llama")
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"model_type":"t5","architectures":["T5ForConditionalGeneration"]}`), 0o644)
	_, err := Convert(context.Background(), Input{Dir: dir}, t.TempDir(), Options{Backend: BackendNative})
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), `"t5"`) || !strings.Contains(err.Error(), "--converter local") || !strings.Contains(err.Error(), "--converter docker") {
		t.Fatalf("err = %v", err)
	}
	in := Input{Dir: dir, Kind: KindTransformers}
	if c, err := selectNative(in, Options{Backend: BackendAuto}.withDefaults()); c != nil || err != nil {
		t.Fatalf("auto took %v, %v for an unsupported model", c, err)
	}
	bin := t.TempDir()
	os.WriteFile(filepath.Join(bin, "config.json"), []byte(`{"model_type":"bert","hidden_size":8,"num_hidden_layers":1,"num_attention_heads":2}`), 0o644)
	os.WriteFile(filepath.Join(bin, "pytorch_model.bin"), []byte("PK"), 0o644)
	_, err = Convert(context.Background(), Input{Dir: bin}, t.TempDir(), Options{Backend: BackendNative})
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "safetensors") {
		t.Fatalf("pytorch_model.bin: %v", err)
	}
}

// TestNativeTransformersCheck: with a python3 that imports transformers, the
// conversion is compared with the transformers model's outputs, and a mismatch
// fails the conversion. The stand-in transformers here answers zeros, so the
// real graph must be caught differing from it.
func TestNativeTransformersCheck(t *testing.T) {
	py := testutil.FindPython("numpy", "torch")
	if py == "" {
		testutil.Missing(t, "a python3 that imports torch (Debian python3-torch)")
	}
	fake := filepath.Join(t.TempDir(), "transformers")
	os.MkdirAll(fake, 0o755)
	os.WriteFile(filepath.Join(fake, "__init__.py"), []byte(`
import torch
__version__ = "0.0-stand-in"
class _Out: pass
class _M(torch.nn.Module):
    class config: vocab_size = 51
    def forward(self, input_ids=None, **kw):
        o = _Out(); o.logits = torch.zeros(input_ids.shape[0], 2); return o
class AutoModel:
    @staticmethod
    def from_pretrained(d, torch_dtype=None): return _M()
AutoModelForSequenceClassification = AutoModelForTokenClassification = AutoModelForCausalLM = AutoModel
`), 0o644)
	t.Setenv("PYTHONPATH", filepath.Dir(fake))
	_, err := Convert(context.Background(), Input{Dir: safetensorsDir(t, "bert:seq")}, t.TempDir(), Options{Backend: BackendNative, Python: py})
	if !errors.Is(err, ErrValidation) || !strings.Contains(err.Error(), "transformers 0.0-stand-in") {
		t.Fatalf("err = %v", err)
	}
}

// TestAutoSaysWhyNotNative: when auto finds no backend for a checkpoint the
// native converter refused, the error says why native was not an option.
func TestAutoSaysWhyNotNative(t *testing.T) {
	dir := safetensorsDir(t, "llama")
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"model_type":"llama","hidden_size":32,"num_hidden_layers":1,"num_attention_heads":4,"rope_scaling":{"rope_type":"yarn","factor":4}}`), 0o644)
	c, err := New(context.Background(), Input{Dir: dir, Kind: KindTransformers}, Options{Docker: filepath.Join(t.TempDir(), "no-docker")})
	if FindPython(context.Background(), modulesFor(KindTransformers)...) != "" {
		if _, ok := c.(*Python); !ok || err != nil {
			t.Fatalf("with transformers here auto chose %T, %v", c, err)
		}
		return
	}
	if !errors.Is(err, ErrNoBackend) || !strings.Contains(err.Error(), `native converter was not an option: rope_scaling type "yarn"`) {
		t.Fatalf("err = %v", err)
	}
}

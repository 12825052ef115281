package native

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	ortgo "github.com/yalue/onnxruntime_go"

	"github.com/mlos-foundation/axon/internal/onnx"
	"github.com/mlos-foundation/axon/internal/ort"
	"github.com/mlos-foundation/axon/internal/safetensors"
	"github.com/mlos-foundation/axon/internal/testutil"
)

type refTensor struct {
	Shape []int64   `json:"shape"`
	Data  []float64 `json:"data"`
}

type reference struct {
	Inputs  map[string]refTensor `json:"inputs"`
	Outputs map[string]refTensor `json:"outputs"`
	Greedy  []int64              `json:"greedy"`
}

var (
	genOnce sync.Once
	genDir  string
	genErr  error
)

// cases generates the tiny checkpoints and torch references once per test binary.
func cases(t *testing.T) string {
	t.Helper()
	py := testutil.FindPython("torch", "numpy")
	if py == "" {
		testutil.Missing(t, "a python3 that imports torch (Debian python3-torch)")
	}
	testutil.ORTLibrary(t)
	genOnce.Do(func() {
		genDir, genErr = os.MkdirTemp("", "axon-native-*")
		if genErr != nil {
			return
		}
		out, err := exec.Command(py, "testdata/gen.py", genDir).CombinedOutput()
		if err != nil {
			genErr = errors.New(string(out))
		}
	})
	if genErr != nil {
		t.Fatalf("gen.py: %v", genErr)
	}
	if err := ort.Init(testutil.ORTLibrary(t)); err != nil {
		t.Fatal(err)
	}
	return genDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if genDir != "" {
		os.RemoveAll(genDir)
	}
	os.Exit(code)
}

func loadRef(t *testing.T, dir string) *reference {
	b, err := os.ReadFile(filepath.Join(dir, "ref.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r reference
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

func session(t *testing.T, model string) (*ortgo.DynamicAdvancedSession, *onnx.Info) {
	info, err := onnx.Inspect(model)
	if err != nil {
		t.Fatal(err)
	}
	var ins, outs []string
	for _, x := range info.Inputs {
		ins = append(ins, x.Name)
	}
	for _, x := range info.Outputs {
		outs = append(outs, x.Name)
	}
	opts, _ := ortgo.NewSessionOptions()
	defer opts.Destroy()
	_ = opts.SetIntraOpNumThreads(1)
	s, err := ortgo.NewDynamicAdvancedSession(model, ins, outs, opts)
	if err != nil {
		t.Fatalf("ORT cannot load %s: %v", model, err)
	}
	t.Cleanup(func() { s.Destroy() })
	return s, info
}

func i64Tensor(t *testing.T, shape []int64, data []int64) ortgo.Value {
	v, err := ortgo.NewTensor(ortgo.NewShape(shape...), data)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func floats(v ortgo.Value) []float32 { return v.(*ortgo.Tensor[float32]).GetData() }

func maxDiff(got []float32, want []float64) float64 {
	if len(got) != len(want) {
		return math.Inf(1)
	}
	d := 0.0
	for i := range got {
		d = max(d, math.Abs(float64(got[i])-want[i]))
	}
	return d
}

func convert(t *testing.T, dir string, o Options) (string, *Result) {
	out := t.TempDir()
	res, err := Convert(context.Background(), dir, out, o)
	if err != nil {
		t.Fatalf("convert: %v", err)
	}
	return filepath.Join(out, "model.onnx"), res
}

// TestEncodersMatchTorch: every encoder architecture and head, against the
// torch forward on a padded batch of two.
func TestEncodersMatchTorch(t *testing.T) {
	root := cases(t)
	for _, c := range []struct{ name, head string }{
		{"bert", HeadBase}, {"bert-seqcls", HeadSequence}, {"roberta-tokcls", HeadToken},
		{"xlm-roberta-seqcls", HeadSequence}, {"distilbert-seqcls", HeadSequence}, {"distilbert", HeadBase},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(root, c.name)
			ref := loadRef(t, dir)
			model, res := convert(t, dir, Options{})
			if res.Head != c.head {
				t.Fatalf("head %s, want %s", res.Head, c.head)
			}
			if c.head != HeadBase && len(res.Labels) != 3 {
				t.Fatalf("labels %v", res.Labels)
			}
			s, info := session(t, model)
			var ins []ortgo.Value
			for _, x := range info.Inputs {
				r, ok := ref.Inputs[x.Name]
				if !ok {
					t.Fatalf("no reference for input %s", x.Name)
				}
				ids := make([]int64, len(r.Data))
				for i, v := range r.Data {
					ids[i] = int64(v)
				}
				ins = append(ins, i64Tensor(t, r.Shape, ids))
			}
			outs := make([]ortgo.Value, len(info.Outputs))
			if err := s.Run(ins, outs); err != nil {
				t.Fatal(err)
			}
			want := ref.Outputs[info.Outputs[0].Name]
			if d := maxDiff(floats(outs[0]), want.Data); d > 1e-4 {
				t.Fatalf("%s: max abs diff %g > 1e-4", info.Outputs[0].Name, d)
			}
		})
	}
}

// runDecoder runs one step: ids with the given past (nil = empty) at
// positions past..past+len(ids); it returns the last position's logits and the
// present key/values.
func runDecoder(t *testing.T, s *ortgo.DynamicAdvancedSession, info *onnx.Info, ids []int64, past []ortgo.Value, pastLen int64, kvh, hd int64) ([]float32, []float32, []ortgo.Value) {
	n := int64(len(ids))
	total := pastLen + n
	mask := make([]int64, total)
	pos := make([]int64, n)
	for i := range mask {
		mask[i] = 1
	}
	for i := range pos {
		pos[i] = pastLen + int64(i)
	}
	ins := []ortgo.Value{i64Tensor(t, []int64{1, n}, ids), i64Tensor(t, []int64{1, total}, mask), i64Tensor(t, []int64{1, n}, pos)}
	layers := (len(info.Inputs) - 3) / 2
	for i := 0; i < 2*layers; i++ {
		if past == nil {
			v, err := ortgo.NewTensor(ortgo.NewShape(1, kvh, 0, hd), []float32{})
			if err != nil {
				t.Fatal(err)
			}
			ins = append(ins, v)
		} else {
			ins = append(ins, past[i])
		}
	}
	outs := make([]ortgo.Value, len(info.Outputs))
	if err := s.Run(ins, outs); err != nil {
		t.Fatal(err)
	}
	for _, v := range ins[:3] {
		v.Destroy()
	}
	all := floats(outs[0])
	vocab := int64(len(all)) / n
	return append([]float32(nil), all[(n-1)*vocab:]...), all, outs[1:]
}

func argmax(x []float32) int64 {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return int64(best)
}

// TestDecodersMatchTorch: every decoder architecture: logits of the prompt
// within 1e-4 of torch, then 30 greedy tokens decoded with the KV cache equal
// to torch recomputing the whole sequence each step.
func TestDecodersMatchTorch(t *testing.T) {
	root := cases(t)
	for _, name := range []string{"llama", "llama3", "mistral", "qwen2", "qwen3", "gpt2", "mistral-window", "qwen2-window", "layer-types"} {
		t.Run(name, func(t *testing.T) { checkDecoder(t, filepath.Join(root, name), Options{}) })
	}
}

// TestSlidingWindowMatters: the window cases above would pass with the window
// ignored if it changed nothing; without it the same weights must give other
// logits, so the graph's window is what made them match torch.
func TestSlidingWindowMatters(t *testing.T) {
	root := cases(t)
	for _, name := range []string{"mistral-window", "qwen2-window", "layer-types"} {
		t.Run(name, func(t *testing.T) {
			src := filepath.Join(root, name)
			ref := loadRef(t, src)
			b, err := os.ReadFile(filepath.Join(src, "config.json"))
			if err != nil {
				t.Fatal(err)
			}
			var c map[string]any
			json.Unmarshal(b, &c)
			delete(c, "sliding_window")
			dir := t.TempDir()
			b, _ = json.Marshal(c)
			os.WriteFile(filepath.Join(dir, "config.json"), b, 0o644)
			ents, _ := os.ReadDir(src)
			for _, e := range ents {
				if strings.HasPrefix(e.Name(), "model") {
					st, _ := os.ReadFile(filepath.Join(src, e.Name()))
					os.WriteFile(filepath.Join(dir, e.Name()), st, 0o644)
				}
			}
			cfg, err := LoadConfig(dir)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Sliding(cfg.Layers-1) != 0 {
				t.Fatalf("the copy still slides")
			}
			model, _ := convert(t, dir, Options{})
			s, info := session(t, model)
			var prompt []int64
			for _, v := range ref.Inputs["input_ids"].Data {
				prompt = append(prompt, int64(v))
			}
			_, all, present := runDecoder(t, s, info, prompt, nil, 0, int64(cfg.KVHeads), int64(cfg.HeadDim))
			for _, v := range present {
				v.Destroy()
			}
			if d := maxDiff(all, ref.Outputs["logits"].Data); d < 1e-3 {
				t.Fatalf("full attention gives the windowed logits too (max abs diff %g): the case does not test the window", d)
			}
		})
	}
}

// TestFP16AndExternalData: F16 weights kept in half precision lose nothing
// (qwen2's checkpoint is F16), and a tiny threshold moves the weights to
// model.onnx.data, which ONNX Runtime loads beside the model.
func TestFP16AndExternalData(t *testing.T) {
	root := cases(t)
	t.Run("fp16", func(t *testing.T) {
		res := checkDecoder(t, filepath.Join(root, "qwen2"), Options{FP16: true})
		full := checkDecoder(t, filepath.Join(root, "qwen2"), Options{})
		if res.WeightBytes*2 != full.WeightBytes {
			t.Fatalf("fp16 weights %d bytes, fp32 %d", res.WeightBytes, full.WeightBytes)
		}
	})
	t.Run("external", func(t *testing.T) {
		res := checkDecoder(t, filepath.Join(root, "mistral"), Options{ExternalThreshold: 1024})
		if len(res.External) != 1 || res.External[0] != "model.onnx.data" {
			t.Fatalf("external %v", res.External)
		}
	})
}

func checkDecoder(t *testing.T, dir string, o Options) *Result {
	t.Helper()
	ref := loadRef(t, dir)
	cfg, err := LoadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	model, res := convert(t, dir, o)
	if res.Head != HeadCausalLM || res.Task != "text-generation" {
		t.Fatalf("result %+v", res)
	}
	s, info := session(t, model)
	if info.Inputs[3].Name != "past_key_values.0.key" || info.Outputs[1].Name != "present.0.key" {
		t.Fatalf("I/O names %v -> %v", info.Inputs, info.Outputs)
	}
	var prompt []int64
	for _, v := range ref.Inputs["input_ids"].Data {
		prompt = append(prompt, int64(v))
	}
	kvh, hd := int64(cfg.KVHeads), int64(cfg.HeadDim)
	last, all, present := runDecoder(t, s, info, prompt, nil, 0, kvh, hd)
	if d := maxDiff(all, ref.Outputs["logits"].Data); d > 1e-4 {
		t.Fatalf("prompt logits: max abs diff %g > 1e-4", d)
	}
	var got []int64
	pastLen := int64(len(prompt))
	for step := 0; step < len(ref.Greedy); step++ {
		next := argmax(last)
		got = append(got, next)
		if next != ref.Greedy[step] {
			t.Fatalf("greedy step %d: token %d, torch %d (so far %v)", step, next, ref.Greedy[step], got)
		}
		var nextPresent []ortgo.Value
		last, _, nextPresent = runDecoder(t, s, info, []int64{next}, present, pastLen, kvh, hd)
		for _, v := range present {
			v.Destroy()
		}
		present = nextPresent
		pastLen++
	}
	for _, v := range present {
		v.Destroy()
	}
	if len(got) != 30 {
		t.Fatalf("decoded %d tokens", len(got))
	}
	return res
}

// TestUnsupported: what the graphs cannot express is refused in one line that
// names it and the fallbacks, before anything is written.
func TestUnsupported(t *testing.T) {
	root := cases(t)
	base, err := os.ReadFile(filepath.Join(root, "llama", "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	json.Unmarshal(base, &cfg)
	for name, edit := range map[string]func(map[string]any){
		"model_type":   func(c map[string]any) { c["model_type"] = "t5" },
		"rope_scaling": func(c map[string]any) { c["rope_scaling"] = map[string]any{"rope_type": "yarn", "factor": 4.0} },
		"quantized":    func(c map[string]any) { c["quantization_config"] = map[string]any{"quant_method": "gptq"} },
		"activation":   func(c map[string]any) { c["hidden_act"] = "mish" },
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			c := map[string]any{}
			for k, v := range cfg {
				c[k] = v
			}
			edit(c)
			b, _ := json.Marshal(c)
			os.WriteFile(filepath.Join(dir, "config.json"), b, 0o644)
			st, _ := os.ReadFile(filepath.Join(root, "llama", "model.safetensors"))
			os.WriteFile(filepath.Join(dir, "model.safetensors"), st, 0o644)
			out := t.TempDir()
			_, err := Convert(context.Background(), dir, out, Options{})
			if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "--converter local") || !strings.Contains(err.Error(), "--converter docker") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v", err)
			}
			if ents, _ := os.ReadDir(out); len(ents) != 0 {
				t.Fatalf("left %v behind", ents)
			}
		})
	}
	t.Run("int8 weights", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "config.json"), base, 0o644)
		f, _ := os.Create(filepath.Join(dir, "model.safetensors"))
		safetensors.Write(f, []safetensors.WriteTensor{{Name: "model.embed_tokens.weight", DType: "I8", Shape: []int64{2}, Data: []byte{1, 2}}}, nil)
		f.Close()
		_, err := Convert(context.Background(), dir, t.TempDir(), Options{})
		if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "I8") {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestLegacyLayerNormNames: checkpoints that name LayerNorm parameters gamma
// and beta (converted from TensorFlow BERT) convert to the same graph.
func TestLegacyLayerNormNames(t *testing.T) {
	root := cases(t)
	renamed := 0
	dir := rewrite(t, filepath.Join(root, "bert-seqcls"), func(n string) string {
		if b, ok := strings.CutSuffix(n, "LayerNorm.weight"); ok {
			renamed++
			return b + "LayerNorm.gamma"
		} else if b, ok := strings.CutSuffix(n, "LayerNorm.bias"); ok {
			return b + "LayerNorm.beta"
		}
		return n
	}, nil)
	if renamed == 0 {
		t.Fatal("nothing renamed")
	}
	model, _ := convert(t, dir, Options{})
	s, info := session(t, model)
	ref := loadRef(t, dir)
	var ins []ortgo.Value
	for _, x := range info.Inputs {
		r := ref.Inputs[x.Name]
		ids := make([]int64, len(r.Data))
		for i, v := range r.Data {
			ids[i] = int64(v)
		}
		ins = append(ins, i64Tensor(t, r.Shape, ids))
	}
	outs := make([]ortgo.Value, 1)
	if err := s.Run(ins, outs); err != nil {
		t.Fatal(err)
	}
	if d := maxDiff(floats(outs[0]), ref.Outputs["logits"].Data); d > 1e-4 {
		t.Fatalf("max abs diff %g", d)
	}
}

// TestCancelled: a cancelled context stops the conversion and leaves nothing.
func TestCancelled(t *testing.T) {
	root := cases(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out := t.TempDir()
	if _, err := Convert(ctx, filepath.Join(root, "llama"), out, Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if ents, _ := os.ReadDir(out); len(ents) != 0 {
		t.Fatalf("left %v", ents)
	}
}

// rewrite copies the checkpoint in src with its tensors renamed and extra ones added.
func rewrite(t *testing.T, src string, rename func(string) string, extra []safetensors.WriteTensor) string {
	t.Helper()
	m, err := safetensors.OpenModel(src)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ts := extra
	for _, n := range m.Names() {
		tt := m.Tensor(n)
		data := make([]byte, tt.Size())
		if _, err := io.ReadFull(tt.Reader(), data); err != nil {
			t.Fatal(err)
		}
		ts = append(ts, safetensors.WriteTensor{Name: rename(n), DType: tt.DType, Shape: tt.Shape, Data: data})
	}
	dir := t.TempDir()
	for _, f := range []string{"config.json", "ref.json"} {
		b, _ := os.ReadFile(filepath.Join(src, f))
		os.WriteFile(filepath.Join(dir, f), b, 0o644)
	}
	f, _ := os.Create(filepath.Join(dir, "model.safetensors"))
	defer f.Close()
	if err := safetensors.Write(f, ts, nil); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestGPT2ModelLayout: the openai-community/gpt2 checkpoint is a GPT2Model
// state dict (h.0.attn..., no "transformer." prefix) with the causal-mask
// buffers attn.bias / attn.masked_bias saved beside the weights.
func TestGPT2ModelLayout(t *testing.T) {
	root := cases(t)
	mask := make([]byte, 64*64)
	extra := []safetensors.WriteTensor{
		{Name: "h.0.attn.bias", DType: "BOOL", Shape: []int64{1, 1, 64, 64}, Data: mask},
		{Name: "h.0.attn.masked_bias", DType: "F32", Shape: []int64{}, Data: safetensors.Float32Bytes([]float32{-1e4})},
	}
	dir := rewrite(t, filepath.Join(root, "gpt2"), func(n string) string { return strings.TrimPrefix(n, "transformer.") }, extra)
	checkDecoder(t, dir, Options{})
}

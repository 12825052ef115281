package mlos

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/mlos-foundation/axon/schemas"
)

// Tasks with a pipeline of their own (schemas names them all); any other task
// answers the raw output tensors (TensorPipeline).
const (
	TaskTextClassification = schemas.TaskTextClassification
	TaskFeatureExtraction  = schemas.TaskFeatureExtraction
	TaskTextGeneration     = schemas.TaskTextGeneration
)

// Encoding is a tokenized text.
type Encoding struct {
	IDs, TypeIDs, Mask []int64
}

// TextTokenizer turns text into token ids and back.
type TextTokenizer interface {
	Encode(text string) (Encoding, error)
	Decode(ids []int64) string
}

// textEncoder is the part every text pipeline shares: text → tokenizer →
// the model's input tensors. It only prepares tensors; sessions stay in the
// backend, and what the outputs mean is each task pipeline's business.
type textEncoder struct {
	tok      TextTokenizer
	task     string
	labels   []string
	ids      int // input indexes, -1 when the model lacks them
	mask     int
	types    int
	position int
	seqLen   int64 // fixed sequence length of the model, 0 when dynamic
	maxLen   int
	eos      int64
	specs    []TensorSpec
	// closes: the tokenizer ends every encoding with a special token
	// ([SEP], </s>) that truncation keeps.
	closes bool
}

// newTextEncoder returns nil when the package has no tokenizer. The task and
// labels are the manifest's, else config.json's (read as describe.go does).
func newTextEncoder(pkg *Package, ins []TensorSpec) (*textEncoder, error) {
	path := tokenizerPath(pkg)
	if path == "" {
		return nil, nil
	}
	tok, err := loadTokenizer(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer %s: %w", filepath.Base(path), err)
	}
	p := &textEncoder{tok: tok, ids: -1, mask: -1, types: -1, position: -1, eos: -1, specs: ins, closes: closesEncodings(tok)}
	if pkg.Manifest != nil {
		p.task = pkg.Manifest.Task
		p.labels = pkg.Manifest.Labels
		if t := pkg.Manifest.Preprocessing; t != nil && t.Tokenizer != nil {
			p.maxLen = t.Tokenizer.MaxLength
		}
	}
	cfg, err := schemas.ReadHFConfig(pkg.Dir)
	if err != nil {
		cfg = &schemas.HFConfig{} // a broken config.json only loses the guesses
	}
	if p.task == "" {
		p.task = schemas.TaskFromArchitectures(cfg.Architectures)
	}
	if len(p.labels) == 0 {
		p.labels, _ = cfg.Labels()
	}
	p.eos = cfg.EOS()
	// Longer inputs would index past the position embeddings.
	if p.maxLen == 0 && cfg.MaxPosition > 0 && p.task != TaskTextGeneration {
		p.maxLen = cfg.MaxPosition
	}
	for i, s := range ins {
		switch s.Name {
		case "input_ids":
			p.ids = i
		case "attention_mask":
			p.mask = i
		case "token_type_ids":
			p.types = i
		case "position_ids":
			p.position = i
		}
	}
	if p.ids < 0 {
		for i, s := range ins {
			if (s.DType == Int64 || s.DType == Int32) && i != p.mask && i != p.types && i != p.position {
				p.ids = i
				break
			}
		}
	}
	if p.ids < 0 {
		return nil, fmt.Errorf("the model has a tokenizer but no integer token-id input")
	}
	for i := range ins {
		if isCacheInput(ins[i].Name) {
			continue // fed by the KV-cache decoder, not from text
		}
		if i != p.ids && i != p.mask && i != p.types && i != p.position {
			return nil, fmt.Errorf("input %q cannot be filled from text", ins[i].Name)
		}
		if ins[i].DType != Int64 && ins[i].DType != Int32 {
			return nil, fmt.Errorf("input %q is %s; token inputs must be int64 or int32", ins[i].Name, ins[i].DType)
		}
	}
	if s := ins[p.ids].Shape; len(s) == 2 && s[1] > 0 {
		p.seqLen = s[1]
	}
	return p, nil
}

func tokenizerPath(pkg *Package) string {
	var cands []string
	if m := pkg.Manifest; m != nil && m.Preprocessing != nil && m.Preprocessing.Tokenizer != nil {
		for _, f := range m.Preprocessing.Tokenizer.Files {
			if filepath.Base(f) == "tokenizer.json" {
				cands = append(cands, f)
			}
		}
	}
	if m := pkg.Manifest; m != nil {
		for _, f := range m.Files {
			if filepath.Base(f.Path) == "tokenizer.json" {
				cands = append(cands, f.Path)
			}
		}
	}
	cands = append(cands, "tokenizer.json")
	for _, c := range cands {
		if !filepath.IsLocal(filepath.FromSlash(c)) {
			continue
		}
		p := filepath.Join(pkg.Dir, filepath.FromSlash(c))
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	return ""
}

func (p *textEncoder) encode(text string) (Encoding, error) {
	enc, err := p.encodeBounded(text)
	if err != nil {
		return Encoding{}, BadRequest("tokenize: %v", err)
	}
	n := len(enc.IDs)
	if len(enc.Mask) != n {
		enc.Mask = make([]int64, n)
		for i := range enc.Mask {
			enc.Mask[i] = 1
		}
	}
	if len(enc.TypeIDs) != n {
		enc.TypeIDs = make([]int64, n)
	}
	limit := p.maxLen
	if p.seqLen > 0 {
		limit = int(p.seqLen)
	}
	if limit > 1 && n > limit {
		// Keep the closing token ([SEP], </s>) the model was trained to see.
		cut := func(v []int64) []int64 { return append(v[:limit-1:limit-1], v[n-1]) }
		if !p.closes {
			cut = func(v []int64) []int64 { return v[:limit] }
		}
		enc.IDs, enc.TypeIDs, enc.Mask = cut(enc.IDs), cut(enc.TypeIDs), cut(enc.Mask)
	}
	// A model with a fixed sequence length gets padding (mask 0).
	for p.seqLen > 0 && int64(len(enc.IDs)) < p.seqLen {
		enc.IDs = append(enc.IDs, 0)
		enc.TypeIDs = append(enc.TypeIDs, 0)
		enc.Mask = append(enc.Mask, 0)
	}
	if len(enc.IDs) == 0 {
		return Encoding{}, BadRequest("the text gives no tokens")
	}
	return enc, nil
}

func (p *textEncoder) tensors(enc Encoding) []*Tensor {
	out := make([]*Tensor, len(p.specs))
	n := int64(len(enc.IDs))
	mk := func(i int, vals []int64) {
		t := &Tensor{Name: p.specs[i].Name, DType: p.specs[i].DType, Shape: []int64{1, n}}
		if len(p.specs[i].Shape) == 1 {
			t.Shape = []int64{n}
		}
		if t.DType == Int32 {
			v32 := make([]int32, len(vals))
			for j, v := range vals {
				v32[j] = int32(v)
			}
			t.Data = v32
		} else {
			t.Data = vals
		}
		out[i] = t
	}
	mk(p.ids, enc.IDs)
	if p.mask >= 0 {
		mk(p.mask, enc.Mask)
	}
	if p.types >= 0 {
		mk(p.types, enc.TypeIDs)
	}
	if p.position >= 0 {
		pos := make([]int64, n)
		for i := range pos {
			pos[i] = int64(i)
		}
		mk(p.position, pos)
	}
	return out
}

// run tokenizes text, checks the tensors against the model and runs it.
func (p *textEncoder) run(ctx context.Context, m *Model, text string) ([]*Tensor, Encoding, RunStats, error) {
	enc, err := p.encode(text)
	if err != nil {
		return nil, Encoding{}, RunStats{}, err
	}
	inputs := p.tensors(enc)
	if _, err := m.Check(namedOf(inputs)); err != nil {
		return nil, enc, RunStats{}, err
	}
	outs, stats, err := m.Run(ctx, inputs)
	return outs, enc, stats, err
}

func namedOf(ts []*Tensor) map[string]*Tensor {
	m := make(map[string]*Tensor, len(ts))
	for _, t := range ts {
		m[t.Name] = t
	}
	return m
}

// RawOutputs is the seed API's view of output tensors: name → nested array.
func RawOutputs(outs []*Tensor) map[string]any {
	res := make(map[string]any, len(outs))
	for _, o := range outs {
		res[o.Name] = o.Nested()
	}
	return res
}

func pickOutput(outs []*Tensor, names ...string) *Tensor {
	for _, n := range names {
		for _, o := range outs {
			if o.Name == n {
				return o
			}
		}
	}
	return outs[0]
}

// looksLikeProbabilities avoids a second softmax on models that end in one.
func looksLikeProbabilities(name string, v []float64) bool {
	if strings.Contains(strings.ToLower(name), "prob") {
		return true
	}
	sum := 0.0
	for _, x := range v {
		if x < 0 || x > 1 {
			return false
		}
		sum += x
	}
	return math.Abs(sum-1) < 1e-4
}

// Softmax is the numerically stable softmax.
func Softmax(v []float64) []float64 {
	mx := math.Inf(-1)
	for _, x := range v {
		mx = math.Max(mx, x)
	}
	out := make([]float64, len(v))
	sum := 0.0
	for i, x := range v {
		out[i] = math.Exp(x - mx)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}

// L2Normalize scales v to unit length (zero vectors stay zero).
func L2Normalize(v []float64) []float64 {
	n := 0.0
	for _, x := range v {
		n += x * x
	}
	n = math.Sqrt(n)
	out := make([]float64, len(v))
	for i, x := range v {
		if n > 0 {
			out[i] = x / n
		}
	}
	return out
}

// intParam reads an integer parameter; one that is there but not an
// integer is the client's mistake, not something to ignore.
func intParam(params map[string]any, name string) (int, bool, error) {
	v, ok := params[name]
	if !ok || v == nil {
		return 0, false, nil
	}
	switch x := v.(type) {
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<31 {
			return int(x), true, nil
		}
	case int:
		return x, true, nil
	case int64:
		return int(x), true, nil
	case string:
		if i, err := strconv.Atoi(x); err == nil {
			return i, true, nil
		}
	}
	return 0, false, BadRequest("parameter %s must be an integer, got %v", name, v)
}

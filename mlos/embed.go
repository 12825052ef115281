package mlos

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Pooling is how token embeddings become one sentence embedding, read from
// a sentence-transformers package (modules.json, 1_Pooling/config.json);
// without them, the mean over the attention mask, not normalized.
type Pooling struct {
	Mode      string // "mean", "cls", "max", "mean_sqrt_len", "lasttoken"
	Normalize bool
}

type stModule struct {
	Path string `json:"path"`
	Type string `json:"type"`
}

type stPooling struct {
	CLS         bool `json:"pooling_mode_cls_token"`
	Mean        bool `json:"pooling_mode_mean_tokens"`
	Max         bool `json:"pooling_mode_max_tokens"`
	MeanSqrtLen bool `json:"pooling_mode_mean_sqrt_len_tokens"`
	LastToken   bool `json:"pooling_mode_lasttoken"`
}

func readPooling(dir string) Pooling {
	p := Pooling{Mode: "mean"}
	poolDir := "1_Pooling"
	if b, err := os.ReadFile(filepath.Join(dir, "modules.json")); err == nil {
		var mods []stModule
		if json.Unmarshal(b, &mods) == nil {
			for _, m := range mods {
				switch {
				case strings.HasSuffix(m.Type, ".Normalize"):
					p.Normalize = true
				case strings.HasSuffix(m.Type, ".Pooling") && m.Path != "" && filepath.IsLocal(filepath.FromSlash(m.Path)):
					poolDir = path.Clean(m.Path)
				}
			}
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(poolDir), "config.json")); err == nil {
		var c stPooling
		if json.Unmarshal(b, &c) == nil {
			switch {
			case c.CLS:
				p.Mode = "cls"
			case c.Max:
				p.Mode = "max"
			case c.MeanSqrtLen:
				p.Mode = "mean_sqrt_len"
			case c.LastToken:
				p.Mode = "lasttoken"
			case c.Mean:
				p.Mode = "mean"
			}
		}
	}
	return p
}

// CanEmbed reports whether the model answers sentence embeddings.
func (m *Model) CanEmbed() bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.text != nil && m.task() == TaskFeatureExtraction
}

// Embed answers one sentence embedding per text, pooled and normalized as
// the package says, and the number of tokens read.
func (m *Model) Embed(ctx context.Context, texts []string) ([][]float64, int, error) {
	m.mu.RLock()
	text := m.text
	m.mu.RUnlock()
	if !m.CanEmbed() {
		return nil, 0, BadRequest("model %s does not answer embeddings (task %q)", m.Name, m.Task())
	}
	pool := readPooling(m.Dir)
	out := make([][]float64, len(texts))
	tokens := 0
	for i, in := range texts {
		outs, enc, _, err := text.run(ctx, m, in)
		tokens += len(enc.IDs)
		if err != nil {
			return nil, tokens, err
		}
		vec, err := poolOutputs(outs, enc.Mask, pool)
		if err != nil {
			return nil, tokens, err
		}
		out[i] = vec
	}
	return out, tokens, nil
}

func poolOutputs(outs []*Tensor, mask []int64, pool Pooling) ([]float64, error) {
	o := findOutput(outs, "sentence_embedding")
	if o == nil || len(o.Shape) != 2 {
		o = pickOutput(outs, "last_hidden_state", "token_embeddings", "embeddings", "pooler_output")
	}
	return pool.apply(o, mask)
}

// apply pools o, token embeddings [1, sequence, hidden] (positions whose
// mask is 0 left out) or an embedding already pooled [1, hidden].
func (pool Pooling) apply(o *Tensor, mask []int64) ([]float64, error) {
	var vec []float64
	v := o.Float64s()
	switch len(o.Shape) {
	case 3:
		seq, hid := int(o.Shape[1]), int(o.Shape[2])
		vec = make([]float64, hid)
		on := func(s int) bool { return s >= len(mask) || mask[s] != 0 }
		switch pool.Mode {
		case "cls":
			copy(vec, v[:hid])
		case "lasttoken":
			last := 0
			for s := 0; s < seq; s++ {
				if on(s) {
					last = s
				}
			}
			copy(vec, v[last*hid:(last+1)*hid])
		case "max":
			for h := range vec {
				vec[h] = math.Inf(-1)
			}
			for s := 0; s < seq; s++ {
				if !on(s) {
					continue
				}
				for h := 0; h < hid; h++ {
					vec[h] = math.Max(vec[h], v[s*hid+h])
				}
			}
		default:
			count := 0.0
			for s := 0; s < seq; s++ {
				if !on(s) {
					continue
				}
				count++
				for h := 0; h < hid; h++ {
					vec[h] += v[s*hid+h]
				}
			}
			div := count
			if pool.Mode == "mean_sqrt_len" {
				div = math.Sqrt(count)
			}
			if div > 0 {
				for h := range vec {
					vec[h] /= div
				}
			}
		}
	case 2:
		vec = append([]float64(nil), v[:o.Shape[1]]...)
	default:
		return nil, Unprocessable("output %s has shape %v; embeddings need [1,sequence,hidden] or [1,hidden]", o.Name, o.Shape)
	}
	if pool.Normalize {
		vec = L2Normalize(vec)
	}
	return vec, nil
}

func findOutput(outs []*Tensor, name string) *Tensor {
	for _, o := range outs {
		if o.Name == name {
			return o
		}
	}
	return nil
}

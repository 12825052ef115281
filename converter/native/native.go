// Package native converts Hugging Face transformers checkpoints (config.json +
// safetensors) to ONNX in Go, without Python: the graph is written from the
// config for the architectures listed in Encoders and Decoders, and the weights
// are streamed tensor by tensor from the safetensors files into the model.
package native

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/mlos-foundation/axon/internal/safetensors"
)

// Options tune Convert.
type Options struct {
	// Task is the hub's pipeline tag; it picks an encoder's head together with
	// config.json's architectures.
	Task string
	// FP16 keeps the weights in half precision (the graph computes in float32).
	FP16 bool
	// ExternalThreshold: weights above this many bytes go to model.onnx.data
	// (0 = onnx.ExternalThreshold, 2 GB).
	ExternalThreshold int64
	// Version is recorded as the model's producer_version.
	Version string
}

// Result says what Convert wrote.
type Result struct {
	ModelType string
	Head      string // base | sequence-classification | token-classification | causal-lm
	Task      string // the pipeline task the graph serves
	Labels    []string
	External  []string // external data files beside model.onnx
	// WeightBytes is the size of the weights read from the checkpoint.
	WeightBytes int64
}

// Check says whether dir holds a checkpoint Convert handles, and if not, why,
// in one line naming the fallbacks (errors.Is ErrUnsupported).
func Check(dir string) error {
	if _, err := LoadConfig(dir); err != nil {
		return err
	}
	_, errA := os.Stat(filepath.Join(dir, "model.safetensors"))
	_, errB := os.Stat(filepath.Join(dir, "model.safetensors.index.json"))
	if errA != nil && errB != nil {
		return unsupported("no model.safetensors or model.safetensors.index.json (pytorch_model.bin needs torch)")
	}
	// Headers only: the dtypes say whether the weights are quantized.
	m, err := safetensors.OpenModel(dir)
	if err != nil {
		return fmt.Errorf("native converter: %w", err)
	}
	defer m.Close()
	return checkDTypes(m)
}

func checkDTypes(m *safetensors.Model) error {
	for _, n := range m.Names() {
		switch dt := m.Tensor(n).DType; dt {
		case "F32", "F16", "BF16", "I64", "BOOL": // integer buffers (position_ids) are ignored
		default:
			return unsupported("tensor %s has dtype %s (quantized weights)", n, dt)
		}
	}
	return nil
}

// Convert writes outDir/model.onnx (and model.onnx.data above the threshold)
// for the checkpoint in dir. On error nothing is left in outDir.
func Convert(ctx context.Context, dir, outDir string, o Options) (res *Result, err error) {
	if err := Check(dir); err != nil {
		return nil, err
	}
	c, err := LoadConfig(dir)
	if err != nil {
		return nil, err
	}
	m, err := safetensors.OpenModel(dir)
	if err != nil {
		return nil, fmt.Errorf("native converter: %w", err)
	}
	defer m.Close()
	res = &Result{ModelType: c.ModelType, Labels: c.Labels()}
	g := newGraph(c.ModelType, m, o.FP16)
	g.ctx = ctx
	g.b.Metadata("converter", "axon native").ProducerVersion(o.Version)
	if c.IsDecoder() {
		emb := "model.embed_tokens.weight"
		if c.ModelType == "gpt2" {
			emb = g.prefix([]string{"transformer.", ""}, "wte.weight") + "wte.weight"
		}
		if t := m.Tensor(emb); t != nil && len(t.Shape) == 2 {
			c.Vocab = int(t.Shape[0])
		}
		res.Head, res.Task, res.Labels = HeadCausalLM, "text-generation", nil
		buildDecoder(g, c)
	} else {
		res.Head = encoderHead(c, o.Task)
		res.Task = map[string]string{HeadBase: "feature-extraction", HeadSequence: "text-classification", HeadToken: "token-classification"}[res.Head]
		if res.Head == HeadBase {
			res.Labels = nil
		}
		buildEncoder(g, c, res.Head)
	}
	if g.err != nil {
		return nil, g.err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res.WeightBytes = g.weightBytes
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("native converter: %w", err)
	}
	defer func() {
		if err != nil {
			os.Remove(filepath.Join(outDir, "model.onnx"))
			os.Remove(filepath.Join(outDir, "model.onnx.data"))
		}
	}()
	ext, err := g.b.WriteModel(outDir, "model.onnx", o.ExternalThreshold)
	if err != nil {
		return nil, fmt.Errorf("native converter: write model.onnx: %w", err)
	}
	res.External = ext
	return res, nil
}

package converter

import (
	"context"
	"fmt"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/mlos-foundation/axon/internal/onnx"
	"github.com/mlos-foundation/axon/schemas"
)

// Passthrough packages a model that is already ONNX: it checks it with
// onnx.Inspect and places it (hard link or copy) with its external data.
type Passthrough struct{ opts Options }

func (p *Passthrough) Name() string { return BackendPassthrough }

func (p *Passthrough) Convert(ctx context.Context, in Input, outDir string) (*Result, error) {
	model, err := findONNX(in)
	if err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	p.opts.Logger.Info("onnx passthrough", "model", model)
	info, ext, err := placeModel(ctx, in.Dir, model, outDir, false)
	if err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	res := &Result{
		Framework: schemas.Framework{Name: "onnx"},
		Backend:   BackendPassthrough,
		Model:     "model.onnx",
		External:  ext,
		Info:      info,
	}
	if info.ProducerName != "" {
		res.Exporter = strings.TrimSpace(info.ProducerName + " " + info.ProducerVersion)
	}
	res.Format = schemas.Format{Name: "onnx", Opset: info.Opset, IRVersion: info.IRVersion, Model: "model.onnx"}
	res.Files = append([]string{"model.onnx"}, ext...)
	// The ONNX file is its own original; no copy under original/.
	return res, nil
}

// findONNX picks the model file: Extra["model"], model.onnx, onnx/model.onnx, or
// the only (or shallowest model.onnx-named) .onnx file.
func findONNX(in Input) (string, error) {
	if m := in.Extra[ExtraModel]; m != "" {
		if !onnx.SafeRelPath(m) {
			return "", fmt.Errorf("model path %q leaves the model directory", m)
		}
		return path.Clean(filepath.ToSlash(m)), nil
	}
	files := in.Files
	if files == nil {
		files = listFiles(in.Dir)
	}
	var cands []string
	for _, f := range files {
		f = filepath.ToSlash(f)
		if strings.HasSuffix(strings.ToLower(f), ".onnx") && onnx.SafeRelPath(f) {
			cands = append(cands, path.Clean(f))
		}
	}
	if len(cands) == 0 {
		return "", fmt.Errorf("%w: no .onnx file in %s", ErrUnsupported, in.Dir)
	}
	for _, pref := range []string{"model.onnx", "onnx/model.onnx"} {
		for _, c := range cands {
			if c == pref {
				return c, nil
			}
		}
	}
	if len(cands) == 1 {
		return cands[0], nil
	}
	// Repos that ship several exports (model.onnx, model_quantized.onnx, model_fp16.onnx)
	// name the full-precision one model.onnx; prefer it, at the shallowest level.
	sort.Slice(cands, func(i, j int) bool {
		ci, cj := strings.Count(cands[i], "/"), strings.Count(cands[j], "/")
		if ci != cj {
			return ci < cj
		}
		return cands[i] < cands[j]
	})
	for _, c := range cands {
		if path.Base(c) == "model.onnx" {
			return c, nil
		}
	}
	return "", fmt.Errorf("%w: several ONNX files (%s); name one with extra %q", ErrUnsupported, strings.Join(cands, ", "), ExtraModel)
}

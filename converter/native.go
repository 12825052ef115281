package converter

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/mlos-foundation/axon/converter/native"
	"github.com/mlos-foundation/axon/internal/onnx"
	"github.com/mlos-foundation/axon/internal/version"
	"github.com/mlos-foundation/axon/schemas"
)

// BackendNative converts transformers safetensors checkpoints in Go (converter/native).
const BackendNative = "native"

// Validation methods (schemas.Validation.Method).
const (
	MethodReferenceRun   = "reference-run"
	MethodConverterTests = "converter-tests"
)

// nativeCheck runs the transformers model for `--validate` when transformers imports.
//
//go:embed native_check.py
var nativeCheck []byte

// Native converts with converter/native: no Python, no Docker.
type Native struct{ opts Options }

func (n *Native) Name() string { return BackendNative }

// NativeSupported says whether the native converter handles the checkpoint in
// dir; the error (errors.Is ErrUnsupported) names what it does not handle.
func NativeSupported(dir string) error {
	if err := native.Check(dir); err != nil {
		if errors.Is(err, native.ErrUnsupported) {
			return fmt.Errorf("%w: %w", ErrUnsupported, err)
		}
		return err
	}
	return nil
}

func (n *Native) Convert(ctx context.Context, in Input, outDir string) (*Result, error) {
	o := n.opts
	work, err := os.MkdirTemp("", "axon-native-*")
	if err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	defer os.RemoveAll(work)
	staged := filepath.Join(work, "onnx")
	var fp16 bool
	switch o.DType {
	case "", "fp32", "float32":
	case "fp16", "float16":
		fp16 = true
	default:
		return nil, fmt.Errorf("convert: --dtype %q: fp32 or fp16", o.DType)
	}
	o.Logger.Info("converting", "kind", in.Kind, "backend", BackendNative, "dir", in.Dir, "dtype", map[bool]string{false: "fp32", true: "fp16"}[fp16])
	nr, err := native.Convert(ctx, in.Dir, staged, native.Options{Task: in.Task, FP16: fp16, ExternalThreshold: o.ExternalThreshold, Version: version.String()})
	if err != nil {
		if errors.Is(err, native.ErrUnsupported) {
			return nil, fmt.Errorf("convert: %w: %w", ErrUnsupported, err)
		}
		return nil, fmt.Errorf("convert: %w", err)
	}
	model := filepath.Join(staged, "model.onnx")
	info, err := onnx.Inspect(model)
	if err != nil {
		return nil, fmt.Errorf("convert: the native converter wrote an unreadable model: %w", err)
	}
	res := &Result{
		Framework: schemas.Framework{Name: "transformers"},
		Format: schemas.Format{Name: "onnx", Opset: info.Opset, IRVersion: info.IRVersion, Model: "model.onnx",
			Converter: BackendNative, ConverterVersion: version.String()},
		Backend:  BackendNative,
		Exporter: "axon native " + version.String(),
		Model:    "model.onnx",
		Info:     info,
		Task:     nr.Task,
		Labels:   nr.Labels,
	}
	if !o.SkipValidation {
		v, err := n.validate(ctx, in, model, info, nr, work)
		if err != nil {
			return nil, fmt.Errorf("convert: %w", err)
		}
		res.Validation = v
	}
	_, ext, err := placeModel(ctx, staged, "model.onnx", outDir, true)
	if err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	res.External = ext
	res.Files = append([]string{"model.onnx"}, ext...)
	if !o.NoOriginals {
		orig, err := copyOriginals(ctx, in, outDir)
		if err != nil {
			return nil, fmt.Errorf("convert: %w", err)
		}
		res.Originals = orig
		res.Files = append(res.Files, orig...)
	}
	return res, nil
}

// validate compares with transformers when a python3 here imports it; else it
// records that the converter's own numerics tests (torch forwards of every
// architecture, ≤ 1e-4) are what vouches for the graph.
func (n *Native) validate(ctx context.Context, in Input, model string, info *onnx.Info, nr *native.Result, work string) (*schemas.Validation, error) {
	o := n.opts
	py := ""
	if o.Python != "" {
		if exec.CommandContext(ctx, o.Python, "-c", "import numpy, torch, transformers").Run() == nil {
			py = o.Python
		}
	} else {
		py = FindPython(ctx, "numpy", "torch", "transformers")
	}
	if py == "" && o.Validate {
		return nil, fmt.Errorf("%w: --validate compares with transformers, and no python3 here imports numpy, torch and transformers (tried %s); pip install torch transformers, or drop --validate",
			ErrFrameworkMissing, strings.Join(uniq(append([]string{o.Python}, PythonCandidates()...)), ", "))
	}
	if py == "" {
		return &schemas.Validation{Reference: "axon native converter tests (transformers is not installed here)",
			Tolerance: o.Tolerance, Passed: true, Method: MethodConverterTests}, nil
	}
	vdir := filepath.Join(work, "validation")
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		return nil, err
	}
	cfg, err := native.LoadConfig(in.Dir)
	if err != nil {
		return nil, err
	}
	var inputs []string
	for _, t := range info.Inputs {
		inputs = append(inputs, t.Name)
	}
	spec, _ := json.Marshal(map[string]any{"input_dir": in.Dir, "validation_dir": vdir, "head": nr.Head, "inputs": inputs,
		"kv_heads": cfg.KVHeads, "head_dim": cfg.HeadDim})
	sp, script := filepath.Join(work, "check.json"), filepath.Join(work, "native_check.py")
	if err := os.WriteFile(sp, spec, 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(script, nativeCheck, 0o644); err != nil {
		return nil, err
	}
	tail := &tailWriter{fwd: o.Progress}
	cmd := exec.CommandContext(ctx, py, script, sp)
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1", "HF_HUB_OFFLINE=1", "TRANSFORMERS_OFFLINE=1")
	cmd.Stdout, cmd.Stderr = tail, tail
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%w: running the transformers model to check the native conversion failed (%v): %s; pass --skip-validation to keep the model unchecked",
			ErrValidation, err, tail.message())
	}
	v, err := validate(model, info, vdir, o)
	if v != nil {
		v.Method = MethodReferenceRun
	}
	return v, err
}

// selectNative: --converter native always takes the native converter (an
// unsupported model is an error naming the fallbacks); auto takes it when it
// handles the checkpoint, and falls through to Python / Docker otherwise.
func selectNative(in Input, o Options) (Converter, error) {
	switch o.Backend {
	case BackendNative:
		if in.Kind != KindTransformers {
			return nil, fmt.Errorf("convert: %w: --converter native converts transformers checkpoints (config.json + safetensors), not %s models; use --converter local or docker", ErrUnsupported, kindLabel(in.Kind))
		}
		if err := NativeSupported(in.Dir); err != nil {
			return nil, fmt.Errorf("convert: %w", err)
		}
		return &Native{opts: o}, nil
	case BackendAuto:
		if in.Kind == KindTransformers && NativeSupported(in.Dir) == nil {
			return &Native{opts: o}, nil
		}
		if in.Kind == KindTransformers {
			o.Logger.Info("native converter does not handle this model; trying Python, then Docker", "reason", NativeSupported(in.Dir))
		}
	}
	return nil, nil
}

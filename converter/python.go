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

	"github.com/mlos-foundation/axon/internal/onnx"
	"github.com/mlos-foundation/axon/schemas"
)

// script is the converter run by both backends; the docker image carries the
// frameworks only, so a binary and its script always match.
//
//go:embed convert.py
var script []byte

// Script returns the embedded converter script (for tools and the Dockerfile's users).
func Script() []byte { return append([]byte(nil), script...) }

// Script exit codes (convert.py).
const (
	exitFail    = 2
	exitMissing = 3
)

// Python converts PyTorch, transformers and TensorFlow models with the embedded
// script, locally or in Docker, then validates the result in ONNX Runtime.
type Python struct {
	opts   Options
	runner runner
}

func (p *Python) Name() string { return p.runner.name() }

type scriptSpec struct {
	Kind       string   `json:"kind"`
	Framework  string   `json:"framework,omitempty"`
	InputDir   string   `json:"input_dir"`
	Files      []string `json:"files,omitempty"`
	Entrypoint string   `json:"entrypoint,omitempty"`
	Task       string   `json:"task,omitempty"`
	// Head is the transformers export for Task, decided here so that the
	// script and the manifest agree on what the graph answers.
	Head           *schemas.TransformersHead `json:"head,omitempty"`
	Extra          map[string]string         `json:"extra,omitempty"`
	OutputDir      string                    `json:"output_dir"`
	ValidationDir  string                    `json:"validation_dir"`
	Result         string                    `json:"result"`
	Opset          int                       `json:"opset"`
	SkipValidation bool                      `json:"skip_validation"`
	TorchHome      string                    `json:"torch_home,omitempty"`
}

type scriptResult struct {
	Framework        string `json:"framework"`
	FrameworkVersion string `json:"framework_version"`
	Exporter         string `json:"exporter"`
	Python           string `json:"python"`
}

func (p *Python) Convert(ctx context.Context, in Input, outDir string) (*Result, error) {
	o := p.opts
	inDir, err := filepath.Abs(in.Dir)
	if err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	work, err := os.MkdirTemp("", "axon-convert-*")
	if err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	defer os.RemoveAll(work)
	if err := os.WriteFile(filepath.Join(work, "convert.py"), script, 0o644); err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	// The docker backend runs as the caller's uid; the work dir must be writable to it
	// and readable by nobody else's processes more than a temp dir already is.
	for _, d := range []string{"onnx", "validation"} {
		if err := os.Mkdir(filepath.Join(work, d), 0o755); err != nil {
			return nil, fmt.Errorf("convert: %w", err)
		}
	}
	torchHome := in.Extra[ExtraTorchHome]
	extra := map[string]string{}
	for k, v := range in.Extra {
		if k != ExtraTorchHome {
			extra[k] = v
		}
	}
	task, head, err := scriptTask(in, inDir)
	if err != nil {
		return nil, err
	}
	j := &job{
		inDir: inDir, work: work, torchHome: torchHome,
		progress: &tailWriter{fwd: o.Progress},
		spec: func(in2, work2, th string) ([]byte, error) {
			return json.MarshalIndent(scriptSpec{
				Kind: in.Kind, Framework: in.Framework, InputDir: in2, Files: in.Files,
				Entrypoint: in.Entrypoint, Task: task, Head: head, Extra: extra,
				OutputDir: work2 + "/onnx", ValidationDir: work2 + "/validation", Result: work2 + "/result.json",
				Opset: o.Opset, SkipValidation: o.SkipValidation, TorchHome: th,
			}, "", " ")
		},
	}
	o.Logger.Info("converting", "kind", in.Kind, "backend", p.runner.name(), "dir", inDir)
	rctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	runErr := p.runner.run(rctx, j)
	if runErr != nil {
		if rctx.Err() == context.DeadlineExceeded && ctx.Err() == nil {
			return nil, fmt.Errorf("convert: %w after %s (raise the timeout for large models); last output: %s", ErrTimeout, o.Timeout, j.progress.lastLine())
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("convert: %w", ctx.Err())
		}
		var ee *exec.ExitError
		if errors.As(runErr, &ee) {
			switch ee.ExitCode() {
			case exitMissing:
				return nil, fmt.Errorf("convert: %w: %s", ErrFrameworkMissing, j.progress.message())
			default:
				return nil, fmt.Errorf("convert %s model: %w: %s", in.Kind, ErrScriptFailed, j.progress.message())
			}
		}
		return nil, fmt.Errorf("convert %s model (%s backend): %w", in.Kind, p.runner.name(), runErr)
	}
	var sr scriptResult
	b, err := os.ReadFile(filepath.Join(work, "result.json"))
	if err == nil {
		err = json.Unmarshal(b, &sr)
	}
	if err != nil {
		return nil, fmt.Errorf("convert: %w: the converter script wrote no result (%v): %s", ErrScriptFailed, err, j.progress.message())
	}

	staged := filepath.Join(work, "onnx")
	info, err := onnx.Inspect(filepath.Join(staged, "model.onnx"))
	if err != nil {
		return nil, fmt.Errorf("convert: the exported model is unreadable: %w", err)
	}
	res := &Result{
		Framework: schemas.Framework{Name: sr.Framework, Version: sr.FrameworkVersion},
		Format:    schemas.Format{Name: "onnx", Opset: info.Opset, IRVersion: info.IRVersion, Model: "model.onnx"},
		Backend:   p.runner.name(),
		Exporter:  sr.Exporter,
		Model:     "model.onnx",
		Info:      info,
	}
	if !o.SkipValidation {
		v, err := validate(filepath.Join(staged, "model.onnx"), info, filepath.Join(work, "validation"), o)
		if err != nil {
			return nil, fmt.Errorf("convert: %w", err)
		}
		// Extra samples at another batch size (batch1/, batch2/) check the dynamic batch axis.
		extra, _ := filepath.Glob(filepath.Join(work, "validation", "batch*", "sample.json"))
		for _, sj := range extra {
			vb, err := validate(filepath.Join(staged, "model.onnx"), info, filepath.Dir(sj), o)
			if err != nil {
				return nil, fmt.Errorf("convert: at batch size %s the exported model does not match (%w); if the model only works at one batch size, convert it with extra %s=false",
					strings.TrimPrefix(filepath.Base(filepath.Dir(sj)), "batch"), err, ExtraDynamicBatch)
			}
			v.MaxAbsDiff = max(v.MaxAbsDiff, vb.MaxAbsDiff)
		}
		res.Validation = v
		o.Logger.Info("validated", "reference", v.Reference, "maxAbsDiff", v.MaxAbsDiff, "tolerance", v.Tolerance)
	}
	if _, ext, err := placeModel(ctx, staged, "model.onnx", outDir, true); err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	} else {
		res.External = ext
	}
	res.Files = append([]string{"model.onnx"}, res.External...)
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

// scriptTask is the task and, for a transformers checkpoint, the head the
// script exports: decided here, not in convert.py, from the input's task or
// else config.json's architecture — the task manifest.yaml will say
// (artifact.DescribeFromConfig), so the graph answers what the runtime serves.
func scriptTask(in Input, dir string) (string, *schemas.TransformersHead, error) {
	if in.Kind != KindTransformers {
		return in.Task, nil, nil
	}
	task := in.Task
	if task == "" {
		cfg, err := schemas.ReadHFConfig(dir)
		if err != nil {
			return "", nil, fmt.Errorf("convert: %w", err)
		}
		task = schemas.TaskFromArchitectures(cfg.Architectures)
	}
	h := schemas.HeadForTask(task)
	return task, &h, nil
}

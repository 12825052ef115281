package converter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/mlos-foundation/axon/internal/onnx"
	"github.com/mlos-foundation/axon/schemas"
)

// Model kinds (Input.Kind), as schemas defines them.
const (
	KindONNX         = schemas.KindONNX
	KindTorchScript  = schemas.KindTorchScript
	KindHubconf      = schemas.KindHubconf
	KindTransformers = schemas.KindTransformers
	KindSavedModel   = schemas.KindSavedModel
)

// Backends (Options.Backend).
const (
	BackendAuto   = "auto"
	BackendLocal  = "local"
	BackendDocker = "docker"
	// BackendPassthrough is reported in Result.Backend when no conversion ran.
	BackendPassthrough = "passthrough"
)

// Keys of Input.Extra the converter understands.
const (
	// ExtraModel: path (relative to Dir) of the model file: the ONNX file to pass
	// through (default model.onnx, onnx/model.onnx, or the only .onnx file), or the
	// TorchScript archive.
	ExtraModel = "model"
	// ExtraWeights: a state dict / checkpoint (relative to Dir) loaded into the
	// hubconf entrypoint's module with load_state_dict.
	ExtraWeights = "weights"
	// ExtraCheckpoints: directory (relative to Dir, default "checkpoints") of files that
	// torch.hub.load_state_dict_from_url must find in TORCH_HOME/hub/checkpoints.
	ExtraCheckpoints = "checkpoints"
	// ExtraTorchHome: an absolute TORCH_HOME whose hub/checkpoints holds pre-downloaded
	// checkpoints (an alternative to ExtraCheckpoints).
	ExtraTorchHome = "torch_home"
	// ExtraKwargs: JSON object of keyword arguments for the hubconf entrypoint.
	ExtraKwargs = "kwargs"
	// ExtraRepo: directory (relative to Dir) holding hubconf.py when it is not Dir itself
	// or one of its direct subdirectories.
	ExtraRepo = "repo"
	// ExtraInputShape: sample input shape such as "1,3,224,224" when it cannot be read
	// from the model's first layer; ExtraInputDType and ExtraInputName go with it.
	ExtraInputShape = "input_shape"
	ExtraInputDType = "input_dtype"
	ExtraInputName  = "input_name"
	// ExtraInputs: JSON list of {"name","shape","dtype"} for several inputs.
	ExtraInputs = "inputs"
	// ExtraDynamicBatch: "false" exports the sample's exact shapes, for models that
	// cannot run at another batch size (the default exports a dynamic batch axis and
	// checks it at a second batch size).
	ExtraDynamicBatch = "dynamic_batch"
	// ExtraSavedModel: directory (relative to Dir) of the SavedModel.
	ExtraSavedModel = "saved_model"
)

// Input is a fetched model to convert.
type Input struct {
	Dir        string            // the model's files
	Framework  string            // onnx | pytorch | tensorflow | transformers
	Kind       string            // onnx | torchscript | hubconf | transformers | savedmodel; "" = Detect
	Entrypoint string            // hubconf function, for Kind hubconf
	Task       string            // pipeline tag (text-classification...), picks the transformers head
	Files      []string          // files (relative to Dir) that make the model; nil = every file in Dir
	Extra      map[string]string // see the Extra* keys
}

// Options tune Convert. The zero value converts with the auto backend, validates
// within 1e-4 and keeps originals.
type Options struct {
	Backend string // auto (default) | local | docker
	// Python is the python3 the local backend runs; "" = the first of $AXON_PYTHON,
	// python3 on PATH, /usr/bin/python3, /usr/local/bin/python3 that imports the frameworks.
	Python string
	// Image is the converter image of the docker backend; "" = $AXON_CONVERTER_IMAGE or DefaultImage.
	Image string
	// Docker is the docker CLI; "" = "docker".
	Docker         string
	Opset          int           // ONNX opset to export; 0 = 17 (clamped to what the exporter supports)
	Tolerance      float64       // max abs difference ORT vs framework; 0 = DefaultTolerance
	SkipValidation bool          // do not compare ONNX Runtime with the framework
	Timeout        time.Duration // for the whole conversion; 0 = DefaultTimeout
	ORTLibrary     string        // libonnxruntime.so; "" = internal/ort discovery
	NoOriginals    bool          // do not copy the source files to outDir/original/
	// DType is the weight precision of the native converter: fp32 (default) or fp16.
	DType string
	// Validate requires the native converter's result to be compared with the
	// transformers model (a python3 that imports it must be found); without it
	// the comparison runs when transformers is importable and is otherwise
	// recorded as vouched for by the converter's own tests.
	Validate bool
	// ExternalThreshold: the native converter writes weights above this many
	// bytes as external data (0 = 2 GB).
	ExternalThreshold int64
	// Progress receives the converter script's log lines; nil discards them.
	Progress io.Writer
	Logger   *slog.Logger
}

// Defaults.
const (
	DefaultTolerance = 1e-4
	DefaultTimeout   = 30 * time.Minute
	DefaultImage     = "axon-converter:latest"
	DefaultOpset     = 17
)

// Result is what Convert produced.
type Result struct {
	Framework schemas.Framework // the source framework and its version (torch 1.13.1...)
	Format    schemas.Format    // onnx, opset, IR version, model path
	Backend   string            // passthrough | local | docker
	Exporter  string            // torch.onnx, optimum, tf2onnx...
	// Files lists what was written under outDir, relative with '/' separators:
	// model.onnx, its external data, then original/... files.
	Files      []string
	Model      string // "model.onnx"
	External   []string
	Originals  []string
	Info       *onnx.Info
	Validation *schemas.Validation // nil when validation was skipped or for passthrough
	// Task and Labels: what the native converter built (the head it chose), "" / nil otherwise.
	Task   string
	Labels []string
}

// Errors callers can test for with errors.Is.
var (
	ErrFrameworkMissing = errors.New("framework missing")
	ErrNoBackend        = errors.New("no converter backend")
	ErrScriptFailed     = errors.New("conversion failed")
	ErrTimeout          = errors.New("conversion timed out")
	ErrValidation       = errors.New("validation failed")
	ErrUnsupported      = errors.New("unsupported model")
)

// Converter turns one kind of model into outDir/model.onnx.
type Converter interface {
	Name() string
	Convert(ctx context.Context, in Input, outDir string) (*Result, error)
}

// Convert converts in to outDir/model.onnx (+ external data), keeping the source
// files under outDir/original/ unless opts.NoOriginals. ONNX input is passed through;
// everything else runs the Python converter script on the chosen backend and is
// validated against ONNX Runtime.
func Convert(ctx context.Context, in Input, outDir string, opts Options) (*Result, error) {
	if in.Dir == "" {
		return nil, fmt.Errorf("convert: no input directory")
	}
	if fi, err := os.Stat(in.Dir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("convert: input %s is not a directory", in.Dir)
	}
	if in.Kind == "" {
		in.Kind, in.Framework = Detect(in.Dir, in.Files)
		if in.Kind == "" {
			return nil, fmt.Errorf("convert: %w: found no ONNX, TorchScript, hubconf.py, transformers config or SavedModel among %s", ErrUnsupported, fileList(in.Dir, in.Files))
		}
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	c, err := New(ctx, in, opts)
	if err != nil {
		return nil, err
	}
	return c.Convert(ctx, in, outDir)
}

// New returns the converter Convert would use for in: passthrough for ONNX,
// otherwise the Python converter on the backend opts select.
func New(ctx context.Context, in Input, opts Options) (Converter, error) {
	opts = opts.withDefaults()
	if in.Kind == KindONNX || (in.Kind == "" && in.Framework == "onnx") {
		return &Passthrough{opts: opts}, nil
	}
	switch in.Kind {
	case KindTorchScript, KindHubconf, KindTransformers, KindSavedModel:
	default:
		return nil, fmt.Errorf("convert: %w: kind %q (known: onnx, torchscript, hubconf, transformers, savedmodel)", ErrUnsupported, in.Kind)
	}
	if c, err := selectNative(in, opts); c != nil || err != nil {
		return c, err
	}
	r, err := selectRunner(ctx, in.Kind, opts)
	if err != nil {
		if opts.Backend == BackendAuto && in.Kind == KindTransformers {
			if why := NativeSupported(in.Dir); why != nil {
				reason, _, _ := strings.Cut(why.Error(), "; use --converter")
				if i := strings.LastIndex(reason, "native converter: "); i >= 0 {
					reason = reason[i+len("native converter: "):]
				}
				return nil, fmt.Errorf("%w (the native converter was not an option: %s)", err, reason)
			}
		}
		return nil, err
	}
	return &Python{opts: opts, runner: r}, nil
}

func (o Options) withDefaults() Options {
	if o.Backend == "" {
		o.Backend = BackendAuto
	}
	if o.Tolerance <= 0 {
		o.Tolerance = DefaultTolerance
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Opset <= 0 {
		o.Opset = DefaultOpset
	}
	if o.Image == "" {
		o.Image = os.Getenv("AXON_CONVERTER_IMAGE")
	}
	if o.Image == "" {
		o.Image = DefaultImage
	}
	if o.Docker == "" {
		o.Docker = "docker"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	return o
}

// Detect guesses the model kind and framework from the files (all of dir when
// files is nil) with schemas.Detect, the rule the adapters use too.
func Detect(dir string, files []string) (kind, framework string) {
	if files == nil {
		files = listFiles(dir)
	}
	return schemas.Detect(dir, files)
}

// fileList names what was looked at: the files (a few of them) when known,
// else the directory.
func fileList(dir string, files []string) string {
	switch {
	case len(files) == 0:
		return "the files in " + dir
	case len(files) <= 5:
		return "the files " + strings.Join(files, ", ")
	}
	return fmt.Sprintf("the %d files %s, ...", len(files), strings.Join(files[:5], ", "))
}

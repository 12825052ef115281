package schemas

import (
	"encoding/json"
	"fmt"
	"strconv"

	"gopkg.in/yaml.v3"
)

// APIVersion and Kind head every manifest.yaml of this version of the format.
const (
	APIVersion = "axon.mlos.dev/v1"
	Kind       = "ModelPackage"
)

// Manifest is manifest.yaml: what a package is, where it came from, what it takes
// and returns, and which files it holds.
type Manifest struct {
	APIVersion    string         `yaml:"apiVersion" json:"apiVersion"`
	Kind          string         `yaml:"kind" json:"kind"`
	Name          string         `yaml:"name" json:"name"`
	Namespace     string         `yaml:"namespace" json:"namespace"`
	Version       string         `yaml:"version" json:"version"`
	Description   string         `yaml:"description,omitempty" json:"description,omitempty"`
	License       string         `yaml:"license,omitempty" json:"license,omitempty"`
	Source        *Source        `yaml:"source,omitempty" json:"source,omitempty"`
	Framework     Framework      `yaml:"framework" json:"framework"`
	Format        Format         `yaml:"format" json:"format"`
	Task          string         `yaml:"task,omitempty" json:"task,omitempty"`
	IO            IO             `yaml:"io" json:"io"`
	Preprocessing *Preprocessing `yaml:"preprocessing,omitempty" json:"preprocessing,omitempty"`
	Labels        []string       `yaml:"labels,omitempty" json:"labels,omitempty"` // index = class id (id2label)
	Resources     Resources      `yaml:"resources" json:"resources"`
	Validation    *Validation    `yaml:"validation,omitempty" json:"validation,omitempty"`
	Files         []File         `yaml:"files" json:"files"`
}

// Source is where the model came from, pinned to an immutable revision.
type Source struct {
	Hub      string `yaml:"hub" json:"hub"`                               // hf, pytorch, tfhub, modelscope, local
	ID       string `yaml:"id" json:"id"`                                 // hub id, e.g. google-bert/bert-base-uncased
	Revision string `yaml:"revision,omitempty" json:"revision,omitempty"` // resolved, immutable (commit sha, version)
	URL      string `yaml:"url,omitempty" json:"url,omitempty"`
	License  string `yaml:"license,omitempty" json:"license,omitempty"`
	// Created is the source revision's time (RFC 3339); it pins the package's created annotation.
	Created string `yaml:"created,omitempty" json:"created,omitempty"`
}

// Framework is the framework the model was trained in.
type Framework struct {
	Name    string `yaml:"name" json:"name"` // pytorch, tensorflow, onnx, transformers...
	Version string `yaml:"version,omitempty" json:"version,omitempty"`
}

// Format is the format of the packaged model file.
type Format struct {
	Name      string `yaml:"name" json:"name"` // onnx
	Opset     int    `yaml:"opset,omitempty" json:"opset,omitempty"`
	IRVersion int    `yaml:"irVersion,omitempty" json:"irVersion,omitempty"`
	Model     string `yaml:"model,omitempty" json:"model,omitempty"` // path of the model file, default model.onnx
	// Variant and SourceFile say which of a repository's ONNX exports this is:
	// fp32, fp16, q4, quantized... and its path there (onnx/model_q4.onnx).
	Variant    string `yaml:"variant,omitempty" json:"variant,omitempty"`
	SourceFile string `yaml:"sourceFile,omitempty" json:"sourceFile,omitempty"`
	// Converter is the backend that wrote the model (native, local, docker) and ConverterVersion its version.
	Converter        string `yaml:"converter,omitempty" json:"converter,omitempty"`
	ConverterVersion string `yaml:"converterVersion,omitempty" json:"converterVersion,omitempty"`
}

// IO is the model's input/output schema, read from the ONNX graph.
type IO struct {
	Inputs  []Tensor `yaml:"inputs" json:"inputs"`
	Outputs []Tensor `yaml:"outputs" json:"outputs"`
}

// Tensor describes one graph input or output.
type Tensor struct {
	Name  string `yaml:"name" json:"name"`
	DType string `yaml:"dtype" json:"dtype"` // ONNX element type in lower case: float32, int64, float16, bfloat16, string, bool...
	Shape []Dim  `yaml:"shape" json:"shape"`
}

// Dim is one dimension: a fixed size, or a symbolic name ("batch", "sequence"),
// or unknown (Size -1, no name).
type Dim struct {
	Size int64
	Name string
}

// Symbolic reports whether the dimension is not a fixed size.
func (d Dim) Symbolic() bool { return d.Name != "" || d.Size < 0 }

func (d Dim) String() string {
	if d.Name != "" {
		return d.Name
	}
	if d.Size < 0 {
		return "?"
	}
	return strconv.FormatInt(d.Size, 10)
}

func (d Dim) MarshalYAML() (any, error) {
	if d.Name != "" {
		return d.Name, nil
	}
	if d.Size < 0 {
		return "?", nil
	}
	return d.Size, nil
}

func (d *Dim) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: a dimension is a number or a name", n.Line)
	}
	return d.parse(n.Value, n.Tag == "!!int")
}

func (d Dim) MarshalJSON() ([]byte, error) {
	v, _ := d.MarshalYAML()
	return json.Marshal(v)
}

func (d *Dim) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	switch x := v.(type) {
	case float64:
		return d.parse(strconv.FormatFloat(x, 'f', -1, 64), true)
	case string:
		return d.parse(x, false)
	}
	return fmt.Errorf("a dimension is a number or a name, not %s", b)
}

func (d *Dim) parse(s string, isInt bool) error {
	if isInt {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < -1 {
			return fmt.Errorf("dimension %q is not a size", s)
		}
		*d = Dim{Size: n}
		return nil
	}
	if s == "?" || s == "" {
		*d = Dim{Size: -1}
		return nil
	}
	*d = Dim{Size: -1, Name: s}
	return nil
}

// Preprocessing says how to turn user input into tensors and back.
type Preprocessing struct {
	Tokenizer *Tokenizer `yaml:"tokenizer,omitempty" json:"tokenizer,omitempty"`
	Image     *Image     `yaml:"image,omitempty" json:"image,omitempty"`
}

// Tokenizer names the tokenizer files in the package.
type Tokenizer struct {
	Type      string   `yaml:"type,omitempty" json:"type,omitempty"` // wordpiece, bpe, unigram
	Files     []string `yaml:"files" json:"files"`                   // tokenizer.json, tokenizer_config.json, vocab.txt...
	MaxLength int      `yaml:"maxLength,omitempty" json:"maxLength,omitempty"`
	// ChatTemplate: tokenizer_config.json has a chat_template or chat_template.jinja
	// is there, so the model takes chat messages (OpenAI /v1/chat/completions).
	ChatTemplate bool `yaml:"chatTemplate,omitempty" json:"chatTemplate,omitempty"`
}

// Image is image preprocessing: resize to Size, scale to [0,1], normalise.
type Image struct {
	Size   []int     `yaml:"size" json:"size"` // [height, width]
	Mean   []float64 `yaml:"mean,omitempty" json:"mean,omitempty"`
	Std    []float64 `yaml:"std,omitempty" json:"std,omitempty"`
	Layout string    `yaml:"layout,omitempty" json:"layout,omitempty"` // NCHW (default) or NHWC
}

// Resources is what the model costs.
type Resources struct {
	Bytes      int64 `yaml:"bytes" json:"bytes"`
	Parameters int64 `yaml:"parameters,omitempty" json:"parameters,omitempty"`
}

// Validation records the conversion check: ONNX Runtime against the source framework.
type Validation struct {
	Reference  string  `yaml:"reference" json:"reference"` // framework compared against, e.g. torch 1.13.1
	MaxAbsDiff float64 `yaml:"maxAbsDiff" json:"maxAbsDiff"`
	Tolerance  float64 `yaml:"tolerance" json:"tolerance"`
	Passed     bool    `yaml:"passed" json:"passed"`
	// Method: reference-run (this model compared with its framework) or
	// converter-tests (no framework here; the converter's own numerics tests vouch for it).
	Method string `yaml:"method,omitempty" json:"method,omitempty"`
}

// File roles.
const (
	RoleModel     = "model"     // model.onnx
	RoleWeights   = "weights"   // external data of model.onnx
	RoleConfig    = "config"    // config.json, preprocessor config
	RoleTokenizer = "tokenizer" // tokenizer files
	RoleOriginal  = "original"  // the original framework files, under original/
	RoleDoc       = "doc"       // README, LICENSE
	RoleCode      = "code"
)

// File is one file of the package.
type File struct {
	Path   string `yaml:"path" json:"path"` // relative, '/' separators
	Role   string `yaml:"role" json:"role"`
	Digest string `yaml:"digest" json:"digest"`
	Size   int64  `yaml:"size" json:"size"`
}

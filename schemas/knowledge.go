package schemas

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

// What the toolchain knows about models, in one place: the adapters, the
// converter (Go and its Python script), the packer and the runtime all read
// it from here, so that they cannot disagree about a model.

// Tasks are Hugging Face pipeline tags, as manifest.yaml's task says them.
const (
	TaskTextClassification  = "text-classification"
	TaskTokenClassification = "token-classification"
	TaskQuestionAnswering   = "question-answering"
	TaskFillMask            = "fill-mask"
	TaskTextGeneration      = "text-generation"
	TaskText2TextGeneration = "text2text-generation"
	TaskImageClassification = "image-classification"
	TaskObjectDetection     = "object-detection"
	TaskMultipleChoice      = "multiple-choice"
	TaskFeatureExtraction   = "feature-extraction"
)

// archTasks maps a transformers architecture's suffix to its pipeline task;
// the first match wins, so the bare "Model" (a base encoder) comes last.
var archTasks = []struct{ suffix, task string }{
	{"ForSequenceClassification", TaskTextClassification},
	{"ForTokenClassification", TaskTokenClassification},
	{"ForQuestionAnswering", TaskQuestionAnswering},
	{"ForMaskedLM", TaskFillMask},
	{"ForCausalLM", TaskTextGeneration},
	{"ForConditionalGeneration", TaskText2TextGeneration},
	{"ForImageClassification", TaskImageClassification},
	{"ForObjectDetection", TaskObjectDetection},
	{"ForMultipleChoice", TaskMultipleChoice},
	{"LMHeadModel", TaskTextGeneration}, // GPT2LMHeadModel and kin: a language model, not a bare encoder
	{"Model", TaskFeatureExtraction},
}

// TaskFromArchitectures is the task of a transformers model from config.json's
// architectures (BertForSequenceClassification → text-classification), "" when
// none is known.
func TaskFromArchitectures(archs []string) string {
	for _, a := range archs {
		for _, at := range archTasks {
			if strings.HasSuffix(a, at.suffix) {
				return at.task
			}
		}
	}
	return ""
}

// TransformersHead is how a transformers checkpoint is exported for a task:
// the transformers auto class that loads the reference model and the task
// name optimum's exporter takes, so that both build the same head.
type TransformersHead struct {
	AutoClass   string `json:"auto_class"`
	OptimumTask string `json:"optimum_task"`
}

var transformersHeads = map[string]TransformersHead{
	TaskTextClassification:     {"AutoModelForSequenceClassification", TaskTextClassification},
	"sentiment-analysis":       {"AutoModelForSequenceClassification", TaskTextClassification},
	"zero-shot-classification": {"AutoModelForSequenceClassification", TaskTextClassification},
	TaskTokenClassification:    {"AutoModelForTokenClassification", TaskTokenClassification},
	TaskFillMask:               {"AutoModelForMaskedLM", TaskFillMask},
	TaskQuestionAnswering:      {"AutoModelForQuestionAnswering", TaskQuestionAnswering},
	TaskImageClassification:    {"AutoModelForImageClassification", TaskImageClassification},
	TaskFeatureExtraction:      {"AutoModel", TaskFeatureExtraction},
	"sentence-similarity":      {"AutoModel", TaskFeatureExtraction},
}

// HeadForTask is the export of a transformers checkpoint for task; tasks
// without a head of their own get the bare model (last_hidden_state).
func HeadForTask(task string) TransformersHead {
	if h, ok := transformersHeads[task]; ok {
		return h
	}
	return transformersHeads[TaskFeatureExtraction]
}

// HFConfig is what axon reads from a transformers config.json: what a
// package's manifest.yaml takes from it, and what the runtime's pipelines need.
type HFConfig struct {
	Architectures []string          `json:"architectures"`
	ID2Label      map[string]string `json:"id2label"`
	ModelType     string            `json:"model_type"`
	MaxPosition   int               `json:"max_position_embeddings"`
	EOSTokenID    json.RawMessage   `json:"eos_token_id"`
	AttentionShape
}

// AttentionShape is what sizes a decoder's KV cache, under the names of
// most architectures and of GPT-2 (n_head, n_embd).
type AttentionShape struct {
	Heads   int `json:"num_attention_heads"`
	KVHeads int `json:"num_key_value_heads"`
	Hidden  int `json:"hidden_size"`
	HeadDim int `json:"head_dim"`
	NHead   int `json:"n_head"`
	NEmbd   int `json:"n_embd"`
}

// ReadHFConfig reads dir/config.json; a directory without one gives an empty
// config, a config.json that is not a JSON object an error.
func ReadHFConfig(dir string) (*HFConfig, error) {
	var cfg HFConfig
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &cfg, nil
	case err != nil:
		return nil, fmt.Errorf("config.json: %w", err)
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return nil, fmt.Errorf("config.json: %w", err)
	}
	return &cfg, nil
}

// Labels are the class names of id2label by class id (nil without one); an
// id2label whose keys are not the ids 0..n-1 is an error.
func (c *HFConfig) Labels() ([]string, error) {
	if len(c.ID2Label) == 0 {
		return nil, nil
	}
	labels := make([]string, len(c.ID2Label))
	for k, v := range c.ID2Label {
		i, err := strconv.Atoi(k)
		if err != nil || i < 0 || i >= len(c.ID2Label) {
			return nil, fmt.Errorf("config.json: id2label key %q is no class index 0..%d", k, len(c.ID2Label)-1)
		}
		labels[i] = v
	}
	return labels, nil
}

// EOS is the first end-of-sequence token id (eos_token_id is a number or a
// list), -1 when config.json names none.
func (c *HFConfig) EOS() int64 {
	var one int64
	var many []int64
	switch {
	case string(bytes.TrimSpace(c.EOSTokenID)) == "null":
	case json.Unmarshal(c.EOSTokenID, &one) == nil:
		return one
	case json.Unmarshal(c.EOSTokenID, &many) == nil && len(many) > 0:
		return many[0]
	}
	return -1
}

// Model kinds: how a model's files are turned into ONNX.
const (
	KindONNX         = "onnx"
	KindTorchScript  = "torchscript"
	KindHubconf      = "hubconf"
	KindTransformers = "transformers"
	KindSavedModel   = "savedmodel"
)

// Detect guesses the model kind and framework from a file list (paths
// relative to dir, '/' separated): an ONNX file, a PyTorch Hub hubconf.py
// (at the top or one directory down, as in a GitHub zipball), a SavedModel,
// a transformers config.json with its weights, a TorchScript archive (read
// from dir to tell it from a plain state dict). It returns "" when nothing fits.
func Detect(dir string, files []string) (kind, framework string) {
	has := func(pred func(f string) bool) bool {
		for _, f := range files {
			if pred(strings.ReplaceAll(f, "\\", "/")) {
				return true
			}
		}
		return false
	}
	switch {
	case has(func(f string) bool { return strings.HasSuffix(strings.ToLower(f), ".onnx") }):
		return KindONNX, "onnx"
	case has(func(f string) bool { return path.Base(f) == "hubconf.py" && strings.Count(f, "/") <= 1 }):
		return KindHubconf, "pytorch"
	case has(func(f string) bool { return path.Base(f) == "saved_model.pb" }):
		return KindSavedModel, "tensorflow"
	case has(func(f string) bool { return f == "config.json" }) && has(func(f string) bool {
		b := path.Base(f)
		return strings.HasSuffix(b, ".safetensors") || b == "pytorch_model.bin" || strings.HasPrefix(b, "pytorch_model-")
	}):
		return KindTransformers, "transformers"
	case dir != "" && has(func(f string) bool { return IsTorchScript(filepath.Join(dir, filepath.FromSlash(f))) }):
		return KindTorchScript, "pytorch"
	}
	return "", ""
}

// IsTorchScript reports whether the file p is a TorchScript archive: a zip
// holding code/ and constants.pkl (a plain torch.save state dict has neither).
func IsTorchScript(p string) bool {
	switch strings.ToLower(path.Ext(p)) {
	case ".pt", ".pth", ".torchscript", ".ptl", ".zip":
	default:
		return false
	}
	z, err := zip.OpenReader(p)
	if err != nil {
		return false
	}
	defer z.Close()
	var code, consts bool
	for _, f := range z.File {
		code = code || strings.Contains(f.Name, "/code/")
		consts = consts || strings.HasSuffix(f.Name, "/constants.pkl")
	}
	return code && consts
}

// TokenizerFiles are the files a transformers tokenizer is made of.
var TokenizerFiles = []string{"tokenizer.json", "tokenizer_config.json", "vocab.txt", "vocab.json", "merges.txt",
	"special_tokens_map.json", "added_tokens.json", "spiece.model", "sentencepiece.bpe.model", "tokenizer.model",
	"chat_template.jinja"}

// IsTokenizerFile reports whether a file name (no directory) is one of
// TokenizerFiles, whatever its case.
func IsTokenizerFile(name string) bool {
	for _, t := range TokenizerFiles {
		if strings.EqualFold(name, t) {
			return true
		}
	}
	return false
}

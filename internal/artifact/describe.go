package artifact

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/mlos-foundation/axon/schemas"
)

// DescribeFromConfig fills the fields of m that are still empty from the
// Hugging Face files in dir: task (from config.json's architectures), labels
// (id2label, by class id), tokenizer (files, type, maxLength) and image
// preprocessing (preprocessor_config.json). Whatever m already says is kept,
// so a user's manifest.yaml always wins. `axon install` and `axon pack` both
// describe a model this way, so the same directory gets the same manifest.
func DescribeFromConfig(dir string, m *schemas.Manifest) error {
	cfg, err := schemas.ReadHFConfig(dir)
	if err != nil {
		return err
	}
	if m.Task == "" {
		m.Task = schemas.TaskFromArchitectures(cfg.Architectures)
	}
	if len(m.Labels) == 0 {
		labels, err := cfg.Labels()
		if err != nil {
			return err
		}
		m.Labels = labels
	}
	var tok *schemas.Tokenizer
	var img *schemas.Image
	if m.Preprocessing == nil || m.Preprocessing.Tokenizer == nil {
		tok = tokenizerOf(dir)
	}
	if m.Preprocessing == nil || m.Preprocessing.Image == nil {
		img = imagePre(dir)
	}
	if tok == nil && img == nil {
		return nil
	}
	if m.Preprocessing == nil {
		m.Preprocessing = &schemas.Preprocessing{}
	} else {
		// m may share its Preprocessing with the caller's manifest: fill a copy.
		p := *m.Preprocessing
		m.Preprocessing = &p
	}
	if tok != nil {
		m.Preprocessing.Tokenizer = tok
	}
	if img != nil {
		m.Preprocessing.Image = img
	}
	return nil
}

func tokenizerOf(dir string) *schemas.Tokenizer {
	var files []string
	for _, n := range schemas.TokenizerFiles {
		if fi, err := os.Stat(filepath.Join(dir, n)); err == nil && fi.Mode().IsRegular() {
			files = append(files, n)
		}
	}
	if len(files) == 0 {
		return nil
	}
	sort.Strings(files)
	tok := &schemas.Tokenizer{Files: files}
	if b, err := os.ReadFile(filepath.Join(dir, "tokenizer.json")); err == nil {
		var tj struct {
			Model struct {
				Type string `json:"type"`
			} `json:"model"`
		}
		if json.Unmarshal(b, &tj) == nil {
			tok.Type = strings.ToLower(tj.Model.Type)
		}
	}
	if tok.Type == "" {
		switch {
		case slices.Contains(files, "vocab.txt"):
			tok.Type = "wordpiece"
		case slices.Contains(files, "merges.txt"):
			tok.Type = "bpe"
		case slices.Contains(files, "spiece.model") || slices.Contains(files, "sentencepiece.bpe.model"):
			tok.Type = "unigram"
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "tokenizer_config.json")); err == nil {
		var tc struct {
			ModelMaxLength float64         `json:"model_max_length"`
			ChatTemplate   json.RawMessage `json:"chat_template"`
		}
		// Some configs say 1e30 for "no limit".
		if json.Unmarshal(b, &tc) == nil && tc.ModelMaxLength > 0 && tc.ModelMaxLength <= 1<<20 {
			tok.MaxLength = int(tc.ModelMaxLength)
		}
		if t := strings.TrimSpace(string(tc.ChatTemplate)); t != "" && t != "null" && t != `""` && t != "[]" {
			tok.ChatTemplate = true
		}
	}
	// transformers >= 4.49 saves the template as its own file.
	if slices.Contains(files, "chat_template.jinja") {
		tok.ChatTemplate = true
	}
	return tok
}

// imagePre reads a transformers preprocessor_config.json.
func imagePre(dir string) *schemas.Image {
	b, err := os.ReadFile(filepath.Join(dir, "preprocessor_config.json"))
	if err != nil {
		return nil
	}
	var pc struct {
		Size      json.RawMessage `json:"size"`
		CropSize  json.RawMessage `json:"crop_size"`
		ImageMean []float64       `json:"image_mean"`
		ImageStd  []float64       `json:"image_std"`
	}
	if json.Unmarshal(b, &pc) != nil {
		return nil
	}
	size := parseSize(pc.CropSize)
	if size == nil {
		size = parseSize(pc.Size)
	}
	if size == nil {
		return nil
	}
	return &schemas.Image{Size: size, Mean: pc.ImageMean, Std: pc.ImageStd}
}

// parseSize reads a size that is a number, {height, width} or {shortest_edge}.
func parseSize(raw json.RawMessage) []int {
	if len(raw) == 0 {
		return nil
	}
	var n int
	if json.Unmarshal(raw, &n) == nil && n > 0 {
		return []int{n, n}
	}
	var m map[string]int
	if json.Unmarshal(raw, &m) == nil {
		h, w, edge := m["height"], m["width"], m["shortest_edge"]
		if h > 0 && w > 0 {
			return []int{h, w}
		}
		if edge > 0 {
			return []int{edge, edge}
		}
	}
	return nil
}

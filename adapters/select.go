package adapters

import (
	"path"
	"regexp"
	"sort"
	"strings"
)

// Select picks the files a model needs from a repository listing: a shipped ONNX
// export when there is one (with its external data), otherwise the weights of one
// framework (safetensors over pickles), always the configuration, tokenizer and
// documentation files. include/exclude globs (with ** across directories) apply
// on top: include adds matching files back, exclude removes them.
func Select(files []string, include, exclude []string) []string {
	has := map[string]bool{}
	for _, f := range files {
		has[f] = true
	}
	onnxDir := ""
	switch {
	case has["onnx/model.onnx"]:
		onnxDir = "onnx/"
	case has["model.onnx"]:
		onnxDir = "."
	}
	hasSafetensors := false
	for _, f := range files {
		if strings.HasSuffix(f, ".safetensors") && !strings.Contains(f, "/") {
			hasSafetensors = true
		}
	}
	return pick(files, include, exclude, func(f string) bool { return wanted(f, onnxDir, hasSafetensors) })
}

// pick keeps the files keep wants, then those include matches, less those
// exclude matches; sorted.
func pick(files, include, exclude []string, keep func(string) bool) []string {
	var out []string
	for _, f := range files {
		if (keep(f) || matchAny(include, f)) && !matchAny(exclude, f) {
			out = append(out, f)
		}
	}
	sort.Strings(out)
	return out
}

// other frameworks' or runtimes' duplicates of the same weights.
var skipExt = []string{".h5", ".msgpack", ".ot", ".tflite", ".mlmodel", ".gguf", ".ggml", ".npz", ".pb.gz"}

func wanted(f, onnxDir string, hasSafetensors bool) bool {
	base := path.Base(f)
	ext := strings.ToLower(path.Ext(f))
	if strings.HasPrefix(base, ".git") {
		return false
	}
	for _, e := range skipExt {
		if strings.HasSuffix(strings.ToLower(f), e) {
			return false
		}
	}
	top := !strings.Contains(f, "/")
	if strings.HasPrefix(f, "onnx/") || ext == ".onnx" || ext == ".onnx_data" || strings.HasSuffix(base, ".onnx.data") {
		if onnxDir == "" {
			return false
		}
		// Only the main export and its external data; quantised and
		// fp16 variants are duplicates.
		dir := path.Dir(f) + "/"
		if onnxDir == "." {
			dir = path.Dir(f)
		}
		if dir != onnxDir {
			return false
		}
		return base == "model.onnx" || strings.HasPrefix(base, "model.onnx") || ext == ".onnx_data" || ext == ".data"
	}
	if strings.HasPrefix(f, "openvino/") || strings.HasPrefix(f, "coreml/") || strings.HasPrefix(f, "tflite/") {
		return false
	}
	switch ext {
	case ".json", ".txt", ".model", ".md", ".py", ".yaml", ".yml", ".jinja":
		return top || strings.HasPrefix(f, "onnx/") && onnxDir == "onnx/" && ext == ".json"
	}
	if base == "LICENSE" || strings.HasPrefix(base, "LICENSE") || base == "README" {
		return top
	}
	weights := ext == ".safetensors" || ext == ".bin" || ext == ".pt" || ext == ".pth" || ext == ".ckpt"
	if weights {
		if onnxDir != "" {
			return false
		}
		if strings.HasPrefix(base, "tf_") || strings.HasPrefix(base, "flax_") {
			return false
		}
		if hasSafetensors && ext != ".safetensors" {
			return false
		}
		return top
	}
	// TensorFlow SavedModel parts
	if base == "saved_model.pb" || strings.HasPrefix(f, "variables/") || strings.Contains(f, "/variables/") {
		return onnxDir == ""
	}
	return false
}

func matchAny(globs []string, f string) bool {
	for _, g := range globs {
		if Glob(g, f) {
			return true
		}
	}
	return false
}

// Glob matches a slash-separated path against a pattern where * and ? stay
// within one path element and ** spans directories. A pattern without '/'
// also matches the base name.
func Glob(pattern, name string) bool {
	if pattern == "" {
		return false
	}
	if !strings.Contains(pattern, "/") && !strings.Contains(pattern, "**") {
		if ok, _ := path.Match(pattern, path.Base(name)); ok {
			return true
		}
	}
	re, err := globRE(pattern)
	if err != nil {
		return false
	}
	return re.MatchString(name)
}

func globRE(p string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch c {
		case '*':
			if i+1 < len(p) && p[i+1] == '*' {
				i++
				if i+1 < len(p) && p[i+1] == '/' {
					i++
					b.WriteString("(?:.*/)?")
				} else {
					b.WriteString(".*")
				}
			} else {
				b.WriteString("[^/]*")
			}
		case '?':
			b.WriteString("[^/]")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

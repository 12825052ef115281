package reference

import "strings"

// hubSpellings are the ways other tools write a hub model, mapped to axon's hub
// names: hf://ORG/NAME (huggingface_hub, vLLM), hf.co/ORG/NAME and
// huggingface.co/ORG/NAME (Ollama, URLs), modelscope:// and ms:// (ModelScope).
var hubSpellings = []struct{ prefix, hub string }{
	{"hf://", "hf"},
	{"hf.co/", "hf"},
	{"huggingface.co/", "hf"},
	{"https://huggingface.co/", "hf"},
	{"https://hf.co/", "hf"},
	{"modelscope://", "modelscope"},
	{"ms://", "modelscope"},
	{"modelscope.cn/models/", "modelscope"},
	{"https://modelscope.cn/models/", "modelscope"},
	{"https://www.modelscope.cn/models/", "modelscope"},
}

// HubSpelling rewrites a hub model reference written as other tools write it
// into axon's HUB/ID[@VERSION] (hf.co/Qwen/Qwen3-0.6B → hf/Qwen/Qwen3-0.6B); ok is
// false when s is not one of those spellings. The id keeps its case: hubs are
// case-sensitive; package names are lower-cased where they are made.
func HubSpelling(s string) (string, bool) {
	for _, sp := range hubSpellings {
		rest, ok := strings.CutPrefix(s, sp.prefix)
		if !ok {
			continue
		}
		rest = strings.TrimSuffix(rest, "/")
		if rest == "" {
			return "", false
		}
		return sp.hub + "/" + rest, true
	}
	return "", false
}

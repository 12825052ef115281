// Package chattemplate renders a model's chat template the way Hugging Face
// transformers does (tokenizer.apply_chat_template with tokenize=False), so the
// prompt a served model sees is byte-identical to the one it was trained on.
//
// Templates are Jinja2. They are rendered with github.com/ardanlabs/jinja, a
// maintained Go Jinja engine built for LLM chat templates that applies
// transformers' environment (trim_blocks, lstrip_blocks, loop controls), with
// transformers' own tojson filter, raise_exception and strftime_now supplied here.
// (gonja v2.9.1 was tried first: it cannot parse a conditional expression inside
// parentheses, which Gemma 3's template uses.)
//
// Key order: Python dicts keep insertion order and tojson prints it. Go maps
// have none, so plain maps are ordered the way OpenAI clients write the keys
// (role, content, ..., type, function, name, description, parameters...) and
// the rest sorted; pass Object values (DecodeJSON of the request body) where the
// exact order of user-chosen keys (tool parameter names, arguments) matters.
package chattemplate

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ardanlabs/jinja"
)

// ErrNoTemplate is returned by Load when the directory holds no chat template
// (or not the named one).
var ErrNoTemplate = errors.New("no chat template")

// TemplateError is what a template raises with raise_exception(msg): the
// conversation does not fit the template (wrong role order, unsupported content).
// Servers answer it with 400.
type TemplateError struct{ Msg string }

func (e *TemplateError) Error() string { return e.Msg }

// Options are the extra variables a render gets besides the messages.
type Options struct {
	// AddGenerationPrompt appends the tokens that start an assistant turn.
	AddGenerationPrompt bool
	// Tools are OpenAI-style tool definitions; nil or empty passes tools=None.
	Tools []map[string]any
	// Extra are further template variables (enable_thinking, date_string...),
	// passed like apply_chat_template's **kwargs; they override the special tokens.
	Extra map[string]any
}

// Template is one parsed chat template with the special tokens it is rendered with.
type Template struct {
	Name   string // "default" or the named template's name
	Source string // the Jinja2 text
	tmpl   *jinja.Template
	// special are the tokenizer's special tokens as transformers' special_tokens_map
	// passes them (bos_token, eos_token, ...), only the ones that are set.
	special map[string]any
}

// BOS is the tokenizer's beginning-of-sequence token ("" when none).
func (t *Template) BOS() string { s, _ := t.special["bos_token"].(string); return s }

// EOS is the tokenizer's end-of-sequence token ("" when none).
func (t *Template) EOS() string { s, _ := t.special["eos_token"].(string); return s }

// Load reads the chat template of a tokenizer directory: chat_template.jinja
// (how transformers ≥ 4.49 saves it) or the chat_template of tokenizer_config.json,
// a string or a list of {"name", "template"}. name "" means "default" (or the only
// template there is); other names come from that list or additional_chat_templates/NAME.jinja.
func Load(dir string, name string) (*Template, error) {
	cfg := map[string]json.RawMessage{}
	cfgPath := filepath.Join(dir, "tokenizer_config.json")
	data, err := os.ReadFile(cfgPath)
	switch {
	case err == nil:
		if err := json.Unmarshal(data, &cfg); err != nil {
			return nil, fmt.Errorf("chat template: parse %s: %w", cfgPath, err)
		}
	case errors.Is(err, os.ErrNotExist):
	default:
		return nil, fmt.Errorf("chat template: %w", err)
	}
	special := specialTokens(cfg)

	src, tname, err := findSource(dir, name, cfg)
	if err != nil {
		return nil, err
	}
	t, err := Parse(src, special)
	if err != nil {
		return nil, fmt.Errorf("chat template %q in %s: %w", tname, dir, err)
	}
	t.Name = tname
	return t, nil
}

func findSource(dir, name string, cfg map[string]json.RawMessage) (src, tname string, err error) {
	want := name
	if want == "" {
		want = "default"
	}
	read := func(p string) (string, bool, error) {
		b, err := os.ReadFile(p)
		if errors.Is(err, os.ErrNotExist) {
			return "", false, nil
		}
		if err != nil {
			return "", false, fmt.Errorf("chat template: %w", err)
		}
		return string(b), true, nil
	}
	if want == "default" {
		if s, ok, err := read(filepath.Join(dir, "chat_template.jinja")); err != nil || ok {
			return s, want, err
		}
	}
	var named []struct {
		Name     string `json:"name"`
		Template string `json:"template"`
	}
	if raw, ok := cfg["chat_template"]; ok && string(raw) != "null" {
		var s string
		if err := json.Unmarshal(raw, &s); err == nil {
			if want == "default" {
				return s, want, nil
			}
		} else if err := json.Unmarshal(raw, &named); err != nil {
			return "", "", fmt.Errorf("chat template: tokenizer_config.json chat_template is neither a string nor a list of {name, template}")
		}
	}
	for _, n := range named {
		if n.Name == want {
			return n.Template, want, nil
		}
	}
	if name == "" && len(named) == 1 {
		return named[0].Template, named[0].Name, nil
	}
	if s, ok, err := read(filepath.Join(dir, "additional_chat_templates", filepath.Base(want)+".jinja")); err != nil || ok {
		return s, want, err
	}
	// Processors of multimodal models keep it in chat_template.json.
	if want == "default" {
		if s, ok, err := read(filepath.Join(dir, "chat_template.json")); err != nil {
			return "", "", err
		} else if ok {
			var v struct {
				ChatTemplate string `json:"chat_template"`
			}
			if json.Unmarshal([]byte(s), &v) == nil && v.ChatTemplate != "" {
				return v.ChatTemplate, want, nil
			}
		}
	}
	if len(named) > 0 {
		names := make([]string, len(named))
		for i, n := range named {
			names[i] = n.Name
		}
		return "", "", fmt.Errorf("%w named %q in %s (it has: %s)", ErrNoTemplate, want, dir, strings.Join(names, ", "))
	}
	if name != "" && name != "default" {
		return "", "", fmt.Errorf("%w named %q in %s", ErrNoTemplate, name, dir)
	}
	return "", "", fmt.Errorf("%w in %s (no chat_template in tokenizer_config.json, no chat_template.jinja)", ErrNoTemplate, dir)
}

// specialTokenKeys are the attributes transformers' special_tokens_map holds.
var specialTokenKeys = []string{"bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token", "additional_special_tokens"}

// specialTokens reads the special tokens of tokenizer_config.json: each a string
// or an AddedToken object {"content": ...}; additional_special_tokens a list of them.
func specialTokens(cfg map[string]json.RawMessage) map[string]any {
	tokenText := func(raw json.RawMessage) (string, bool) {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s, true
		}
		var obj struct {
			Content *string `json:"content"`
		}
		if json.Unmarshal(raw, &obj) == nil && obj.Content != nil {
			return *obj.Content, true
		}
		return "", false
	}
	out := map[string]any{}
	for _, k := range specialTokenKeys {
		raw, ok := cfg[k]
		if !ok {
			continue
		}
		if k == "additional_special_tokens" {
			var list []json.RawMessage
			if json.Unmarshal(raw, &list) != nil || len(list) == 0 {
				continue
			}
			toks := make([]any, 0, len(list))
			for _, r := range list {
				if s, ok := tokenText(r); ok {
					toks = append(toks, s)
				}
			}
			out[k] = toks
			continue
		}
		if s, ok := tokenText(raw); ok {
			out[k] = s
		}
	}
	return out
}

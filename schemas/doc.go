package schemas

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// FieldDoc documents one field of manifest.yaml, read from the JSON Schema.
type FieldDoc struct {
	Path        string `json:"path"` // e.g. io.inputs[].dtype
	Type        string `json:"type"`
	Required    bool   `json:"required"`
	Description string `json:"description,omitempty"`
}

// Fields lists every field of manifest.yaml in schema order (parents before
// children), for generated documentation.
func Fields() ([]FieldDoc, error) {
	var root map[string]json.RawMessage
	if err := json.Unmarshal(SchemaJSON, &root); err != nil {
		return nil, fmt.Errorf("manifest schema: %w", err)
	}
	var defs map[string]json.RawMessage
	json.Unmarshal(root["$defs"], &defs)
	var defsAny map[string]any
	json.Unmarshal(root["$defs"], &defsAny)
	var out []FieldDoc
	var walk func(raw json.RawMessage, path string) error
	walk = func(raw json.RawMessage, path string) error {
		var n map[string]json.RawMessage
		if err := json.Unmarshal(raw, &n); err != nil {
			return nil // not an object schema
		}
		if r, ok := n["$ref"]; ok {
			var ref string
			json.Unmarshal(r, &ref)
			if d, ok := defs[strings.TrimPrefix(ref, "#/$defs/")]; ok {
				return walk(d, path)
			}
		}
		var req []string
		json.Unmarshal(n["required"], &req)
		keys, err := keysInOrder(n["properties"])
		if err != nil {
			return err
		}
		var props map[string]json.RawMessage
		json.Unmarshal(n["properties"], &props)
		for _, name := range keys {
			var child map[string]any
			json.Unmarshal(props[name], &child)
			p := name
			if path != "" {
				p = path + "." + name
			}
			out = append(out, FieldDoc{Path: p, Type: typeOf(child, defsAny), Required: slices.Contains(req, name), Description: describe(child, defsAny)})
			if err := walk(props[name], p); err != nil {
				return err
			}
			var c map[string]json.RawMessage
			json.Unmarshal(props[name], &c)
			if items, ok := c["items"]; ok {
				if err := walk(items, p+"[]"); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(SchemaJSON, ""); err != nil {
		return nil, fmt.Errorf("manifest schema: %w", err)
	}
	return out, nil
}

// keysInOrder lists an object's keys as they appear in the text.
func keysInOrder(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		keys = append(keys, fmt.Sprint(tok))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// Markdown renders Fields as a Markdown table.
func Markdown() (string, error) {
	fields, err := Fields()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("| field | type | required | description |\n|---|---|---|---|\n")
	for _, f := range fields {
		req := ""
		if f.Required {
			req = "yes"
		}
		cell := func(s string) string { return strings.ReplaceAll(s, "|", "\\|") }
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", f.Path, cell(f.Type), req, cell(f.Description))
	}
	return b.String(), nil
}

func typeOf(n map[string]any, defs map[string]any) string {
	if ref, ok := n["$ref"].(string); ok {
		return strings.TrimPrefix(ref, "#/$defs/")
	}
	if c, ok := n["const"]; ok {
		return fmt.Sprintf("`%v`", c)
	}
	if e, ok := n["enum"].([]any); ok {
		var s []string
		for _, v := range e {
			s = append(s, fmt.Sprint(v))
		}
		return "one of " + strings.Join(s, ", ")
	}
	if alts, ok := n["anyOf"].([]any); ok {
		_ = alts
		return "string (see description)"
	}
	t, _ := n["type"].(string)
	if t == "array" {
		if items, ok := n["items"].(map[string]any); ok {
			if it := typeOf(items, defs); it != "" {
				return "list of " + it
			}
		}
		return "list"
	}
	if p, ok := n["pattern"].(string); ok {
		return fmt.Sprintf("%s matching `%s`", t, p)
	}
	if t == "" {
		if _, ok := n["oneOf"]; ok {
			return "integer or string"
		}
	}
	return t
}

func describe(n map[string]any, defs map[string]any) string {
	if d, ok := n["description"].(string); ok {
		return d
	}
	if ref, ok := n["$ref"].(string); ok {
		if d, ok := defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any); ok {
			if s, ok := d["description"].(string); ok {
				return s
			}
		}
	}
	return ""
}

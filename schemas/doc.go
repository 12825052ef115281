package schemas

import (
	"encoding/json"
	"fmt"
	"sort"
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
	var root map[string]any
	if err := json.Unmarshal(SchemaJSON, &root); err != nil {
		return nil, fmt.Errorf("manifest schema: %w", err)
	}
	defs, _ := root["$defs"].(map[string]any)
	var out []FieldDoc
	var walk func(node map[string]any, path string)
	walk = func(node map[string]any, path string) {
		if ref, ok := node["$ref"].(string); ok {
			if d, ok := defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any); ok {
				node = d
			}
		}
		props, _ := node["properties"].(map[string]any)
		req := map[string]bool{}
		if r, ok := node["required"].([]any); ok {
			for _, n := range r {
				req[fmt.Sprint(n)] = true
			}
		}
		for _, name := range orderedKeys(props) {
			child, _ := props[name].(map[string]any)
			p := name
			if path != "" {
				p = path + "." + name
			}
			out = append(out, FieldDoc{Path: p, Type: typeOf(child, defs), Required: req[name], Description: describe(child, defs)})
			walk(child, p)
			if items, ok := child["items"].(map[string]any); ok {
				walk(items, p+"[]")
			}
		}
	}
	walk(root, "")
	return out, nil
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
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", f.Path, f.Type, req, strings.ReplaceAll(f.Description, "|", "\\|"))
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

// orderedKeys keeps the schema file's field order (encoding/json loses it, so
// the order is recovered from where each key first appears in the file).
func orderedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	pos := func(k string) int {
		i := strings.Index(string(SchemaJSON), `"`+k+`":`)
		if i < 0 {
			return len(SchemaJSON)
		}
		return i
	}
	sort.SliceStable(keys, func(i, j int) bool { return pos(keys[i]) < pos(keys[j]) })
	return keys
}

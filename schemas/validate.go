package schemas

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"gopkg.in/yaml.v3"
)

// SchemaJSON is the JSON Schema (draft 2020-12) of manifest.yaml; it is the
// source of truth for validation and for the published format reference.
//
//go:embed manifest.schema.json
var SchemaJSON []byte

// SchemaID is the $id of SchemaJSON.
const SchemaID = "https://axon.mlos.dev/schemas/manifest.v1.json"

var (
	compileOnce sync.Once
	compiled    *jsonschema.Schema
	compileErr  error
	printer     = message.NewPrinter(language.English)
)

func schema() (*jsonschema.Schema, error) {
	compileOnce.Do(func() {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(SchemaJSON))
		if err != nil {
			compileErr = fmt.Errorf("embedded manifest schema: %w", err)
			return
		}
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		if err := c.AddResource(SchemaID, doc); err != nil {
			compileErr = fmt.Errorf("embedded manifest schema: %w", err)
			return
		}
		compiled, compileErr = c.Compile(SchemaID)
	})
	return compiled, compileErr
}

// FieldError is one problem in a manifest, located by its field path
// (e.g. "io.inputs[0].dtype").
type FieldError struct {
	Path    string
	Message string
}

func (e FieldError) String() string {
	if e.Path == "" {
		return e.Message
	}
	return e.Path + ": " + e.Message
}

// ValidationError lists every problem found in a manifest.
type ValidationError struct {
	Errors []FieldError
}

func (e *ValidationError) Error() string {
	if len(e.Errors) == 0 {
		return "invalid manifest"
	}
	var b strings.Builder
	b.WriteString("invalid manifest: ")
	for i, fe := range e.Errors {
		if i > 0 {
			b.WriteString("; ")
		}
		if i == 5 {
			fmt.Fprintf(&b, "and %d more", len(e.Errors)-i)
			break
		}
		b.WriteString(fe.String())
	}
	return b.String()
}

// Parse reads a complete manifest.yaml and validates it against the schema and
// the semantic rules. Errors are a *ValidationError naming the field paths.
func Parse(data []byte) (*Manifest, error) {
	m, err := parse(data, false)
	if err != nil {
		return nil, err
	}
	if err := m.checkSemantics(); err != nil {
		return nil, err
	}
	return m, nil
}

// ParsePartial reads a manifest.yaml that may still lack what packing fills in
// (files, io, resources, format...): every field present must be valid, but
// required fields may be missing and semantic checks are left to Validate.
func ParsePartial(data []byte) (*Manifest, error) {
	return parse(data, true)
}

func parse(data []byte, partial bool) (*Manifest, error) {
	var raw any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, &ValidationError{Errors: []FieldError{{Message: "not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}}}
	}
	if raw == nil {
		raw = map[string]any{}
	}
	inst, err := toJSONValue(raw)
	if err != nil {
		return nil, &ValidationError{Errors: []FieldError{{Message: err.Error()}}}
	}
	if fes := validateValue(inst, partial); len(fes) > 0 {
		return nil, &ValidationError{Errors: fes}
	}
	var m Manifest
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil && !errors.Is(err, io.EOF) {
		return nil, &ValidationError{Errors: []FieldError{{Message: strings.TrimPrefix(err.Error(), "yaml: ")}}}
	}
	return &m, nil
}

// Validate checks a manifest against the schema and the semantic rules.
func (m *Manifest) Validate() error {
	b, err := json.Marshal(m)
	if err != nil {
		return &ValidationError{Errors: []FieldError{{Message: err.Error()}}}
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return &ValidationError{Errors: []FieldError{{Message: err.Error()}}}
	}
	if fes := validateValue(inst, false); len(fes) > 0 {
		return &ValidationError{Errors: fes}
	}
	return m.checkSemantics()
}

// Marshal writes the manifest as YAML (stable field order, so the same
// manifest always gives the same bytes).
func (m *Manifest) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	return buf.Bytes(), nil
}

// ModelPath is the path of the model file in the package.
func (m *Manifest) ModelPath() string {
	if m.Format.Model != "" {
		return m.Format.Model
	}
	return "model.onnx"
}

// toJSONValue turns a decoded YAML value into the value kinds the JSON Schema
// validator understands (through a JSON round trip, so numbers are json.Number).
func toJSONValue(v any) (any, error) {
	if err := checkKeys(v, ""); err != nil {
		return nil, err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("cannot be represented as JSON: %w", err)
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(b))
}

func checkKeys(v any, at string) error {
	switch x := v.(type) {
	case map[any]any:
		return fmt.Errorf("%s: keys must be strings", orRoot(at))
	case map[string]any:
		for k, e := range x {
			if err := checkKeys(e, joinPath(at, k)); err != nil {
				return err
			}
		}
	case []any:
		for i, e := range x {
			if err := checkKeys(e, at+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
	case float64:
		// YAML's .inf/.nan have no JSON form.
		if x != x || x > 1e308 || x < -1e308 {
			return fmt.Errorf("%s: not a finite number", orRoot(at))
		}
	}
	return nil
}

func orRoot(p string) string {
	if p == "" {
		return "(document)"
	}
	return p
}

func joinPath(base, key string) string {
	if base == "" {
		return key
	}
	return base + "." + key
}

func validateValue(inst any, partial bool) []FieldError {
	sch, err := schema()
	if err != nil {
		return []FieldError{{Message: err.Error()}}
	}
	err = sch.Validate(inst)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []FieldError{{Message: err.Error()}}
	}
	var out []FieldError
	seen := map[string]bool{}
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		// A oneOf whose branches all fail says more than its branches do.
		if isAlternatives(e.ErrorKind) || len(e.Causes) == 0 {
			fes := leafErrors(e, partial)
			for _, fe := range fes {
				if k := fe.String(); !seen[k] {
					seen[k] = true
					out = append(out, fe)
				}
			}
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	return out
}

func leafErrors(e *jsonschema.ValidationError, partial bool) []FieldError {
	at := fieldPath(e.InstanceLocation)
	switch k := e.ErrorKind.(type) {
	case *kind.Required:
		if partial {
			return nil
		}
		var fes []FieldError
		for _, name := range k.Missing {
			fes = append(fes, FieldError{Path: joinPath(at, name), Message: "is required"})
		}
		return fes
	case *kind.AdditionalProperties:
		var fes []FieldError
		for _, name := range k.Properties {
			fes = append(fes, FieldError{Path: joinPath(at, name), Message: "unknown field"})
		}
		return fes
	case *kind.OneOf, *kind.AnyOf:
		if strings.HasSuffix(at, "dtype") {
			var got any = "this value"
			if v, ok := lookup(e); ok {
				got = v
			}
			return []FieldError{{Path: at, Message: fmt.Sprintf("%s is not an ONNX element type (float32, int64, float16, bool, string...)", jsonText(got))}}
		}
		return []FieldError{{Path: at, Message: "must be a number (a fixed size) or a name (a symbolic dimension)"}}
	case *kind.Enum:
		return []FieldError{{Path: at, Message: fmt.Sprintf("%s is not one of %s", jsonText(k.Got), jsonText(k.Want))}}
	case *kind.Pattern:
		last := at[strings.LastIndexAny(at, ".]")+1:]
		if rule, ok := patternRules[last]; ok {
			return []FieldError{{Path: at, Message: fmt.Sprintf("%q is not valid: %s", k.Got, rule)}}
		}
		return []FieldError{{Path: at, Message: fmt.Sprintf("%q does not match %s", k.Got, k.Want)}}
	}
	return []FieldError{{Path: at, Message: e.ErrorKind.LocalizedString(printer)}}
}

// patternRules say in words what the schema's patterns mean.
var patternRules = map[string]string{
	"name":      "lower-case letters, digits and . _ - separators, '/' between parts (OCI repository rules)",
	"namespace": "lower-case letters, digits and . _ - separators (OCI repository rules)",
	"version":   "letters, digits, '.', '_' and '-', at most 128 characters, not starting with '.' or '-'",
	"digest":    "write sha256: and 64 lower-case hex digits",
}

func isAlternatives(k jsonschema.ErrorKind) bool {
	switch k.(type) {
	case *kind.OneOf, *kind.AnyOf:
		return true
	}
	return false
}

// lookup finds the offending value in an enum cause of an alternatives error.
func lookup(e *jsonschema.ValidationError) (any, bool) {
	for _, c := range e.Causes {
		switch k := c.ErrorKind.(type) {
		case *kind.Enum:
			return k.Got, true
		case *kind.Pattern:
			return k.Got, true
		case *kind.Type:
			return k.Got, true
		}
	}
	return nil, false
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func fieldPath(loc []string) string {
	var b strings.Builder
	for _, tok := range loc {
		if _, err := strconv.Atoi(tok); err == nil {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return b.String()
}

// CheckPath reports whether p is a clean relative package path: '/'
// separators, no '..', not absolute, no empty or '.' components.
func CheckPath(p string) error {
	switch {
	case p == "":
		return errors.New("empty path")
	case strings.HasPrefix(p, "/") || (len(p) > 1 && p[1] == ':'):
		return fmt.Errorf("%q is absolute", p)
	case strings.ContainsRune(p, '\\'):
		return fmt.Errorf("%q contains a backslash", p)
	case strings.ContainsRune(p, 0):
		return fmt.Errorf("%q contains a NUL byte", p)
	}
	for _, seg := range strings.Split(p, "/") {
		switch seg {
		case "..":
			return fmt.Errorf("%q leaves the package directory", p)
		case "", ".":
			return fmt.Errorf("%q is not a clean relative path", p)
		}
	}
	if path.Clean(p) != p {
		return fmt.Errorf("%q is not a clean relative path", p)
	}
	return nil
}

// checkSemantics checks what a JSON Schema cannot say.
func (m *Manifest) checkSemantics() error {
	var fes []FieldError
	add := func(p, format string, args ...any) {
		fes = append(fes, FieldError{Path: p, Message: fmt.Sprintf(format, args...)})
	}
	paths := map[string]int{}
	var total int64
	models := 0
	for i, f := range m.Files {
		at := fmt.Sprintf("files[%d].path", i)
		if err := CheckPath(f.Path); err != nil {
			add(at, "%v", err)
		}
		if j, dup := paths[f.Path]; dup {
			add(at, "%q is listed twice (also files[%d])", f.Path, j)
		}
		paths[f.Path] = i
		if f.Path == ManifestFile {
			add(at, "%s is the package's config, not one of its files", ManifestFile)
		}
		if f.Role == RoleModel {
			models++
			if f.Path != m.ModelPath() {
				add(fmt.Sprintf("files[%d].role", i), "the model file is %q (format.model), not %q", m.ModelPath(), f.Path)
			}
		}
		total += f.Size
	}
	if len(m.Files) > 0 {
		if _, ok := paths[m.ModelPath()]; !ok {
			add("format.model", "%q is not in files", m.ModelPath())
		}
		if models != 1 {
			add("files", "exactly one file must have role model, found %d", models)
		}
		if m.Resources.Bytes != total {
			add("resources.bytes", "is %d but the files add up to %d", m.Resources.Bytes, total)
		}
	}
	if m.Format.Model != "" {
		if err := CheckPath(m.Format.Model); err != nil {
			add("format.model", "%v", err)
		}
	}
	checkTensors := func(list []Tensor, at string) {
		names := map[string]bool{}
		for i, t := range list {
			if names[t.Name] {
				add(fmt.Sprintf("%s[%d].name", at, i), "%q is listed twice", t.Name)
			}
			names[t.Name] = true
		}
	}
	checkTensors(m.IO.Inputs, "io.inputs")
	checkTensors(m.IO.Outputs, "io.outputs")
	if p := m.Preprocessing; p != nil {
		if p.Tokenizer != nil {
			for i, f := range p.Tokenizer.Files {
				if _, ok := paths[f]; !ok {
					add(fmt.Sprintf("preprocessing.tokenizer.files[%d]", i), "%q is not in files", f)
				}
			}
		}
		if im := p.Image; im != nil && len(im.Mean) > 0 && len(im.Std) > 0 && len(im.Mean) != len(im.Std) {
			add("preprocessing.image.std", "has %d values but mean has %d", len(im.Std), len(im.Mean))
		}
	}
	if m.Source != nil && m.Source.Created != "" {
		if _, err := time.Parse(time.RFC3339, m.Source.Created); err != nil {
			add("source.created", "%q is not an RFC 3339 time", m.Source.Created)
		}
	}
	if len(fes) > 0 {
		slices.SortStableFunc(fes, func(a, b FieldError) int { return strings.Compare(a.Path, b.Path) })
		return &ValidationError{Errors: fes}
	}
	return nil
}

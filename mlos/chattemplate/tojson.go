package chattemplate

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/ardanlabs/jinja"
)

// toJSONFilter is the name templates' `| tojson` is routed to (see routeToJSON).
const toJSONFilter = "__transformers_tojson"

// routeToJSON points every `| tojson` filter of a template at toJSONFilter, which
// Render supplies: the engine's own tojson differs from transformers' (it prints
// an integral float 1.0 as 1, and tojson(indent=N) sorts keys and escapes <>&),
// and the engine takes filters it does not know from the render's variables.
// Only pipes inside {{ }} and {% %} outside string literals are rewritten.
func routeToJSON(src string) string {
	if !strings.Contains(src, "tojson") {
		return src
	}
	var b strings.Builder
	for i := 0; i < len(src); {
		open := strings.IndexAny(src[i:], "{")
		if open < 0 || i+open+1 >= len(src) {
			b.WriteString(src[i:])
			break
		}
		open += i
		kind := src[open+1]
		if kind != '{' && kind != '%' && kind != '#' {
			b.WriteString(src[i : open+1])
			i = open + 1
			continue
		}
		b.WriteString(src[i:open])
		closer := "}}"
		switch kind {
		case '%':
			closer = "%}"
		case '#':
			closer = "#}"
		}
		end := tagEnd(src, open+2, closer, kind != '#')
		tag := src[open:end]
		if kind == '%' && isRawTag(tag) {
			// {% raw %}...{% endraw %}: literal text, copied as is.
			if j := strings.Index(src[end:], "endraw"); j >= 0 {
				if k := strings.Index(src[end+j:], "%}"); k >= 0 {
					stop := end + j + k + 2
					b.WriteString(src[open:stop])
					i = stop
					continue
				}
			}
		}
		if kind == '#' {
			b.WriteString(tag)
		} else {
			b.WriteString(rewritePipes(tag))
		}
		i = end
	}
	return b.String()
}

func isRawTag(tag string) bool {
	t := strings.Trim(tag[2:len(tag)-2], "-+ \t\r\n")
	return t == "raw"
}

// tagEnd is the index just past the closer of a tag starting at from, skipping
// string literals in expressions; len(src) when the tag does not end.
func tagEnd(src string, from int, closer string, expr bool) int {
	for i := from; i < len(src); i++ {
		c := src[i]
		if expr && (c == '\'' || c == '"') {
			i = stringEnd(src, i)
			continue
		}
		if strings.HasPrefix(src[i:], closer) {
			return i + len(closer)
		}
	}
	return len(src)
}

// stringEnd is the index of the quote closing the literal opened at i.
func stringEnd(src string, i int) int {
	q := src[i]
	for j := i + 1; j < len(src); j++ {
		switch src[j] {
		case '\\':
			j++
		case q:
			return j
		}
	}
	return len(src)
}

// rewritePipes renames the tojson filter in one tag, outside string literals.
func rewritePipes(tag string) string {
	var b strings.Builder
	for i := 0; i < len(tag); i++ {
		c := tag[i]
		if c == '\'' || c == '"' {
			j := min(stringEnd(tag, i), len(tag)-1)
			b.WriteString(tag[i : j+1])
			i = j
			continue
		}
		b.WriteByte(c)
		if c != '|' {
			continue
		}
		j := i + 1
		for j < len(tag) && (tag[j] == ' ' || tag[j] == '\t' || tag[j] == '\n' || tag[j] == '\r') {
			j++
		}
		if strings.HasPrefix(tag[j:], "tojson") && (j+6 == len(tag) || !isIdentByte(tag[j+6])) {
			b.WriteString(tag[i+1 : j])
			b.WriteString(toJSONFilter)
			i = j + 5
		}
	}
	return b.String()
}

func isIdentByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// jsonOptions are the arguments of transformers' tojson filter, which is
// json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False).
type jsonOptions struct {
	ensureASCII bool
	indent      string
	hasIndent   bool
	itemSep     string
	keySep      string
	sortKeys    bool
}

// filterToJSON is transformers' tojson: Python's json.dumps in insertion order,
// no HTML escaping, ensure_ascii=False unless asked. Arguments as Python takes
// them: tojson(ensure_ascii, indent, separators, sort_keys).
func filterToJSON(args []jinja.Value, kwargs map[string]jinja.Value) (jinja.Value, error) {
	if len(args) == 0 {
		return jinja.Undefined(), errors.New("tojson: no value")
	}
	in, params := args[0], args[1:]
	for k := range kwargs {
		switch k {
		case "ensure_ascii", "indent", "separators", "sort_keys":
		default:
			return jinja.Undefined(), fmt.Errorf("tojson: unexpected keyword argument %q", k)
		}
	}
	if len(params) > 4 {
		return jinja.Undefined(), errors.New("tojson: too many arguments")
	}
	arg := func(pos int, name string) (jinja.Value, bool) {
		if v, ok := kwargs[name]; ok {
			return v, true
		}
		if pos < len(params) {
			return params[pos], true
		}
		return jinja.Undefined(), false
	}
	opts := jsonOptions{itemSep: ", ", keySep: ": "}
	if v, ok := arg(0, "ensure_ascii"); ok {
		opts.ensureASCII = v.IsTruthy()
	}
	if v, ok := arg(1, "indent"); ok && !v.IsNone() && !v.IsUndefined() {
		opts.hasIndent = true
		opts.itemSep = ","
		switch {
		case v.IsInt():
			opts.indent = strings.Repeat(" ", int(max(min(v.AsInt(), 64), 0)))
		case v.IsString():
			opts.indent = v.AsString()
		default:
			return jinja.Undefined(), errors.New("tojson: indent must be an int or a string")
		}
	}
	if v, ok := arg(2, "separators"); ok && !v.IsNone() && !v.IsUndefined() {
		if !v.IsList() || v.AsList().Len() != 2 || !v.AsList().Get(0).IsString() || !v.AsList().Get(1).IsString() {
			return jinja.Undefined(), errors.New("tojson: separators must be a pair of strings")
		}
		opts.itemSep, opts.keySep = v.AsList().Get(0).AsString(), v.AsList().Get(1).AsString()
	}
	if v, ok := arg(3, "sort_keys"); ok {
		opts.sortKeys = v.IsTruthy()
	}
	var b strings.Builder
	if err := writeJSON(&b, in, opts, 0); err != nil {
		return jinja.Undefined(), fmt.Errorf("tojson: %w", err)
	}
	return jinja.NewString(b.String()), nil
}

func writeJSON(b *strings.Builder, v jinja.Value, o jsonOptions, depth int) error {
	if depth > 200 {
		return errors.New("nesting too deep")
	}
	switch {
	case v.IsNone():
		b.WriteString("null")
	case v.IsUndefined():
		return errors.New("object of type Undefined is not JSON serializable")
	case v.IsBool():
		if v.AsBool() {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case v.IsInt():
		b.WriteString(strconv.FormatInt(v.AsInt(), 10))
	case v.IsFloat():
		b.WriteString(pyFloat(v.AsFloat()))
	case v.IsString():
		writeJSONString(b, v.AsString(), o.ensureASCII)
	case v.IsList():
		items := v.AsList().Items
		return writeItems(b, o, depth, '[', ']', len(items), func(i int) error {
			return writeJSON(b, items[i], o, depth+1)
		})
	case v.IsDict():
		d := v.AsDict()
		keys := d.Keys
		if o.sortKeys {
			keys = append([]string(nil), keys...)
			sort.Strings(keys)
		}
		return writeItems(b, o, depth, '{', '}', len(keys), func(i int) error {
			writeJSONString(b, keys[i], o.ensureASCII)
			b.WriteString(o.keySep)
			return writeJSON(b, d.Data[keys[i]], o, depth+1)
		})
	default:
		return fmt.Errorf("object %s is not JSON serializable", v.String())
	}
	return nil
}

// writeItems writes n items (a list's or a dict's) between opening and
// closing as Python's json.dumps does: [] or {} when there are none, else
// itemSep between them and, with an indent, each on a line of its own.
func writeItems(b *strings.Builder, o jsonOptions, depth int, opening, closing byte, n int, item func(i int) error) error {
	b.WriteByte(opening)
	if n == 0 {
		b.WriteByte(closing)
		return nil
	}
	for i := range n {
		if i > 0 {
			b.WriteString(o.itemSep)
		}
		if o.hasIndent {
			newline(b, o, depth+1)
		}
		if err := item(i); err != nil {
			return err
		}
	}
	if o.hasIndent {
		newline(b, o, depth)
	}
	b.WriteByte(closing)
	return nil
}

func newline(b *strings.Builder, o jsonOptions, depth int) {
	b.WriteByte('\n')
	for range depth {
		b.WriteString(o.indent)
	}
}

// writeJSONString escapes like Python's json: no HTML escaping; with
// ensure_ascii=False every non-control character is written as is.
func writeJSONString(b *strings.Builder, s string, ascii bool) {
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			switch {
			case r < 0x20:
				fmt.Fprintf(b, `\u%04x`, r)
			case ascii && r > 0x7e:
				if r >= 0x10000 {
					hi, lo := utf16.EncodeRune(r)
					fmt.Fprintf(b, `\u%04x\u%04x`, hi, lo)
				} else {
					fmt.Fprintf(b, `\u%04x`, r)
				}
			default:
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
}

// pyFloat is Python's repr of a float: the shortest digits that round-trip,
// exponent form below 1e-4 and from 1e16, always a '.' or an exponent.
func pyFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // [-]d.ddde±XX
	mant, expStr, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expStr)
	if exp < -4 || exp >= 16 {
		sign := "+"
		if exp < 0 {
			sign, exp = "-", -exp
		}
		return fmt.Sprintf("%se%s%02d", mant, sign, exp)
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

package chattemplate

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/ardanlabs/jinja"
)

// Parse compiles a chat template source. special are the template variables
// transformers takes from the tokenizer's special_tokens_map (bos_token, eos_token...).
func Parse(source string, special map[string]any) (*Template, error) {
	tmpl, err := jinja.Compile(routeToJSON(source))
	if err != nil {
		return nil, fmt.Errorf("parse chat template: %w", err)
	}
	if special == nil {
		special = map[string]any{}
	}
	return &Template{Name: "default", Source: source, tmpl: tmpl, special: special}, nil
}

// Render renders the conversation as transformers' apply_chat_template(messages,
// tools=..., add_generation_prompt=..., tokenize=False, **extra) does. A template's
// raise_exception(msg) comes back as *TemplateError.
func (t *Template) Render(messages []map[string]any, opts Options) (string, error) {
	if t == nil || t.tmpl == nil {
		return "", ErrNoTemplate
	}
	var raised *TemplateError
	data := map[string]jinja.Value{}
	for k, v := range t.special {
		data[k] = toValue(v)
	}
	msgs := make([]jinja.Value, len(messages))
	for i, m := range messages {
		msgs[i] = toValue(m)
	}
	data["messages"] = jinja.NewList(msgs)
	// transformers passes tools=None when there are none, documents=None always.
	data["tools"] = jinja.None()
	if len(opts.Tools) > 0 {
		tools := make([]jinja.Value, len(opts.Tools))
		for i, tl := range opts.Tools {
			tools[i] = toValue(tl)
		}
		data["tools"] = jinja.NewList(tools)
	}
	data["documents"] = jinja.None()
	data["add_generation_prompt"] = jinja.NewBool(opts.AddGenerationPrompt)
	data["raise_exception"] = jinja.NewCallable("raise_exception", func(args []jinja.Value, _ map[string]jinja.Value) (jinja.Value, error) {
		msg := ""
		if len(args) > 0 {
			if args[0].IsString() {
				msg = args[0].AsString()
			} else {
				msg = args[0].String()
			}
		}
		if raised == nil {
			raised = &TemplateError{Msg: msg}
		}
		return jinja.Undefined(), raised
	})
	data["strftime_now"] = jinja.NewCallable("strftime_now", func(args []jinja.Value, _ map[string]jinja.Value) (jinja.Value, error) {
		if len(args) != 1 || !args[0].IsString() {
			return jinja.Undefined(), errors.New("strftime_now takes one format string")
		}
		return jinja.NewString(strftime(time.Now(), args[0].AsString())), nil
	})
	for k, v := range opts.Extra {
		data[k] = toValue(v)
	}
	data[toJSONFilter] = jinja.NewCallable("tojson", filterToJSON)
	out, err := t.tmpl.RenderValues(data)
	if raised != nil {
		return "", raised
	}
	if err != nil {
		return "", fmt.Errorf("render chat template: %w", err)
	}
	return out, nil
}

// Object is a JSON object that keeps its key order, as Python dicts do: tojson of
// it prints the keys in this order. DecodeJSON produces it.
type Object []Member

// Member is one key of an Object.
type Member struct {
	Key   string
	Value any
}

// keyRank orders the keys of plain Go maps (which have no order) the way OpenAI
// clients write them, so tojson of a tool or tool call matches what Python renders
// from the same request; other keys follow in sorted order. Pass Object values
// (DecodeJSON) where the exact order of user-chosen keys matters.
var keyRank = func() map[string]int {
	m := map[string]int{}
	for i, k := range []string{"role", "content", "reasoning_content", "name", "tool_calls", "tool_call_id",
		"id", "type", "function", "description", "parameters", "arguments", "properties", "required",
		"enum", "items", "default", "strict"} {
		m[k] = i
	}
	return m
}()

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		ri, iok := keyRank[keys[i]]
		rj, jok := keyRank[keys[j]]
		switch {
		case iok && jok:
			return ri < rj
		case iok != jok:
			return iok
		}
		return keys[i] < keys[j]
	})
	return keys
}

// toValue converts Go data into the engine's values: objects become ordered
// dicts (Object in its order, plain maps in keyRank order), numbers keep Python's
// int/float distinction.
func toValue(v any) jinja.Value {
	switch x := v.(type) {
	case nil:
		return jinja.None()
	case jinja.Value:
		return x
	case bool:
		return jinja.NewBool(x)
	case string:
		return jinja.NewString(x)
	case int:
		return jinja.NewInt(int64(x))
	case int8:
		return jinja.NewInt(int64(x))
	case int16:
		return jinja.NewInt(int64(x))
	case int32:
		return jinja.NewInt(int64(x))
	case int64:
		return jinja.NewInt(x)
	case uint:
		return jinja.NewInt(int64(x))
	case uint8:
		return jinja.NewInt(int64(x))
	case uint16:
		return jinja.NewInt(int64(x))
	case uint32:
		return jinja.NewInt(int64(x))
	case uint64:
		return jinja.NewInt(int64(x))
	case float32:
		return jinja.NewFloat(float64(x))
	case float64:
		return jinja.NewFloat(x)
	case map[string]any:
		d := jinja.NewDict()
		for _, k := range sortedKeys(x) {
			d.AsDict().Set(k, toValue(x[k]))
		}
		return d
	case Object:
		d := jinja.NewDict()
		for _, m := range x {
			d.AsDict().Set(m.Key, toValue(m.Value))
		}
		return d
	case []map[string]any:
		out := make([]jinja.Value, len(x))
		for i, e := range x {
			out[i] = toValue(e)
		}
		return jinja.NewList(out)
	case []any:
		out := make([]jinja.Value, len(x))
		for i, e := range x {
			out[i] = toValue(e)
		}
		return jinja.NewList(out)
	case []string:
		out := make([]jinja.Value, len(x))
		for i, e := range x {
			out[i] = jinja.NewString(e)
		}
		return jinja.NewList(out)
	}
	return jinja.FromGoValue(v)
}

// strftime formats like Python's datetime.strftime for the directives chat
// templates use (Llama 3.x: "%d %b %Y").
func strftime(t time.Time, format string) string {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' || i+1 == len(format) {
			b.WriteByte(c)
			continue
		}
		i++
		switch format[i] {
		case 'd':
			fmt.Fprintf(&b, "%02d", t.Day())
		case 'e':
			fmt.Fprintf(&b, "%2d", t.Day())
		case 'm':
			fmt.Fprintf(&b, "%02d", int(t.Month()))
		case 'Y':
			fmt.Fprintf(&b, "%d", t.Year())
		case 'y':
			fmt.Fprintf(&b, "%02d", t.Year()%100)
		case 'b', 'h':
			b.WriteString(t.Month().String()[:3])
		case 'B':
			b.WriteString(t.Month().String())
		case 'a':
			b.WriteString(t.Weekday().String()[:3])
		case 'A':
			b.WriteString(t.Weekday().String())
		case 'H':
			fmt.Fprintf(&b, "%02d", t.Hour())
		case 'I':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			fmt.Fprintf(&b, "%02d", h)
		case 'p':
			if t.Hour() < 12 {
				b.WriteString("AM")
			} else {
				b.WriteString("PM")
			}
		case 'M':
			fmt.Fprintf(&b, "%02d", t.Minute())
		case 'S':
			fmt.Fprintf(&b, "%02d", t.Second())
		case 'j':
			fmt.Fprintf(&b, "%03d", t.YearDay())
		case 'f':
			fmt.Fprintf(&b, "%06d", t.Nanosecond()/1000)
		case 'F':
			b.WriteString(t.Format("2006-01-02"))
		case 'T':
			b.WriteString(t.Format("15:04:05"))
		case 'Z':
			name, _ := t.Zone()
			b.WriteString(name)
		case 'z':
			b.WriteString(t.Format("-0700"))
		case '%':
			b.WriteByte('%')
		default:
			b.WriteByte('%')
			b.WriteByte(format[i])
		}
	}
	return b.String()
}

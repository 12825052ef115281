package chattemplate

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func writeFile(t *testing.T, dir, name, data string) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadVariants(t *testing.T) {
	t.Run("string with AddedToken specials", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, dir, "tokenizer_config.json", `{"chat_template": "{{ bos_token }}{% for m in messages %}{{ m.role }}:{{ m.content }}{% endfor %}{{ eos_token }}",
			"bos_token": {"__type": "AddedToken", "content": "<s>"}, "eos_token": "</s>"}`)
		tp, err := Load(dir, "")
		if err != nil {
			t.Fatal(err)
		}
		if tp.BOS() != "<s>" || tp.EOS() != "</s>" {
			t.Fatalf("bos %q eos %q", tp.BOS(), tp.EOS())
		}
		out, err := tp.Render([]map[string]any{{"role": "user", "content": "hi"}}, Options{})
		if err != nil || out != "<s>user:hi</s>" {
			t.Fatalf("%q %v", out, err)
		}
	})
	t.Run("named list", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, dir, "tokenizer_config.json", `{"chat_template": [{"name": "default", "template": "D"}, {"name": "tool_use", "template": "T"}]}`)
		for name, want := range map[string]string{"": "D", "default": "D", "tool_use": "T"} {
			tp, err := Load(dir, name)
			if err != nil {
				t.Fatal(err)
			}
			if out, _ := tp.Render(nil, Options{}); out != want {
				t.Fatalf("%q: %q", name, out)
			}
		}
		_, err := Load(dir, "rag")
		if !errors.Is(err, ErrNoTemplate) || !strings.Contains(err.Error(), "tool_use") {
			t.Fatalf("want ErrNoTemplate listing names, got %v", err)
		}
	})
	t.Run("only one named", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, dir, "tokenizer_config.json", `{"chat_template": [{"name": "tool_use", "template": "T"}]}`)
		tp, err := Load(dir, "")
		if err != nil || tp.Name != "tool_use" {
			t.Fatal(tp, err)
		}
	})
	t.Run("chat_template.jinja wins", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, dir, "tokenizer_config.json", `{"chat_template": "old", "eos_token": "E"}`)
		writeFile(t, dir, "chat_template.jinja", "new{{ eos_token }}")
		tp, err := Load(dir, "")
		if err != nil {
			t.Fatal(err)
		}
		if out, _ := tp.Render(nil, Options{}); out != "newE" {
			t.Fatalf("%q", out)
		}
	})
	t.Run("none", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, dir, "tokenizer_config.json", `{"eos_token": "E"}`)
		if _, err := Load(dir, ""); !errors.Is(err, ErrNoTemplate) {
			t.Fatalf("want ErrNoTemplate, got %v", err)
		}
		if _, err := Load(t.TempDir(), ""); !errors.Is(err, ErrNoTemplate) {
			t.Fatalf("empty dir: want ErrNoTemplate, got %v", err)
		}
	})
	t.Run("bad json", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, dir, "tokenizer_config.json", `{"chat_template": `)
		if _, err := Load(dir, ""); err == nil || errors.Is(err, ErrNoTemplate) {
			t.Fatalf("want parse error, got %v", err)
		}
	})
	t.Run("bad template", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, dir, "tokenizer_config.json", `{"chat_template": "{% for %}"}`)
		if _, err := Load(dir, ""); err == nil {
			t.Fatal("want parse error")
		}
	})
}

func TestRaiseException(t *testing.T) {
	tp, err := Parse(`{% if messages[0].role != 'user' %}{{ raise_exception('first must be user') }}{% endif %}ok`, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tp.Render([]map[string]any{{"role": "assistant", "content": "x"}}, Options{})
	var te *TemplateError
	if !errors.As(err, &te) || te.Msg != "first must be user" {
		t.Fatalf("want TemplateError, got %#v", err)
	}
	out, err := tp.Render([]map[string]any{{"role": "user", "content": "x"}}, Options{})
	if err != nil || out != "ok" {
		t.Fatalf("%q %v", out, err)
	}
}

func TestToJSONLikePython(t *testing.T) {
	args, err := DecodeJSON([]byte(`{"z": 1, "a": [1.0, 1.5, 1e-7, 2.5e20, "é<&>\"\n"], "m": {}, "n": null, "t": true}`))
	if err != nil {
		t.Fatal(err)
	}
	// transformers' tojson: json.dumps in insertion order, no HTML escaping,
	// ensure_ascii=False, Python's float repr, indent, separators, sort_keys.
	cases := map[string]string{
		`{{ x | tojson }}`:                                      `{"z": 1, "a": [1.0, 1.5, 1e-07, 2.5e+20, "é<&>\"\n"], "m": {}, "n": null, "t": true}`,
		`{{ x | tojson(indent=2) }}`:                            "{\n  \"z\": 1,\n  \"a\": [\n    1.0,\n    1.5,\n    1e-07,\n    2.5e+20,\n    \"é<&>\\\"\\n\"\n  ],\n  \"m\": {},\n  \"n\": null,\n  \"t\": true\n}",
		`{{ x | tojson(ensure_ascii=true) }}`:                   `{"z": 1, "a": [1.0, 1.5, 1e-07, 2.5e+20, "\u00e9<&>\"\n"], "m": {}, "n": null, "t": true}`,
		`{{ x | tojson(separators=(",", ":")) }}`:               `{"z":1,"a":[1.0,1.5,1e-07,2.5e+20,"é<&>\"\n"],"m":{},"n":null,"t":true}`,
		`{{ x | tojson(sort_keys=true) }}`:                      `{"a": [1.0, 1.5, 1e-07, 2.5e+20, "é<&>\"\n"], "m": {}, "n": null, "t": true, "z": 1}`,
		`{{ x.items() | list | length }}`:                       `5`,
		`{% for k, v in x.items() %}{{ k }}{% endfor %}`:        `zamnt`,
		`{{ "a | tojson" }}|{{ x.z|tojson }}`:                   `a | tojson|1`,
		`{# x | tojson #}{% raw %}{{ x | tojson }}{% endraw %}`: `{{ x | tojson }}`,
		`{% set j = x.n | tojson %}{{ j }}`:                     `null`,
	}
	for src, want := range cases {
		tp, err := Parse(src, nil)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		got, err := tp.Render(nil, Options{Extra: map[string]any{"x": args}})
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if got != want {
			t.Errorf("%s:\n got %q\nwant %q", src, got, want)
		}
	}
}

func TestPlainMapKeyOrder(t *testing.T) {
	tp, err := Parse(`{% for t in tools %}{{ t | tojson }}{% endfor %}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := tp.Render(nil, Options{Tools: []map[string]any{{"function": map[string]any{"parameters": map[string]any{}, "name": "f", "description": "d"}, "type": "function"}}})
	want := `{"type": "function", "function": {"name": "f", "description": "d", "parameters": {}}}`
	if err != nil || out != want {
		t.Fatalf("%q %v", out, err)
	}
}

func TestDecodeJSONBad(t *testing.T) {
	for _, s := range []string{``, `{`, `{"a":1} x`, `[1,]`} {
		if _, err := DecodeJSON([]byte(s)); err == nil {
			t.Errorf("%q: want error", s)
		}
	}
}

func TestStrftime(t *testing.T) {
	tp, err := Parse(`{{ strftime_now("%Y") }}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := tp.Render(nil, Options{})
	if err != nil || len(out) != 4 {
		t.Fatalf("%q %v", out, err)
	}
}

// TestConcurrentRender: one Template serves concurrent requests (run with -race).
func TestConcurrentRender(t *testing.T) {
	tp, err := Parse(`{% for m in messages %}{{ m.role }}={{ m.content | tojson }};{% endfor %}{% if x %}{{ raise_exception('no ' ~ x) }}{% endif %}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 16)
	for i := range 16 {
		go func() {
			msgs := []map[string]any{{"role": "user", "content": strings.Repeat("a", i)}}
			opts := Options{}
			if i%2 == 1 {
				opts.Extra = map[string]any{"x": i}
			}
			out, err := tp.Render(msgs, opts)
			var te *TemplateError
			switch {
			case i%2 == 1 && (!errors.As(err, &te) || te.Msg != "no "+strconv.Itoa(i)):
				errs <- fmt.Errorf("%d: %q %v", i, out, err)
			case i%2 == 0 && (err != nil || out != `user="`+strings.Repeat("a", i)+`";`):
				errs <- fmt.Errorf("%d: %q %v", i, out, err)
			default:
				errs <- nil
			}
		}()
	}
	for range 16 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func TestDecodeToolsKeepsOrder(t *testing.T) {
	tools, err := DecodeTools([]byte(`[{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {"zeta": {"type": "string"}, "alpha": {"type": "integer"}}, "required": ["zeta"]}}}]`))
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := DecodeMessages([]byte(`[{"role": "assistant", "content": "", "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": {"zeta": "z", "alpha": 1}}}]}]`))
	if err != nil {
		t.Fatal(err)
	}
	tp, err := Parse(`{{ tools[0] | tojson }}|{{ messages[0].tool_calls[0].function.arguments | tojson }}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := tp.Render(msgs, Options{Tools: tools})
	want := `{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {"zeta": {"type": "string"}, "alpha": {"type": "integer"}}, "required": ["zeta"]}}}|{"zeta": "z", "alpha": 1}`
	if err != nil || out != want {
		t.Fatalf("got %q %v\nwant %q", out, err, want)
	}
	for _, bad := range []string{`{}`, `[1]`, `[{"a":1}`} {
		if _, err := DecodeTools([]byte(bad)); err == nil {
			t.Errorf("%s: want error", bad)
		}
	}
}

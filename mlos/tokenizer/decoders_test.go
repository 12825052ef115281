package tokenizer

import (
	"strings"
	"testing"
)

// Decoders not covered by the reference tokenizers, checked against the
// behaviour documented by the Rust implementation's own tests.
func TestDecoders(t *testing.T) {
	for _, c := range []struct {
		json string
		in   []string
		want string
	}{
		{`{"type":"CTC","pad_token":"<pad>","word_delimiter_token":"|","cleanup":true}`,
			[]string{"<pad>", "<pad>", "h", "e", "e", "l", "l", "<pad>", "l", "o", "o", "o", "<pad>", "|", "w", "o", "r", "l", "d"}, "hello world"},
		{`{"type":"BPEDecoder","suffix":"</w>"}`, []string{"My</w>", "na", "me</w>", "is</w>", "Jo", "hn</w>"}, "My name is John"},
		{`{"type":"ByteFallback"}`, []string{"<0x61>", "<0xE5>", "<0x8F>", "<0xAB>", "x", "<0xE5>", "<0x8F>"}, "a叫x\uFFFD\uFFFD"},
		{`{"type":"Metaspace","replacement":"▁","prepend_scheme":"never"}`, []string{"▁Hey", "▁friend!"}, " Hey friend!"},
		{`{"type":"WordPiece","prefix":"##","cleanup":true}`, []string{"I", "do", "n't", "know", "##s", "."}, "I don't knows."},
		{`{"type":"ByteLevel"}`, []string{"Hello", "Ġw", "Ã©", "\xffraw"}, "Hello wé\uFFFDraw"},
	} {
		d, err := parseDecoder([]byte(c.json))
		if err != nil {
			t.Fatalf("%s: %v", c.json, err)
		}
		if got := strings.Join(d.decode(c.in), ""); got != c.want {
			t.Errorf("%s: decode(%q) = %q, want %q", c.json, c.in, got, c.want)
		}
	}
}

func TestLossyUTF8(t *testing.T) {
	for in, want := range map[string]string{
		"ok":            "ok",
		"\xe2\x82":      "\uFFFD",
		"a\xf0\x9f\x98": "a\uFFFD",
		"\xff\xfe":      "\uFFFD\uFFFD",
		"\xed\xa0\x80":  "\uFFFD\uFFFD\uFFFD",
	} {
		if got := lossyUTF8([]byte(in)); got != want {
			t.Errorf("lossyUTF8(%q) = %q, want %q", in, got, want)
		}
	}
}

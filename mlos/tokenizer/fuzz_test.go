package tokenizer

import (
	"path/filepath"
	"strings"
	"testing"
)

func fuzzTokenizers(f *testing.F) map[string]*Tokenizer {
	files, _ := filepath.Glob("testdata/*.json.gz")
	out := map[string]*Tokenizer{}
	for _, file := range files {
		if strings.HasSuffix(file, ".ref.json.gz") {
			continue
		}
		out[filepath.Base(file)] = loadPath(f, file)
	}
	if len(out) == 0 {
		f.Fatal("no tokenizers in testdata")
	}
	return out
}

// FuzzEncode: no input makes any tokenizer panic, every id is inside the
// vocabulary, the encoding's slices agree, and offsets stay inside the text.
func FuzzEncode(f *testing.F) {
	tks := fuzzTokenizers(f)
	for _, s := range []string{"", " ", "Hello, world!", "Café 中文 😀", "[CLS] x [SEP]", "<s>a</s>", "\xff\xfe bad utf8 \xc3",
		"don't  \t\n x", strings.Repeat("ab", 300), "\u0301\u0308 combining first", "▁▁ ĠĠ <0x41>"} {
		f.Add(s, "pair")
	}
	f.Fuzz(func(t *testing.T, text, pair string) {
		for name, tk := range tks {
			for _, e := range []Encoding{tk.Encode(text, true), tk.Encode(text, false), tk.EncodePair(text, pair, true)} {
				n := len(e.IDs)
				if len(e.TypeIDs) != n || len(e.AttentionMask) != n || len(e.Tokens) != n || len(e.Offsets) != n ||
					len(e.SpecialTokensMask) != n || len(e.SequenceIDs) != n {
					t.Fatalf("%s: inconsistent encoding lengths for %q", name, text)
				}
				for i, id := range e.IDs {
					if id < 0 || id >= int64(tk.VocabSize()) {
						t.Fatalf("%s: id %d out of range [0,%d) for %q", name, id, tk.VocabSize(), text)
					}
					src := text
					if e.SequenceIDs[i] == 1 {
						src = pair
					}
					if o := e.Offsets[i]; o[0] < 0 || o[0] > o[1] || o[1] > len(src) {
						t.Fatalf("%s: bad offsets %v for %q", name, o, src)
					}
				}
			}
			_ = tk.Decode(tk.Encode(text, true).IDs, true)
		}
	})
}

// TestRoundTrip: byte-level and byte-fallback tokenizers are lossless.
func TestRoundTrip(t *testing.T) {
	texts := []string{"Hello, world!", "  two  spaces\tand\ttabs\nnewline ", "Café naïve 中文 😀 👨‍👩‍👧", "don't stop", "x"}
	for _, name := range []string{"gpt2-bpe", "llama3-bpe", "llama-bpe-bytefallback"} {
		tk := testTokenizer(t, name)
		for _, s := range texts {
			if got := tk.Decode(tk.Encode(s, false).IDs, false); got != s {
				t.Errorf("%s: Decode(Encode(%q)) = %q", name, s, got)
			}
		}
	}
}

package mlos

import (
	"slices"
	"strings"
	"testing"

	"github.com/mlos-foundation/axon/mlos/mlostest"
	"github.com/mlos-foundation/axon/mlos/tokenizer"
)

func testTokenizer(t *testing.T, name string) TextTokenizer {
	t.Helper()
	tk, err := tokenizer.FromBytes(mlostest.TokenizerJSON(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return hfTokenizer{tk}
}

// Tokenizing a bounded prefix gives exactly the ids the whole text gives
// after truncation to the model's length, for ordinary text and for text
// whose first words are long.
func TestBoundedEncodeMatchesWholeText(t *testing.T) {
	words := strings.Fields("The quick brown fox jumps over the lazy dog; unbelievably, tokenization of naïve café prose über alles works 12345 times!")
	var b strings.Builder
	for i := 0; b.Len() < 200_000; i++ {
		b.WriteString(words[i%len(words)])
		b.WriteByte(' ')
	}
	texts := map[string]string{
		"prose":            b.String(),
		"long words first": strings.Repeat("supercalifragilisticexpialidocious", 40) + " " + b.String(),
	}
	for _, name := range []string{"bert-uncased", "bert-cased", "bpe-suffix", "roberta-bpe", "gpt2-bpe", "t5-unigram", "llama3-bpe", "wordpiece-whitespace", "unigram-precompiled"} {
		tok := testTokenizer(t, name)
		for tname, text := range texts {
			for _, limit := range []int{8, 128, 512} {
				p := &textEncoder{tok: tok, maxLen: limit, closes: closesEncodings(tok)}
				got, err := p.encode(text)
				if err != nil {
					t.Fatal(err)
				}
				whole, err := tok.Encode(text)
				if err != nil {
					t.Fatal(err)
				}
				want := whole.IDs
				if len(want) > limit {
					if p.closes {
						want = append(slices.Clone(want[:limit-1]), want[len(want)-1])
					} else {
						want = want[:limit]
					}
				}
				if !slices.Equal(got.IDs, want) {
					t.Fatalf("%s, %s, limit %d: bounded %v\nwhole %v", name, tname, limit, got.IDs[:min(20, len(got.IDs))], want[:min(20, len(want))])
				}
			}
		}
	}
}

// A 10 MiB input is tokenized on a prefix of at most limit*boundedMax bytes.
func TestBoundedEncodeReadsAPrefix(t *testing.T) {
	var longest int
	rec := recordingTokenizer{TextTokenizer: testTokenizer(t, "bert-uncased"), longest: &longest}
	p := &textEncoder{tok: rec, maxLen: 512}
	if _, err := p.encode(strings.Repeat("x", 10<<20)); err != nil {
		t.Fatal(err)
	}
	if longest > 512*boundedMax {
		t.Fatalf("tokenized %d bytes of a 10 MiB input", longest)
	}
}

type recordingTokenizer struct {
	TextTokenizer
	longest *int
}

func (r recordingTokenizer) Encode(text string) (Encoding, error) {
	*r.longest = max(*r.longest, len(text))
	return r.TextTokenizer.Encode(text)
}

package mlos

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mlos-foundation/axon/mlos/mlostest"
	"github.com/mlos-foundation/axon/mlos/tokenizer"
)

// TestTextStreamNeverSplitsCharacters: byte-fallback tokens of one emoji
// answer nothing until the character is whole; every piece is valid UTF-8
// and the pieces add up to the decoded text.
func TestTextStreamNeverSplitsCharacters(t *testing.T) {
	tok, err := tokenizer.FromBytes(mlostest.DecoderTokenizer(t))
	if err != nil {
		t.Fatal(err)
	}
	h := hfTokenizer{tok}
	text := "Hello 😀 wörld ✓"
	ids := tok.Encode(text, false).IDs
	byteTokens := 0
	for _, id := range ids {
		if s, _ := tok.IDToToken(int(id)); strings.HasPrefix(s, "<0x") {
			byteTokens++
		}
	}
	if byteTokens < 4 {
		t.Fatalf("want byte-fallback tokens in %v", ids)
	}
	prompt := tok.Encode("Say:", true).IDs
	for _, stop := range [][]string{nil, {"wör"}} {
		s := newTextStream(h, prompt, stop)
		var got strings.Builder
		for _, id := range ids {
			piece, stopped := s.push(id)
			if !utf8.ValidString(piece) || strings.ContainsRune(piece, utf8.RuneError) {
				t.Fatalf("piece %q splits a character", piece)
			}
			got.WriteString(piece)
			if stopped {
				break
			}
		}
		got.WriteString(s.flush())
		want := h.Decode(append(append([]int64(nil), prompt...), ids...))[len(h.Decode(prompt)):]
		if stop != nil {
			want = want[:strings.Index(want, stop[0])]
		}
		if got.String() != want || s.text() != want {
			t.Fatalf("stop %v: streamed %q, text %q, want %q", stop, got.String(), s.text(), want)
		}
	}
}

// TestTopK: the heap keeps exactly the k best, ties to the lower id.
func TestTopK(t *testing.T) {
	w := []float64{3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5}
	idx := make([]int, len(w))
	for i := range idx {
		idx[i] = i
	}
	better := func(a, b int) bool {
		if w[a] != w[b] {
			return w[a] > w[b]
		}
		return a < b
	}
	got := topK(append([]int(nil), idx...), 4, better)
	sort.Ints(got)
	if fmt.Sprint(got) != "[4 5 7 8]" {
		t.Fatalf("top 4 of %v: %v, want [4 5 7 8]", w, got)
	}
}

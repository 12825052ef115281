package mlos

import (
	"unicode"
	"unicode/utf8"
)

// Text far longer than the model can see is tokenized on a prefix: the
// tokenizer's normalization, pre-tokenization and offset tracking cost many
// bytes per input byte, and everything past the model's maximum length is
// cut anyway. The prefix starts at boundedStart bytes per token of the limit
// and grows (x4) until it yields more tokens than the limit (plus a margin, so
// the word at the cut cannot change the tokens that are kept) or reaches
// boundedMax bytes per token: ordinary text needs 4 to 6 bytes per token, so
// the answer is the one the whole text would give, and a pathological input
// (one huge "word") costs at most limit*boundedMax bytes of tokenizer work.
const (
	boundedStart  = 16
	boundedMax    = 256
	boundedMargin = 8
)

// limit is the longest token sequence the model takes (0 = no limit known).
func (p *textEncoder) limit() int {
	if p.seqLen > 0 {
		return int(p.seqLen)
	}
	return p.maxLen
}

func (p *textEncoder) encodeBounded(text string) (Encoding, error) {
	limit := p.limit()
	if limit <= 1 || len(text) <= limit*boundedStart {
		return p.tok.Encode(text)
	}
	for n := limit * boundedStart; ; n *= 4 {
		if n >= len(text) {
			return p.tok.Encode(text)
		}
		last := n >= limit*boundedMax
		enc, err := p.tok.Encode(text[:cutAt(text, n)])
		if err != nil || last || len(enc.IDs) >= limit+boundedMargin {
			return enc, err
		}
	}
}

// cutAt returns a cut position at or before n that falls on whitespace (so no
// word is split) when there is any in the last quarter, else on a rune boundary.
func cutAt(s string, n int) int {
	for i := n; i > n*3/4; i-- {
		r, _ := utf8.DecodeRuneInString(s[i:])
		if utf8.RuneStart(s[i]) && unicode.IsSpace(r) {
			return i
		}
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return n
}

// closesEncodings reports whether the tokenizer ends every encoding with a
// special token of its own: two different words then end alike ([SEP], </s>).
func closesEncodings(tok TextTokenizer) bool {
	a, err1 := tok.Encode("a")
	b, err2 := tok.Encode("b")
	return err1 == nil && err2 == nil && len(a.IDs) > 1 && len(b.IDs) > 1 && a.IDs[len(a.IDs)-1] == b.IDs[len(b.IDs)-1]
}

// checkSequence refuses token tensors ([batch, sequence] ids, mask, types,
// positions) longer than the model's maximum length before they reach ONNX
// Runtime, where a huge sequence would cost memory quadratic in its length.
func (p *textEncoder) checkSequence(i int, name string, shape []int64) error {
	if p == nil || len(shape) != 2 {
		return nil
	}
	limit := p.limit()
	if limit <= 0 || p.seqLen > 0 || shape[1] <= int64(limit) {
		return nil
	}
	if i == p.ids || i == p.mask || i == p.types || i == p.position {
		return BadRequest("input %q: sequence length %d is over the model's maximum of %d tokens", name, shape[1], limit)
	}
	return nil
}

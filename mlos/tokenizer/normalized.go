package tokenizer

import (
	"unicode/utf8"
)

// span is a byte range of the original input text (int32 halves the
// per-byte alignment memory; inputs over 2 GiB are refused by Encode).
type span struct{ start, end int32 }

// nstr is a piece of normalized text that remembers, for every byte, which
// bytes of the original input it came from. Hugging Face tracks the same
// per-byte alignment; keeping it absolute (not relative to the piece) lets
// splitting be a zero-copy slice.
type nstr struct {
	s     string
	align []span
}

// newNstr wraps input text. Invalid UTF-8 bytes (which the Rust library
// cannot receive) become U+FFFD, each aligned to its byte.
func newNstr(s string) nstr {
	if !utf8.ValidString(s) {
		var b builder
		b.grow(len(s) + 8)
		for i := 0; i < len(s); {
			r, sz := utf8.DecodeRuneInString(s[i:])
			b.add(r, span{int32(i), int32(i + sz)})
			i += sz
		}
		return b.nstr()
	}
	al := make([]span, len(s))
	for i := 0; i < len(s); {
		_, sz := utf8.DecodeRuneInString(s[i:])
		for k := 0; k < sz; k++ {
			al[i+k] = span{int32(i), int32(i + sz)}
		}
		i += sz
	}
	return nstr{s: s, align: al}
}

func (n nstr) slice(a, b int) nstr { return nstr{s: n.s[a:b], align: n.align[a:b]} }

// origin returns the original range covered by normalized bytes [a,b).
func (n nstr) origin(a, b int) span {
	if len(n.align) == 0 {
		return span{}
	}
	if a >= b {
		if a >= len(n.align) {
			e := n.align[len(n.align)-1].end
			return span{e, e}
		}
		s := n.align[a].start
		return span{s, s}
	}
	return span{n.align[a].start, n.align[b-1].end}
}

// runeSpan returns the original range of the rune starting at byte i of size sz.
func (n nstr) runeSpan(i, sz int) span {
	return span{n.align[i].start, n.align[i+sz-1].end}
}

// builder accumulates a transformed nstr.
type builder struct {
	buf   []byte
	align []span
}

func (b *builder) grow(n int) {
	if cap(b.buf) < n {
		b.buf = make([]byte, 0, n)
		b.align = make([]span, 0, n)
	}
}

func (b *builder) add(r rune, sp span) {
	if r < utf8.RuneSelf {
		b.buf = append(b.buf, byte(r))
		b.align = append(b.align, sp)
		return
	}
	var tmp [4]byte
	k := utf8.EncodeRune(tmp[:], r)
	b.buf = append(b.buf, tmp[:k]...)
	for i := 0; i < k; i++ {
		b.align = append(b.align, sp)
	}
}

func (b *builder) addString(s string, sp span) {
	b.buf = append(b.buf, s...)
	for i := 0; i < len(s); i++ {
		b.align = append(b.align, sp)
	}
}

func (b *builder) nstr() nstr { return nstr{s: string(b.buf), align: b.align} }

// mapRunes rewrites every rune of n into zero or more runes, each aligned to
// the original range of the rune it came from. changed reports whether f
// altered anything, so callers can skip the copy on the common path.
func (n nstr) mapRunes(f func(r rune, emit func(rune))) nstr {
	var b builder
	b.grow(len(n.s) + 8)
	var cur span
	emit := func(r rune) { b.add(r, cur) }
	for i := 0; i < len(n.s); {
		r, sz := utf8.DecodeRuneInString(n.s[i:])
		cur = n.runeSpan(i, sz)
		f(r, emit)
		i += sz
	}
	return b.nstr()
}

// prepend inserts s before the text, aligned to the first character.
func (n nstr) prepend(s string) nstr {
	if len(n.s) == 0 {
		return n
	}
	_, sz := utf8.DecodeRuneInString(n.s)
	sp := n.runeSpan(0, sz)
	var b builder
	b.grow(len(n.s) + len(s))
	b.addString(s, sp)
	b.buf = append(b.buf, n.s...)
	b.align = append(b.align, n.align...)
	return b.nstr()
}

// replaceRanges replaces each [start,end) byte range (sorted, disjoint) by
// content. Like NormalizedString::replace, the new characters are aligned to
// the last character of what they replace.
func (n nstr) replaceRanges(ranges [][2]int, content string) nstr {
	if len(ranges) == 0 {
		return n
	}
	var b builder
	b.grow(len(n.s) + len(ranges)*len(content))
	prev := 0
	for _, r := range ranges {
		b.buf = append(b.buf, n.s[prev:r[0]]...)
		b.align = append(b.align, n.align[prev:r[0]]...)
		var sp span
		switch {
		case r[1] > r[0]:
			sp = n.align[r[1]-1]
		case r[0] > 0: // empty match: inserted, aligned to the previous char
			sp = n.align[r[0]-1]
		case len(n.align) > 0:
			sp = span{n.align[0].start, n.align[0].start}
		}
		for i := 0; i < len(content); {
			c, sz := utf8.DecodeRuneInString(content[i:])
			b.add(c, sp)
			i += sz
		}
		prev = r[1]
	}
	b.buf = append(b.buf, n.s[prev:]...)
	b.align = append(b.align, n.align[prev:]...)
	return b.nstr()
}

// lossyUTF8 decodes bytes the way Rust's String::from_utf8_lossy does: each
// maximal invalid subsequence becomes one U+FFFD.
func lossyUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	out := make([]byte, 0, len(b)+8)
	for i := 0; i < len(b); {
		r, sz := utf8.DecodeRune(b[i:])
		if r != utf8.RuneError || sz > 1 {
			out = append(out, b[i:i+sz]...)
			i += sz
			continue
		}
		// Invalid: consume the longest prefix of a well-formed sequence.
		i += maximalSubpart(b[i:])
		out = append(out, "\uFFFD"...)
	}
	return string(out)
}

func maximalSubpart(b []byte) int {
	c := b[0]
	var need int
	lo, hi := byte(0x80), byte(0xBF)
	switch {
	case c >= 0xC2 && c <= 0xDF:
		need = 1
	case c == 0xE0:
		need, lo = 2, 0xA0
	case c >= 0xE1 && c <= 0xEC, c == 0xEE, c == 0xEF:
		need = 2
	case c == 0xED:
		need, hi = 2, 0x9F
	case c == 0xF0:
		need, lo = 3, 0x90
	case c >= 0xF1 && c <= 0xF3:
		need = 3
	case c == 0xF4:
		need, hi = 3, 0x8F
	default:
		return 1
	}
	i := 1
	for ; i <= need && i < len(b); i++ {
		if b[i] < lo || b[i] > hi {
			break
		}
		lo, hi = 0x80, 0xBF
	}
	return i
}

package tokenizer

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

type normalizer interface {
	normalize(n nstr) nstr
}

type normalizerJSON struct {
	Type               string            `json:"type"`
	CleanText          *bool             `json:"clean_text"`
	HandleChineseChars *bool             `json:"handle_chinese_chars"`
	StripAccents       *bool             `json:"strip_accents"`
	Lowercase          *bool             `json:"lowercase"`
	StripLeft          *bool             `json:"strip_left"`
	StripRight         *bool             `json:"strip_right"`
	Pattern            patternJSON       `json:"pattern"`
	Content            string            `json:"content"`
	Prepend            string            `json:"prepend"`
	Charsmap           string            `json:"precompiled_charsmap"`
	Normalizers        []json.RawMessage `json:"normalizers"`
}

func boolOr(p *bool, d bool) bool {
	if p == nil {
		return d
	}
	return *p
}

func parseNormalizer(raw json.RawMessage) (normalizer, error) {
	return parseComponent(raw, "normalizer", buildNormalizer)
}

func buildNormalizer(j *normalizerJSON) (normalizer, error) {
	switch j.Type {
	case "BertNormalizer":
		lower := boolOr(j.Lowercase, true)
		return bertNormalizer{
			clean:   boolOr(j.CleanText, true),
			chinese: boolOr(j.HandleChineseChars, true),
			strip:   boolOr(j.StripAccents, lower),
			lower:   lower,
		}, nil
	case "Lowercase":
		return lowercaseNormalizer{}, nil
	case "NFD":
		return unicodeNormalizer{norm.NFD}, nil
	case "NFKD":
		return unicodeNormalizer{norm.NFKD}, nil
	case "NFC":
		return unicodeNormalizer{norm.NFC}, nil
	case "NFKC":
		return unicodeNormalizer{norm.NFKC}, nil
	case "StripAccents":
		return stripAccentsNormalizer{}, nil
	case "Strip":
		return stripNormalizer{left: boolOr(j.StripLeft, true), right: boolOr(j.StripRight, true)}, nil
	case "Replace":
		m, err := j.Pattern.compile()
		if err != nil {
			return nil, fmt.Errorf("Replace normalizer: %w", err)
		}
		return replaceNormalizer{m: m, content: j.Content}, nil
	case "Prepend":
		return prependNormalizer{j.Prepend}, nil
	case "Nmt":
		return nmtNormalizer{}, nil
	case "ByteLevel":
		return byteLevelNormalizer{}, nil
	case "Precompiled":
		data, err := base64.StdEncoding.DecodeString(j.Charsmap)
		if err != nil {
			return nil, fmt.Errorf("Precompiled normalizer: charsmap: %w", err)
		}
		return newPrecompiled(data)
	case "Sequence":
		return parseSequence[seqNormalizer](j.Normalizers, parseNormalizer)
	}
	return nil, fmt.Errorf("unsupported normalizer type %q", j.Type)
}

type seqNormalizer []normalizer

func (s seqNormalizer) normalize(n nstr) nstr {
	for _, x := range s {
		n = x.normalize(n)
	}
	return n
}

type bertNormalizer struct{ clean, chinese, strip, lower bool }

func (b bertNormalizer) normalize(n nstr) nstr {
	if b.clean || b.chinese {
		n = n.mapRunes(func(r rune, emit func(rune)) {
			if b.clean {
				if r == 0 || r == 0xFFFD {
					return
				}
				if r == '\t' || r == '\n' || r == '\r' {
					emit(' ')
					return
				}
				if isOther(r) {
					return
				}
				if isWhitespace(r) {
					r = ' '
				}
			}
			if b.chinese && isChinese(r) {
				emit(' ')
				emit(r)
				emit(' ')
				return
			}
			emit(r)
		})
	}
	if b.strip {
		n = unicodeNormalizer{norm.NFD}.normalize(n)
		if !isASCII(n.s) {
			n = n.mapRunes(func(r rune, emit func(rune)) {
				if unicode.Is(unicode.Mn, r) {
					return
				}
				if b.lower {
					toLower(r, emit)
				} else {
					emit(r)
				}
			})
			return n // lowercased above
		}
	}
	if b.lower {
		n = lowercaseNormalizer{}.normalize(n)
	}
	return n
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

type lowercaseNormalizer struct{}

func (lowercaseNormalizer) normalize(n nstr) nstr {
	for i := 0; i < len(n.s); i++ {
		c := n.s[i]
		if c >= 0x80 || (c >= 'A' && c <= 'Z') {
			return n.mapRunes(toLower)
		}
	}
	return n
}

type unicodeNormalizer struct{ f norm.Form }

// normalize works segment by segment (between normalization boundaries) so
// every output character stays aligned to the input it came from. Within a
// segment, a character that expands keeps its own range for all its output
// (NFD, NFKC's "ﬁ" → "fi"); characters composed together take the range of
// the first one, as unicode-normalization-alignments reports in Rust.
func (u unicodeNormalizer) normalize(n nstr) nstr {
	if u.f.IsNormalString(n.s) {
		return n
	}
	var b builder
	b.grow(len(n.s) + 16)
	for i := 0; i < len(n.s); {
		// Copy the longest already-normal stretch in one go.
		if q := u.f.QuickSpanString(n.s[i:]); q > 0 {
			b.buf = append(b.buf, n.s[i:i+q]...)
			b.align = append(b.align, n.align[i:i+q]...)
			i += q
			if i >= len(n.s) {
				break
			}
		}
		k := u.f.NextBoundaryInString(n.s[i:], true)
		if k <= 0 {
			k = len(n.s) - i
		}
		seg := n.s[i : i+k]
		out := u.f.String(seg)
		if out == seg {
			b.buf = append(b.buf, seg...)
			b.align = append(b.align, n.align[i:i+k]...)
		} else {
			u.alignSegment(&b, n, i, seg, out)
		}
		i += k
	}
	return b.nstr()
}

func (u unicodeNormalizer) alignSegment(b *builder, n nstr, off int, seg, out string) {
	// Per character: works whenever the segment's result is the
	// concatenation of its characters' results (no reordering, no composing).
	var parts []string
	joined := 0
	for j := 0; j < len(seg); {
		_, sz := utf8.DecodeRuneInString(seg[j:])
		p := u.f.String(seg[j : j+sz])
		parts = append(parts, p)
		joined += len(p)
		j += sz
	}
	if joined == len(out) && strings.Join(parts, "") == out {
		j := 0
		for _, p := range parts {
			_, sz := utf8.DecodeRuneInString(seg[j:])
			b.addString(p, n.runeSpan(off+j, sz))
			j += sz
		}
		return
	}
	// Composition: pair output characters with input characters in order.
	addPositional(b, n, off, seg, out)
}

type stripAccentsNormalizer struct{}

func (stripAccentsNormalizer) normalize(n nstr) nstr {
	return n.mapRunes(func(r rune, emit func(rune)) {
		if !unicode.IsMark(r) {
			emit(r)
		}
	})
}

type stripNormalizer struct{ left, right bool }

func (s stripNormalizer) normalize(n nstr) nstr {
	a, b := 0, len(n.s)
	if s.left {
		for a < b {
			r, sz := decodeRune(n.s[a:])
			if !isWhitespace(r) {
				break
			}
			a += sz
		}
	}
	if s.right {
		for b > a {
			r, sz := decodeLastRune(n.s[a:b])
			if !isWhitespace(r) {
				break
			}
			b -= sz
		}
	}
	return n.slice(a, b)
}

type replaceNormalizer struct {
	m       matcher
	content string
}

func (r replaceNormalizer) normalize(n nstr) nstr {
	return n.replaceRanges(r.m.find(n.s), r.content)
}

type prependNormalizer struct{ s string }

func (p prependNormalizer) normalize(n nstr) nstr { return n.prepend(p.s) }

type nmtNormalizer struct{}

func (nmtNormalizer) normalize(n nstr) nstr {
	return n.mapRunes(func(r rune, emit func(rune)) {
		switch {
		case (r >= 1 && r <= 8) || r == 0x0B || (r >= 0x0E && r <= 0x1F) || r == 0x7F || r == 0x8F || r == 0x9F:
			return
		case r == 0x09 || r == 0x0A || r == 0x0C || r == 0x0D || r == 0x1680 || (r >= 0x200B && r <= 0x200F) ||
			r == 0x2028 || r == 0x2029 || r == 0x2581 || r == 0xFEFF || r == 0xFFFD:
			emit(' ')
		default:
			emit(r)
		}
	})
}

// byteLevelNormalizer maps every byte to its GPT-2 stand-in character.
type byteLevelNormalizer struct{}

func (byteLevelNormalizer) normalize(n nstr) nstr {
	if n.s == "" {
		return n
	}
	return byteMap(n)
}

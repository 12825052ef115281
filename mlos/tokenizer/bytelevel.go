package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// GPT-2's reversible byte → printable-char table.
var (
	byteToRune [256]rune
	runeToByte = map[rune]byte{}
)

func init() {
	n := 0
	for b := 0; b < 256; b++ {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			byteToRune[b] = rune(b)
		} else {
			byteToRune[b] = rune(256 + n)
			n++
		}
		runeToByte[byteToRune[b]] = byte(b)
	}
}

type byteLevelPre struct {
	addPrefixSpace bool
	useRegex       bool
}

func (p byteLevelPre) split(n nstr, dst []nstr) []nstr {
	if p.addPrefixSpace && (len(n.s) == 0 || n.s[0] != ' ') {
		n = n.prepend(" ")
	}
	start := len(dst)
	if p.useRegex {
		dst = gpt2Split(n, dst)
	} else if n.s != "" {
		dst = append(dst, n)
	}
	for i := start; i < len(dst); i++ {
		dst[i] = byteMap(dst[i])
	}
	return dst
}

// byteMap replaces every byte by its printable stand-in, each aligned to the
// original character the byte belonged to.
func byteMap(n nstr) nstr {
	var b builder
	b.grow(len(n.s) * 2)
	for i := 0; i < len(n.s); i++ {
		b.add(byteToRune[n.s[i]], n.align[i])
	}
	return b.nstr()
}

func isL(r rune) bool {
	if r < utf8.RuneSelf {
		return r|0x20 >= 'a' && r|0x20 <= 'z'
	}
	return unicode.IsLetter(r)
}

func isN(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= '0' && r <= '9'
	}
	return unicode.IsNumber(r)
}

// gpt2Split is a hand-written matcher for GPT-2's pre-tokenization regex
//
//	's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//
// (Isolated behaviour: every match and every gap becomes a piece).
func gpt2Split(n nstr, dst []nstr) []nstr {
	s := n.s
	i := 0
	for i < len(s) {
		j := gpt2Match(s, i)
		dst = append(dst, n.slice(i, j))
		i = j
	}
	return dst
}

// class of a rune for the regex: 0 whitespace, 1 letter, 2 number, 3 other.
func gpt2Class(r rune) int {
	switch {
	case isL(r):
		return 1
	case isN(r):
		return 2
	case isWhitespace(r):
		return 0
	}
	return 3
}

func runOf(s string, i, class int) int {
	for i < len(s) {
		r, sz := decodeRune(s[i:])
		if gpt2Class(r) != class {
			break
		}
		i += sz
	}
	return i
}

// gpt2Match returns the end of the match starting at i (there is always one:
// every char is either matched by an alternative or, being whitespace, by \s+).
func gpt2Match(s string, i int) int {
	c := s[i]
	if c == '\'' && i+1 < len(s) {
		switch s[i+1] {
		case 's', 't', 'm', 'd':
			return i + 2
		case 'r', 'v':
			if i+2 < len(s) && s[i+2] == 'e' {
				return i + 3
			}
		case 'l':
			if i+2 < len(s) && s[i+2] == 'l' {
				return i + 3
			}
		}
	}
	r, sz := decodeRune(s[i:])
	cl := gpt2Class(r)
	if r == ' ' && i+1 < len(s) {
		r2, sz2 := decodeRune(s[i+1:])
		if cl2 := gpt2Class(r2); cl2 != 0 {
			return runOf(s, i+1+sz2, cl2)
		}
	}
	if cl != 0 {
		return runOf(s, i+sz, cl)
	}
	// whitespace: \s+(?!\S) then \s+
	end := runOf(s, i+sz, 0)
	if end == len(s) {
		return end
	}
	// back off one char so the last whitespace can prefix the next word
	_, lsz := decodeLastRune(s[:end])
	if end-lsz > i {
		return end - lsz
	}
	return end
}

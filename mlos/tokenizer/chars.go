package tokenizer

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/dlclark/regexp2/v2"
)

// Character classes as the Rust standard library and the regex crate define
// them; Hugging Face tokenizers relies on those definitions.

func isWhitespace(r rune) bool { // char::is_whitespace
	if r < utf8.RuneSelf {
		return r == ' ' || (r >= '\t' && r <= '\r')
	}
	return unicode.Is(unicode.White_Space, r)
}

func isAlphabetic(r rune) bool {
	return unicode.IsLetter(r) || unicode.Is(unicode.Nl, r) || unicode.Is(unicode.Other_Alphabetic, r)
}

func isNumeric(r rune) bool { return unicode.IsNumber(r) } // Nd | Nl | No

// isRegexWord is the regex crate's Unicode \w.
func isRegexWord(r rune) bool {
	if r < utf8.RuneSelf {
		return r == '_' || (r >= '0' && r <= '9') || (r|0x20 >= 'a' && r|0x20 <= 'z')
	}
	return isAlphabetic(r) || unicode.IsMark(r) || unicode.Is(unicode.Nd, r) ||
		unicode.Is(unicode.Pc, r) || r == 0x200C || r == 0x200D
}

func isASCIIPunct(r rune) bool {
	return (r >= '!' && r <= '/') || (r >= ':' && r <= '@') || (r >= '[' && r <= '`') || (r >= '{' && r <= '~')
}

// isPunct is is_bert_punc / is_punc: ASCII punctuation or Unicode P*.
func isPunct(r rune) bool {
	if r < utf8.RuneSelf {
		return isASCIIPunct(r)
	}
	return unicode.IsPunct(r)
}

// isOther is General_Category C*, including unassigned code points (Cn).
func isOther(r rune) bool {
	if unicode.In(r, unicode.C) {
		return true
	}
	return !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z)
}

func isChinese(r rune) bool {
	return (r >= 0x4E00 && r <= 0x9FFF) || (r >= 0x3400 && r <= 0x4DBF) ||
		(r >= 0x20000 && r <= 0x2A6DF) || (r >= 0x2A700 && r <= 0x2B73F) ||
		(r >= 0x2B740 && r <= 0x2B81F) || (r >= 0x2B920 && r <= 0x2CEAF) ||
		(r >= 0xF900 && r <= 0xFAFF) || (r >= 0x2F800 && r <= 0x2FA1F)
}

// toLower follows Rust's char::to_lowercase, which maps U+0130 to two chars.
func toLower(r rune, emit func(rune)) {
	if r < utf8.RuneSelf {
		if r >= 'A' && r <= 'Z' {
			r += 'a' - 'A'
		}
		emit(r)
		return
	}
	if r == 0x130 {
		emit('i')
		emit(0x307)
		return
	}
	emit(unicode.ToLower(r))
}

// matcher finds non-overlapping matches in a string; results are byte ranges.
type matcher interface {
	find(s string) [][2]int
}

type literalMatcher string

func (m literalMatcher) find(s string) [][2]int {
	if len(m) == 0 {
		return nil
	}
	var out [][2]int
	off := 0
	for {
		i := strings.Index(s[off:], string(m))
		if i < 0 {
			return out
		}
		out = append(out, [2]int{off + i, off + i + len(m)})
		off += i + len(m)
	}
}

// regexMatcher uses regexp2 because tokenizer.json patterns are written for
// Oniguruma (look-around, Unicode \s and \d) which Go's RE2 engine lacks.
// A compiled regexp2.Regexp is safe for concurrent use.
type regexMatcher struct{ re *regexp2.Regexp }

func (m regexMatcher) find(s string) [][2]int {
	if s == "" {
		return nil
	}
	idx, err := m.re.FindAllStringIndex(s, -1)
	if err != nil {
		return nil
	}
	out := make([][2]int, len(idx))
	for i, p := range idx {
		out[i] = [2]int{p[0], p[1]}
	}
	return out
}

// patternJSON is the {"String": "..."} / {"Regex": "..."} pattern of Split and Replace.
type patternJSON struct {
	String *string `json:"String"`
	Regex  *string `json:"Regex"`
}

func (p patternJSON) compile() (matcher, error) {
	switch {
	case p.String != nil:
		return literalMatcher(*p.String), nil
	case p.Regex != nil:
		re, err := regexp2.Compile(*p.Regex, regexp2.None)
		if err != nil {
			return nil, fmt.Errorf("compile pattern %q: %w", *p.Regex, err)
		}
		// A backtracking engine: bound each match so a hostile input cannot
		// pin a CPU (on timeout the piece is left unsplit).
		re.MatchTimeout = 2 * time.Second
		return regexMatcher{re}, nil
	}
	return nil, fmt.Errorf("pattern has neither String nor Regex")
}

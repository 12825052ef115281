package tokenizer

import (
	"encoding/json"
	"fmt"
	"sort"
	"unicode"
	"unicode/utf8"
)

// preTokenizer splits one piece of normalized text into words (appending to dst).
type preTokenizer interface {
	split(n nstr, dst []nstr) []nstr
}

type behavior int

const (
	removed behavior = iota
	isolated
	mergedWithPrevious
	mergedWithNext
	contiguous
)

func parseBehavior(s string, def behavior) (behavior, error) {
	switch s {
	case "":
		return def, nil
	case "Removed":
		return removed, nil
	case "Isolated":
		return isolated, nil
	case "MergedWithPrevious":
		return mergedWithPrevious, nil
	case "MergedWithNext":
		return mergedWithNext, nil
	case "Contiguous":
		return contiguous, nil
	}
	return 0, fmt.Errorf("unknown split behavior %q", s)
}

type match struct {
	a, b int
	hit  bool
}

// splitBy applies a delimiter behaviour to the (complete, ordered) match list
// of n, exactly as NormalizedString::split does.
func splitBy(n nstr, ms []match, beh behavior, dst []nstr) []nstr {
	switch beh {
	case isolated:
		for i := range ms {
			ms[i].hit = false
		}
	case contiguous:
		// a run of hits, or of gaps, is one piece
		ms = joinForward(ms, func(hit, prev bool) bool { return hit == prev })
	case mergedWithPrevious:
		// a hit that follows a gap ends that gap's piece
		ms = joinForward(ms, func(hit, prev bool) bool { return hit && !prev })
	case mergedWithNext:
		var out []match
		prev := false
		for i := len(ms) - 1; i >= 0; i-- {
			m := ms[i]
			if m.hit && !prev && len(out) > 0 {
				out[len(out)-1].a = m.a
			} else {
				out = append(out, match{m.a, m.b, false})
			}
			prev = m.hit
		}
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
		ms = out
	}
	for _, m := range ms {
		if m.hit || m.a == m.b {
			continue
		}
		dst = append(dst, n.slice(m.a, m.b))
	}
	return dst
}

// joinForward turns the matches into pieces (none a hit) in place: a match
// that join(its hit, the previous match's hit) says belongs to the piece
// before it extends that piece; any other starts a new one.
func joinForward(ms []match, join func(hit, prev bool) bool) []match {
	out := ms[:0]
	prev := false
	for _, m := range ms {
		if join(m.hit, prev) && len(out) > 0 {
			out[len(out)-1].b = m.b
		} else {
			out = append(out, match{m.a, m.b, false})
		}
		prev = m.hit
	}
	return out
}

// charMatches: every char satisfying f is its own match; runs of others are one gap.
func charMatches(s string, f func(rune) bool, ms []match) []match {
	last := 0
	for i := 0; i < len(s); {
		r, sz := decodeRune(s[i:])
		if f(r) {
			if last < i {
				ms = append(ms, match{last, i, false})
			}
			ms = append(ms, match{i, i + sz, true})
			last = i + sz
		}
		i += sz
	}
	if last < len(s) {
		ms = append(ms, match{last, len(s), false})
	}
	return ms
}

func rangeMatches(s string, rs [][2]int, invert bool) []match {
	ms := make([]match, 0, 2*len(rs)+1)
	prev := 0
	for _, r := range rs {
		if prev != r[0] {
			ms = append(ms, match{prev, r[0], invert})
		}
		ms = append(ms, match{r[0], r[1], !invert})
		prev = r[1]
	}
	if prev != len(s) {
		ms = append(ms, match{prev, len(s), invert})
	}
	return ms
}

type preTokenizerJSON struct {
	Type             string            `json:"type"`
	AddPrefixSpace   *bool             `json:"add_prefix_space"`
	TrimOffsets      *bool             `json:"trim_offsets"`
	UseRegex         *bool             `json:"use_regex"`
	Replacement      string            `json:"replacement"`
	PrependScheme    string            `json:"prepend_scheme"`
	Split            *bool             `json:"split"`
	Behavior         string            `json:"behavior"`
	IndividualDigits bool              `json:"individual_digits"`
	Pattern          patternJSON       `json:"pattern"`
	Invert           bool              `json:"invert"`
	Delimiter        string            `json:"delimiter"`
	Length           *int              `json:"length"`
	PreTokenizers    []json.RawMessage `json:"pretokenizers"`
}

func parsePreTokenizer(raw json.RawMessage) (preTokenizer, error) {
	return parseComponent(raw, "pre_tokenizer", buildPreTokenizer)
}

func buildPreTokenizer(j *preTokenizerJSON) (preTokenizer, error) {
	switch j.Type {
	case "BertPreTokenizer":
		return bertPre{}, nil
	case "Whitespace":
		return whitespacePre{}, nil
	case "WhitespaceSplit":
		return whitespaceSplitPre{}, nil
	case "ByteLevel":
		return byteLevelPre{addPrefixSpace: boolOr(j.AddPrefixSpace, true), useRegex: boolOr(j.UseRegex, true)}, nil
	case "Metaspace":
		m, err := newMetaspace(j.Replacement, j.PrependScheme, j.AddPrefixSpace, boolOr(j.Split, true))
		if err != nil {
			return nil, err
		}
		return m, nil
	case "Punctuation":
		b, err := parseBehavior(j.Behavior, isolated)
		if err != nil {
			return nil, err
		}
		return punctuationPre{b}, nil
	case "Digits":
		return digitsPre{j.IndividualDigits}, nil
	case "FixedLength":
		if j.Length == nil {
			return fixedLengthPre{5}, nil
		}
		if *j.Length <= 0 {
			return nil, fmt.Errorf("FixedLength pre-tokenizer: length must be positive")
		}
		return fixedLengthPre{*j.Length}, nil
	case "UnicodeScripts":
		return unicodeScriptsPre{}, nil
	case "CharDelimiterSplit":
		r, _ := utf8.DecodeRuneInString(j.Delimiter)
		return charDelimiterPre{r}, nil
	case "Split":
		b, err := parseBehavior(j.Behavior, removed)
		if err != nil {
			return nil, err
		}
		m, err := j.Pattern.compile()
		if err != nil {
			return nil, fmt.Errorf("Split pre-tokenizer: %w", err)
		}
		return splitPre{m: m, beh: b, invert: j.Invert}, nil
	case "Sequence":
		return parseSequence[seqPre](j.PreTokenizers, parsePreTokenizer)
	}
	return nil, fmt.Errorf("unsupported pre_tokenizer type %q", j.Type)
}

type seqPre []preTokenizer

func (s seqPre) split(n nstr, dst []nstr) []nstr {
	cur := []nstr{n}
	var next []nstr
	for _, p := range s {
		next = next[:0]
		for _, c := range cur {
			next = p.split(c, next)
		}
		cur, next = next, cur
	}
	return append(dst, cur...)
}

type bertPre struct{}

func (bertPre) split(n nstr, dst []nstr) []nstr {
	var ms []match
	ms = charMatches(n.s, isWhitespace, ms)
	var words []nstr
	words = splitBy(n, ms, removed, words)
	for _, w := range words {
		ms = charMatches(w.s, isPunct, ms[:0])
		dst = splitBy(w, ms, isolated, dst)
	}
	return dst
}

type whitespacePre struct{}

// split implements the regex \w+|[^\w\s]+ (kept) with everything else removed.
func (whitespacePre) split(n nstr, dst []nstr) []nstr {
	s := n.s
	start, kind := -1, 0 // kind 1: word run, 2: other run
	for i := 0; i < len(s); {
		r, sz := decodeRune(s[i:])
		k := 2
		if isRegexWord(r) {
			k = 1
		} else if isWhitespace(r) {
			k = 0
		}
		if k != kind {
			if kind != 0 {
				dst = append(dst, n.slice(start, i))
			}
			start, kind = i, k
		}
		i += sz
	}
	if kind != 0 {
		dst = append(dst, n.slice(start, len(s)))
	}
	return dst
}

type whitespaceSplitPre struct{}

func (whitespaceSplitPre) split(n nstr, dst []nstr) []nstr {
	return splitBy(n, charMatches(n.s, isWhitespace, nil), removed, dst)
}

type punctuationPre struct{ beh behavior }

func (p punctuationPre) split(n nstr, dst []nstr) []nstr {
	return splitBy(n, charMatches(n.s, isPunct, nil), p.beh, dst)
}

type digitsPre struct{ individual bool }

func (d digitsPre) split(n nstr, dst []nstr) []nstr {
	b := contiguous
	if d.individual {
		b = isolated
	}
	return splitBy(n, charMatches(n.s, isNumeric, nil), b, dst)
}

type charDelimiterPre struct{ r rune }

func (c charDelimiterPre) split(n nstr, dst []nstr) []nstr {
	return splitBy(n, charMatches(n.s, func(r rune) bool { return r == c.r }, nil), removed, dst)
}

type splitPre struct {
	m      matcher
	beh    behavior
	invert bool
}

func (p splitPre) split(n nstr, dst []nstr) []nstr {
	if n.s == "" {
		return dst
	}
	return splitBy(n, rangeMatches(n.s, p.m.find(n.s), p.invert), p.beh, dst)
}

type prependScheme int

const (
	prependAlways prependScheme = iota
	prependFirst
	prependNever
)

type metaspace struct {
	repl       rune
	str        string
	scheme     prependScheme
	splitWords bool
}

func newMetaspace(repl, scheme string, addPrefix *bool, split bool) (*metaspace, error) {
	if repl == "" {
		repl = "▁"
	}
	r, _ := utf8.DecodeRuneInString(repl)
	m := &metaspace{repl: r, str: string(r), splitWords: split}
	switch scheme {
	case "always":
		m.scheme = prependAlways
	case "first":
		m.scheme = prependFirst
	case "never":
		m.scheme = prependNever
	case "":
		if addPrefix != nil && !*addPrefix {
			m.scheme = prependNever
		}
	default:
		return nil, fmt.Errorf("Metaspace: unknown prepend_scheme %q", scheme)
	}
	return m, nil
}

func (m *metaspace) split(n nstr, dst []nstr) []nstr {
	var rs [][2]int
	for i := 0; i < len(n.s); i++ {
		if n.s[i] == ' ' {
			rs = append(rs, [2]int{i, i + 1})
		}
	}
	n = n.replaceRanges(rs, m.str)
	switch m.scheme {
	case prependAlways:
		if !hasPrefixRune(n.s, m.repl) {
			n = n.prepend(m.str)
		}
	case prependFirst:
		if !hasPrefixRune(n.s, m.repl) && len(n.align) > 0 && n.align[0].start == 0 {
			n = n.prepend(m.str)
		}
	}
	if !m.splitWords {
		if n.s == "" {
			return dst
		}
		return append(dst, n)
	}
	return splitBy(n, charMatches(n.s, func(r rune) bool { return r == m.repl }, nil), mergedWithNext, dst)
}

func hasPrefixRune(s string, r rune) bool {
	c, _ := utf8.DecodeRuneInString(s)
	return len(s) > 0 && c == r
}

func decodeRune(s string) (rune, int) {
	if s[0] < utf8.RuneSelf {
		return rune(s[0]), 1
	}
	return utf8.DecodeRuneInString(s)
}

func decodeLastRune(s string) (rune, int) {
	if s[len(s)-1] < utf8.RuneSelf {
		return rune(s[len(s)-1]), 1
	}
	return utf8.DecodeLastRuneInString(s)
}

// fixedLengthPre cuts text into pieces of length characters.
type fixedLengthPre struct{ length int }

func (f fixedLengthPre) split(n nstr, dst []nstr) []nstr {
	start, count := 0, 0
	for i := 0; i < len(n.s); {
		_, sz := decodeRune(n.s[i:])
		i += sz
		count++
		if count == f.length {
			dst = append(dst, n.slice(start, i))
			start, count = i, 0
		}
	}
	if start < len(n.s) {
		dst = append(dst, n.slice(start, len(n.s)))
	}
	return dst
}

// unicodeScriptsPre splits where the Unicode script changes, like
// SentencePiece: Hiragana, Katakana and U+30FC count as Han, a space
// belongs to no script (and, as in Rust, text before the first character
// with a script is dropped).
type unicodeScriptsPre struct{}

var (
	commonScripts = []*unicode.RangeTable{unicode.Latin, unicode.Common, unicode.Han, unicode.Hiragana,
		unicode.Katakana, unicode.Inherited, unicode.Cyrillic, unicode.Greek, unicode.Arabic, unicode.Hangul,
		unicode.Hebrew, unicode.Thai, unicode.Devanagari}
	allScripts = func() []*unicode.RangeTable {
		names := make([]string, 0, len(unicode.Scripts))
		for n := range unicode.Scripts {
			names = append(names, n)
		}
		sort.Strings(names)
		out := make([]*unicode.RangeTable, len(names))
		for i, n := range names {
			out[i] = unicode.Scripts[n]
		}
		return out
	}()
)

// scriptOf returns the script's table, or nil for "Any".
func scriptOf(r rune) *unicode.RangeTable {
	switch {
	case r == ' ':
		return nil
	case r == 0x30FC:
		return unicode.Han
	}
	var t *unicode.RangeTable
	for _, s := range commonScripts {
		if unicode.Is(s, r) {
			t = s
			break
		}
	}
	if t == nil {
		for _, s := range allScripts {
			if unicode.Is(s, r) {
				t = s
				break
			}
		}
	}
	if t == unicode.Hiragana || t == unicode.Katakana {
		return unicode.Han
	}
	return t
}

func (unicodeScriptsPre) split(n nstr, dst []nstr) []nstr {
	var cuts []int
	var last *unicode.RangeTable
	started := false
	for i := 0; i < len(n.s); {
		r, sz := decodeRune(n.s[i:])
		sc := scriptOf(r)
		if sc != nil && (!started || last != sc) {
			cuts = append(cuts, i)
		}
		if sc != nil {
			last, started = sc, true
		}
		i += sz
	}
	cuts = append(cuts, len(n.s))
	for k := 0; k+1 < len(cuts); k++ {
		if cuts[k] < cuts[k+1] {
			dst = append(dst, n.slice(cuts[k], cuts[k+1]))
		}
	}
	return dst
}

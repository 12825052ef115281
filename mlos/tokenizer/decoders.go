package tokenizer

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// decoder rewrites the token strings (decode_chain); Decode joins the result.
type decoder interface {
	decode(tokens []string) []string
}

type decoderJSON struct {
	Type           string            `json:"type"`
	Prefix         *string           `json:"prefix"`
	Cleanup        *bool             `json:"cleanup"`
	Replacement    string            `json:"replacement"`
	PrependScheme  string            `json:"prepend_scheme"`
	AddPrefixSpace *bool             `json:"add_prefix_space"`
	Suffix         *string           `json:"suffix"`
	Pattern        patternJSON       `json:"pattern"`
	Content        string            `json:"content"`
	Start          int               `json:"start"`
	Stop           int               `json:"stop"`
	PadToken       string            `json:"pad_token"`
	WordDelimiter  string            `json:"word_delimiter_token"`
	Decoders       []json.RawMessage `json:"decoders"`
}

func parseDecoder(raw json.RawMessage) (decoder, error) {
	return parseComponent(raw, "decoder", buildDecoder)
}

func buildDecoder(j *decoderJSON) (decoder, error) {
	switch j.Type {
	case "WordPiece":
		d := wordPieceDec{prefix: "##", cleanup: boolOr(j.Cleanup, true)}
		if j.Prefix != nil {
			d.prefix = *j.Prefix
		}
		return d, nil
	case "ByteLevel":
		return byteLevelDec{}, nil
	case "Metaspace":
		m, err := newMetaspace(j.Replacement, j.PrependScheme, j.AddPrefixSpace, true)
		if err != nil {
			return nil, err
		}
		return metaspaceDec{m}, nil
	case "BPEDecoder":
		s := "</w>"
		if j.Suffix != nil {
			s = *j.Suffix
		}
		return bpeDec{s}, nil
	case "Replace":
		m, err := j.Pattern.compile()
		if err != nil {
			return nil, fmt.Errorf("Replace decoder: %w", err)
		}
		return replaceDec{m: m, content: j.Content}, nil
	case "Strip":
		r, _ := utf8.DecodeRuneInString(j.Content)
		return stripDec{r: r, start: j.Start, stop: j.Stop}, nil
	case "Fuse":
		return fuseDec{}, nil
	case "ByteFallback":
		return byteFallbackDec{}, nil
	case "CTC":
		pad, wd := j.PadToken, j.WordDelimiter
		if pad == "" {
			pad = "<pad>"
		}
		if wd == "" {
			wd = "|"
		}
		return ctcDec{pad: pad, wd: wd, cleanup: boolOr(j.Cleanup, true)}, nil
	case "Sequence":
		return parseSequence[seqDec](j.Decoders, parseDecoder)
	}
	return nil, fmt.Errorf("unsupported decoder type %q", j.Type)
}

type seqDec []decoder

func (s seqDec) decode(t []string) []string {
	for _, d := range s {
		t = d.decode(t)
	}
	return t
}

// cleanup is the WordPiece decoder's clean_up_tokenization: each replacement
// applied over the whole string in turn (not a single-pass replacer).
func cleanup(s string) string {
	for _, p := range [][2]string{{" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"},
		{" n't", "n't"}, {" 'm", "'m"}, {" do not", " don't"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}} {
		if strings.Contains(s, p[0]) {
			s = strings.ReplaceAll(s, p[0], p[1])
		}
	}
	return s
}

type wordPieceDec struct {
	prefix  string
	cleanup bool
}

func (d wordPieceDec) decode(t []string) []string {
	out := make([]string, len(t))
	for i, tok := range t {
		if i != 0 {
			if strings.HasPrefix(tok, d.prefix) {
				tok = strings.Replace(tok, d.prefix, "", 1)
			} else {
				tok = " " + tok
			}
		}
		if d.cleanup {
			tok = cleanup(tok)
		}
		out[i] = tok
	}
	return out
}

type byteLevelDec struct{}

func (byteLevelDec) decode(t []string) []string {
	var b []byte
	for _, tok := range t {
		mark := len(b)
		ok := true
		for _, r := range tok {
			c, found := runeToByte[r]
			if !found {
				ok = false
				break
			}
			b = append(b, c)
		}
		if !ok {
			b = append(b[:mark], tok...)
		}
	}
	return []string{lossyUTF8(b)}
}

type metaspaceDec struct{ m *metaspace }

func (d metaspaceDec) decode(t []string) []string {
	out := make([]string, len(t))
	for i, tok := range t {
		var sb strings.Builder
		for _, r := range tok {
			if r == d.m.repl {
				if i == 0 && d.m.scheme != prependNever {
					continue
				}
				sb.WriteByte(' ')
				continue
			}
			sb.WriteRune(r)
		}
		out[i] = sb.String()
	}
	return out
}

type bpeDec struct{ suffix string }

func (d bpeDec) decode(t []string) []string {
	out := make([]string, len(t))
	for i, tok := range t {
		rep := " "
		if i == len(t)-1 {
			rep = ""
		}
		out[i] = strings.ReplaceAll(tok, d.suffix, rep)
	}
	return out
}

type replaceDec struct {
	m       matcher
	content string
}

func (d replaceDec) decode(t []string) []string {
	out := make([]string, len(t))
	for i, tok := range t {
		ms := d.m.find(tok)
		if len(ms) == 0 {
			out[i] = tok
			continue
		}
		var sb strings.Builder
		prev := 0
		for _, m := range ms {
			sb.WriteString(tok[prev:m[0]])
			sb.WriteString(d.content)
			prev = m[1]
		}
		sb.WriteString(tok[prev:])
		out[i] = sb.String()
	}
	return out
}

type stripDec struct {
	r           rune
	start, stop int
}

func (d stripDec) decode(t []string) []string {
	out := make([]string, len(t))
	for i, tok := range t {
		rs := []rune(tok)
		a := 0
		for a < d.start && a < len(rs) && rs[a] == d.r {
			a++
		}
		b := len(rs)
		for k := 0; k < d.stop && b > a && rs[b-1] == d.r; k++ {
			b--
		}
		out[i] = string(rs[a:b])
	}
	return out
}

type fuseDec struct{}

func (fuseDec) decode(t []string) []string { return []string{strings.Join(t, "")} }

type byteFallbackDec struct{}

func parseByteToken(tok string) (byte, bool) {
	if len(tok) != 6 || !strings.HasPrefix(tok, "<0x") || tok[5] != '>' {
		return 0, false
	}
	v, err := strconv.ParseUint(tok[3:5], 16, 8)
	if err != nil {
		return 0, false
	}
	return byte(v), true
}

func (byteFallbackDec) decode(t []string) []string {
	out := make([]string, 0, len(t))
	var pending []byte
	flush := func() {
		if len(pending) == 0 {
			return
		}
		if utf8.Valid(pending) {
			out = append(out, string(pending))
		} else {
			for range pending {
				out = append(out, "\uFFFD")
			}
		}
		pending = pending[:0]
	}
	for _, tok := range t {
		if b, ok := parseByteToken(tok); ok {
			pending = append(pending, b)
			continue
		}
		flush()
		out = append(out, tok)
	}
	flush()
	return out
}

type ctcDec struct {
	pad, wd string
	cleanup bool
}

func (d ctcDec) decode(t []string) []string {
	var out []string
	for i, tok := range t {
		if i > 0 && tok == t[i-1] {
			continue
		}
		tok = strings.ReplaceAll(tok, d.pad, "")
		if d.cleanup {
			tok = strings.ReplaceAll(cleanup(tok), d.wd, " ")
		}
		if tok != "" {
			out = append(out, tok)
		}
	}
	return out
}

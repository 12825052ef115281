package tokenizer

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

type postProcessor interface {
	// process adds special tokens and sets type ids; encs has 1 or 2 entries.
	process(encs []*Encoding, addSpecial bool) []*Encoding
	added(pair bool) int
}

type postJSON struct {
	Type           string                     `json:"type"`
	Sep            []json.RawMessage          `json:"sep"`
	Cls            []json.RawMessage          `json:"cls"`
	TrimOffsets    *bool                      `json:"trim_offsets"`
	AddPrefixSpace *bool                      `json:"add_prefix_space"`
	Single         []templatePieceJSON        `json:"single"`
	Pair           []templatePieceJSON        `json:"pair"`
	SpecialTokens  map[string]specialTokenDef `json:"special_tokens"`
	Processors     []json.RawMessage          `json:"processors"`
}

type templatePieceJSON struct {
	SpecialToken *struct {
		ID     string `json:"id"`
		TypeID int    `json:"type_id"`
	} `json:"SpecialToken"`
	Sequence *struct {
		ID     string `json:"id"`
		TypeID int    `json:"type_id"`
	} `json:"Sequence"`
}

type specialTokenDef struct {
	ID     string   `json:"id"`
	IDs    []int    `json:"ids"`
	Tokens []string `json:"tokens"`
}

func parseTokenPair(raw []json.RawMessage, what string) (string, int, error) {
	if len(raw) != 2 {
		return "", 0, fmt.Errorf("%s: want [token, id]", what)
	}
	var s string
	var id int
	if err := json.Unmarshal(raw[0], &s); err != nil {
		return "", 0, fmt.Errorf("%s: %w", what, err)
	}
	if err := json.Unmarshal(raw[1], &id); err != nil {
		return "", 0, fmt.Errorf("%s: %w", what, err)
	}
	return s, id, nil
}

func parsePostProcessor(raw json.RawMessage) (postProcessor, error) {
	return parseComponent(raw, "post_processor", buildPostProcessor)
}

func buildPostProcessor(j *postJSON) (postProcessor, error) {
	switch j.Type {
	case "BertProcessing", "RobertaProcessing":
		sep, sepID, err := parseTokenPair(j.Sep, j.Type+" sep")
		if err != nil {
			return nil, err
		}
		cls, clsID, err := parseTokenPair(j.Cls, j.Type+" cls")
		if err != nil {
			return nil, err
		}
		b := bertPost{
			cls0: specialEnc(clsID, cls, 0),
			sep0: specialEnc(sepID, sep, 0),
			sep1: specialEnc(sepID, sep, 1),
		}
		if j.Type == "BertProcessing" {
			return &b, nil
		}
		return &robertaPost{bertPost: b, trim: boolOr(j.TrimOffsets, true), prefix: boolOr(j.AddPrefixSpace, true)}, nil
	case "ByteLevel":
		return &byteLevelPost{trim: boolOr(j.TrimOffsets, true), prefix: boolOr(j.AddPrefixSpace, true)}, nil
	case "TemplateProcessing":
		t := &templatePost{special: j.SpecialTokens}
		var err error
		if t.single, err = t.compile(j.Single); err != nil {
			return nil, err
		}
		if t.pair, err = t.compile(j.Pair); err != nil {
			return nil, err
		}
		return t, nil
	case "Sequence":
		return parseSequence[seqPost](j.Processors, parsePostProcessor)
	}
	return nil, fmt.Errorf("unsupported post_processor type %q", j.Type)
}

type seqPost []postProcessor

func (s seqPost) process(encs []*Encoding, addSpecial bool) []*Encoding {
	for i, p := range s {
		if i > 0 {
			// The next processor may modify what the previous one returned,
			// which can include the shared special-token encodings.
			for k, e := range encs {
				encs[k] = e.clone()
			}
		}
		encs = p.process(encs, addSpecial)
	}
	return encs
}

func (s seqPost) added(pair bool) int {
	n := 0
	for _, p := range s {
		n += p.added(pair)
	}
	return n
}

// specialEnc builds a one-token encoding for a special token. They are made
// once at load time and shared: finish copies them, never mutates them.
func specialEnc(id int, tok string, typeID int) *Encoding {
	e := &Encoding{}
	e.append(id, typeID, tok, [2]int{}, true, -1)
	return e
}

type bertPost struct {
	cls0, sep0, sep1 *Encoding
}

func (b *bertPost) added(pair bool) int {
	if pair {
		return 3
	}
	return 2
}

func (b *bertPost) process(encs []*Encoding, addSpecial bool) []*Encoding {
	if !addSpecial {
		return encs
	}
	out := []*Encoding{b.cls0, encs[0], b.sep0}
	if len(encs) > 1 {
		out = append(out, encs[1], b.sep1)
	}
	return out
}

type robertaPost struct {
	bertPost
	trim, prefix bool
}

func (r *robertaPost) added(pair bool) int {
	if pair {
		return 4
	}
	return 2
}

func (r *robertaPost) process(encs []*Encoding, addSpecial bool) []*Encoding {
	for _, e := range encs {
		if r.trim {
			trimOffsets(e, r.prefix)
		}
		e.setTypeIDs(0) // RoBERTa uses type id 0 everywhere
	}
	if !addSpecial {
		return encs
	}
	out := []*Encoding{r.cls0, encs[0], r.sep0}
	if len(encs) > 1 {
		out = append(out, r.sep0, encs[1], r.sep0)
	}
	return out
}

type byteLevelPost struct{ trim, prefix bool }

func (b *byteLevelPost) added(bool) int { return 0 }

func (b *byteLevelPost) process(encs []*Encoding, addSpecial bool) []*Encoding {
	if b.trim {
		for _, e := range encs {
			trimOffsets(e, b.prefix)
		}
	}
	return encs
}

// trimOffsets removes leading/trailing (byte-level) spaces from offsets, as
// the ByteLevel post-processor's trim_offsets does.
func trimOffsets(e *Encoding, addPrefixSpace bool) {
	isSp := func(r rune) bool { return r == byteToRune[' '] || isWhitespace(r) }
	for i, tok := range e.Tokens {
		lead, trail := 0, 0
		for _, r := range tok {
			if !isSp(r) {
				break
			}
			lead++
		}
		for s := tok; len(s) > 0; {
			r, sz := utf8.DecodeLastRuneInString(s)
			if !isSp(r) {
				break
			}
			trail++
			s = s[:len(s)-sz]
		}
		if lead == 0 && trail == 0 {
			continue
		}
		off := &e.Offsets[i]
		if lead > 0 {
			if (i == 0 || off[0] == 0) && addPrefixSpace && lead == 1 {
				lead = 0
			}
			off[0] = min(off[0]+lead, off[1])
		}
		if trail > 0 && off[1] >= trail {
			off[1] = max(off[1]-trail, off[0])
		}
	}
}

type templateItem struct {
	special bool
	id      string    // special token name
	enc     *Encoding // the special token(s), built once
	seq     int       // 0 for A, 1 for B
	typeID  int
}

type templatePost struct {
	single, pair []templateItem
	special      map[string]specialTokenDef
}

func (t *templatePost) compile(ps []templatePieceJSON) ([]templateItem, error) {
	var out []templateItem
	for _, p := range ps {
		switch {
		case p.SpecialToken != nil:
			def, ok := t.special[p.SpecialToken.ID]
			if !ok || len(def.IDs) != len(def.Tokens) {
				return nil, fmt.Errorf("TemplateProcessing: special token %q missing or malformed", p.SpecialToken.ID)
			}
			enc := &Encoding{}
			for k, id := range def.IDs {
				enc.append(id, p.SpecialToken.TypeID, def.Tokens[k], [2]int{}, true, -1)
			}
			out = append(out, templateItem{special: true, id: p.SpecialToken.ID, enc: enc, typeID: p.SpecialToken.TypeID})
		case p.Sequence != nil:
			seq := 0
			if p.Sequence.ID == "B" {
				seq = 1
			}
			out = append(out, templateItem{seq: seq, typeID: p.Sequence.TypeID})
		default:
			return nil, fmt.Errorf("TemplateProcessing: empty template piece")
		}
	}
	return out, nil
}

func (t *templatePost) added(pair bool) int {
	tpl := t.single
	if pair {
		tpl = t.pair
	}
	n := 0
	for _, it := range tpl {
		if it.special {
			n += len(t.special[it.id].IDs)
		}
	}
	return n
}

func (t *templatePost) process(encs []*Encoding, addSpecial bool) []*Encoding {
	tpl := t.single
	if len(encs) > 1 {
		tpl = t.pair
		if len(tpl) == 0 {
			// No pair template (Rust refuses the input): keep B after the single template.
			return append(t.process(encs[:1], addSpecial), encs[1])
		}
	}
	var out []*Encoding
	for _, it := range tpl {
		if it.special {
			if !addSpecial {
				continue
			}
			out = append(out, it.enc)
			continue
		}
		if it.seq >= len(encs) {
			continue
		}
		e := encs[it.seq]
		e.setTypeIDs(it.typeID)
		out = append(out, e)
	}
	return out
}

// Package tokenizer loads Hugging Face tokenizer.json files and encodes text
// into the same ids as the Hugging Face tokenizers library (checked against
// tokenizers 0.23.2, see testdata/README.md), in pure Go.
//
// Supported: WordPiece, BPE (byte-level, byte fallback, subword prefix and
// suffix, ignore_merges), Unigram and WordLevel models; the BertNormalizer,
// Lowercase, NFC/NFD/NFKC/NFKD, StripAccents, Strip, Replace, Prepend, Nmt,
// ByteLevel, Precompiled (SentencePiece charsmap) and Sequence normalizers;
// the Bert, Whitespace, WhitespaceSplit, ByteLevel, Metaspace, Punctuation,
// Digits, Split, CharDelimiterSplit, FixedLength, UnicodeScripts and
// Sequence pre-tokenizers; Bert, Roberta, Template, ByteLevel and Sequence
// post-processors; the usual decoders; added and special tokens
// (lstrip/rstrip/single_word/normalized); truncation and padding.
//
// Not supported: BPE dropout (ignored: encoding is deterministic),
// overflowing tokens (stride) and pre-tokenized input. Offsets are byte
// offsets into the input (the Python bindings report characters).
//
// A Tokenizer is immutable once loaded and safe for concurrent use; regexes
// and tables are built once at load time.
package tokenizer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
)

// Tokenizer encodes text into model input ids and decodes ids back to text.
type Tokenizer struct {
	normalizer normalizer
	pre        preTokenizer
	model      model
	post       postProcessor
	decoder    decoder
	added      *addedVocab
	trunc      *Truncation
	pad        *Padding
	size       int
}

type fileJSON struct {
	AddedTokens   []AddedToken    `json:"added_tokens"`
	Normalizer    json.RawMessage `json:"normalizer"`
	PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
	PostProcessor json.RawMessage `json:"post_processor"`
	Decoder       json.RawMessage `json:"decoder"`
	Model         json.RawMessage `json:"model"`
	Truncation    *struct {
		Direction string `json:"direction"`
		MaxLength int    `json:"max_length"`
		Strategy  string `json:"strategy"`
	} `json:"truncation"`
	Padding *struct {
		Strategy        json.RawMessage `json:"strategy"`
		Direction       string          `json:"direction"`
		PadToMultipleOf *int            `json:"pad_to_multiple_of"`
		PadID           int             `json:"pad_id"`
		PadTypeID       int             `json:"pad_type_id"`
		PadToken        string          `json:"pad_token"`
	} `json:"padding"`
}

func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// parseComponent decodes the JSON of a normalizer, pre-tokenizer,
// post-processor or decoder into its JSON type J and builds it; null is no
// component (nil).
func parseComponent[J, T any](raw json.RawMessage, what string, build func(*J) (T, error)) (T, error) {
	var zero T
	if isNull(raw) {
		return zero, nil
	}
	var j J
	if err := json.Unmarshal(raw, &j); err != nil {
		return zero, fmt.Errorf("%s: %w", what, err)
	}
	return build(&j)
}

// parseSequence parses the members of a "Sequence" normalizer, pre-tokenizer,
// post-processor or decoder with that component's parser into the
// component's sequence type S; null members (which parse to nil) are left
// out, as the tokenizers library does.
func parseSequence[S ~[]T, T any](members []json.RawMessage, parse func(json.RawMessage) (T, error)) (S, error) {
	var seq S
	for _, raw := range members {
		c, err := parse(raw)
		if err != nil {
			return nil, err
		}
		if any(c) != nil {
			seq = append(seq, c)
		}
	}
	return seq, nil
}

// FromFile loads a tokenizer.json file.
func FromFile(path string) (*Tokenizer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	t, err := FromBytes(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// FromBytes parses the contents of a tokenizer.json file.
func FromBytes(data []byte) (*Tokenizer, error) {
	t, err := fromBytes(data)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	return t, nil
}

func fromBytes(data []byte) (*Tokenizer, error) {
	var f fileJSON
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("parse tokenizer.json: %w", err)
	}
	t := &Tokenizer{}
	var err error
	if t.model, err = parseModel(f.Model); err != nil {
		return nil, err
	}
	if t.normalizer, err = parseNormalizer(f.Normalizer); err != nil {
		return nil, err
	}
	if t.pre, err = parsePreTokenizer(f.PreTokenizer); err != nil {
		return nil, err
	}
	if t.post, err = parsePostProcessor(f.PostProcessor); err != nil {
		return nil, err
	}
	if t.decoder, err = parseDecoder(f.Decoder); err != nil {
		return nil, err
	}
	t.added = newAddedVocab(f.AddedTokens, t.normalizer, t.model)
	if tr := f.Truncation; tr != nil {
		t.trunc = &Truncation{MaxLength: tr.MaxLength, Strategy: tr.Strategy, Left: tr.Direction == "Left"}
	}
	if p := f.Padding; p != nil {
		t.pad = &Padding{PadID: p.PadID, PadTypeID: p.PadTypeID, PadToken: p.PadToken, Left: p.Direction == "Left"}
		if p.PadToMultipleOf != nil {
			t.pad.PadToMultipleOf = *p.PadToMultipleOf
		}
		var fixed struct {
			Fixed int `json:"Fixed"`
		}
		if len(p.Strategy) > 0 && p.Strategy[0] == '{' {
			if err := json.Unmarshal(p.Strategy, &fixed); err != nil {
				return nil, fmt.Errorf("padding strategy: %w", err)
			}
			t.pad.Fixed = fixed.Fixed
		}
	}
	t.size = t.model.vocabSize()
	if v, ok := t.model.(interface{ maxID() int }); ok {
		t.size = max(t.size, v.maxID()+1)
	}
	for _, a := range t.added.tokens {
		t.size = max(t.size, a.ID+1)
	}
	return t, nil
}

func (v *vocab) maxID() int { return len(v.tokens) - 1 }

// VocabSize is one more than the largest id the tokenizer can produce
// (model vocabulary and added tokens).
func (t *Tokenizer) VocabSize() int { return t.size }

// TokenToID looks a token up in the added tokens, then the model vocabulary.
func (t *Tokenizer) TokenToID(tok string) (int, bool) {
	if a, ok := t.added.byText[tok]; ok {
		return a.ID, true
	}
	return t.model.tokenToID(tok)
}

// IDToToken is the inverse of TokenToID.
func (t *Tokenizer) IDToToken(id int) (string, bool) {
	if a, ok := t.added.byID[id]; ok {
		return a.Content, true
	}
	return t.model.idToToken(id)
}

// AddedTokens lists the added (and special) tokens of the tokenizer.
func (t *Tokenizer) AddedTokens() []AddedToken { return append([]AddedToken(nil), t.added.tokens...) }

// Truncation returns the truncation settings (nil when disabled).
func (t *Tokenizer) Truncation() *Truncation { return t.trunc }

// Padding returns the padding settings (nil when disabled).
func (t *Tokenizer) Padding() *Padding { return t.pad }

// WithTruncation returns a copy of t that truncates as tr says (nil disables).
func (t *Tokenizer) WithTruncation(tr *Truncation) *Tokenizer {
	c := *t
	c.trunc = tr
	return &c
}

// WithPadding returns a copy of t that pads as p says (nil disables).
func (t *Tokenizer) WithPadding(p *Padding) *Tokenizer {
	c := *t
	c.pad = p
	return &c
}

// maxInput bounds one input; longer text is cut (offsets are int32 inside).
const maxInput = 1 << 30

// encodeSeq runs added-token extraction, normalization, pre-tokenization and
// the model on one input.
//
// With truncation on, Hugging Face tokenizers (0.23) stops running the model
// once max_length tokens are produced (counting from the end for left
// truncation), except for the first sequence under OnlySecond. The
// truncation step then sees those shortened lengths, which changes how
// LongestFirst splits a pair; we do the same to stay id-identical.
func (t *Tokenizer) encodeSeq(text string, typeID, seq int) *Encoding {
	e := &Encoding{}
	if text == "" {
		return e
	}
	if len(text) > maxInput {
		text = text[:maxInput]
	}
	raw := t.added.split(newNstr(text), t.added.raw, nil)
	var pieces []piece
	for _, p := range raw {
		if p.added != nil {
			pieces = append(pieces, p)
			continue
		}
		n := p.n
		if t.normalizer != nil {
			n = t.normalizer.normalize(n)
		}
		pieces = t.added.split(n, t.added.norm, pieces)
	}
	// Pre-tokenize into splits: added tokens stay whole.
	var splits []piece
	var words []nstr
	for _, p := range pieces {
		if p.added != nil {
			splits = append(splits, p)
			continue
		}
		words = words[:0]
		if t.pre != nil {
			words = t.pre.split(p.n, words)
		} else if p.n.s != "" {
			words = append(words, p.n)
		}
		for _, w := range words {
			splits = append(splits, piece{n: w})
		}
	}
	limit := 0
	left := false
	if tr := t.trunc; tr != nil && (tr.Strategy != "OnlySecond" || typeID != 0) {
		limit, left = tr.MaxLength, tr.Left
	}
	// All model tokens go to one buffer; rng[i] is split i's part of it.
	toks := make([]token, 0, len(text)/4+8)
	rng := make([][2]int32, len(splits))
	first, last := 0, len(splits) // tokenized range [first, last)
	run := func(i int) int {
		a := len(toks)
		toks = t.model.tokenize(splits[i].n.s, toks)
		rng[i] = [2]int32{int32(a), int32(len(toks))}
		return len(toks) - a
	}
	if limit > 0 && left {
		total := 0
		first = len(splits)
		for i := len(splits) - 1; i >= 0; i-- {
			first = i
			if splits[i].added != nil {
				total++
				continue
			}
			total += run(i)
			if total >= limit {
				break
			}
		}
	} else {
		total := 0
		last = 0
		for i := range splits {
			last = i + 1
			if splits[i].added != nil {
				total++
				continue
			}
			total += run(i)
			if limit > 0 && total >= limit {
				break
			}
		}
	}
	e.grow(len(toks) + (last - first))
	for i := first; i < last; i++ {
		sp := splits[i]
		if sp.added != nil {
			o := sp.n.origin(0, len(sp.n.s))
			e.append(sp.added.ID, typeID, sp.n.s, [2]int{int(o.start), int(o.end)}, false, seq)
			continue
		}
		for _, tk := range toks[rng[i][0]:rng[i][1]] {
			o := sp.n.origin(tk.start, tk.end)
			e.append(tk.id, typeID, tk.value, [2]int{int(o.start), int(o.end)}, false, seq)
		}
	}
	return e
}

func (t *Tokenizer) finish(a, b *Encoding, addSpecial bool) *Encoding {
	if t.trunc != nil {
		n := 0
		if addSpecial && t.post != nil {
			n = t.post.added(b != nil)
		}
		truncatePair(a, b, t.trunc, t.trunc.MaxLength-n)
	}
	encs := []*Encoding{a}
	if b != nil {
		encs = append(encs, b)
	}
	if t.post != nil {
		encs = t.post.process(encs, addSpecial)
	}
	out := encs[0]
	if len(encs) > 1 || out != a {
		// Merge into a fresh encoding: the parts may be shared special tokens.
		n := 0
		for _, e := range encs {
			n += e.Len()
		}
		out = &Encoding{}
		out.grow(n)
		for _, e := range encs {
			out.merge(e)
		}
	}
	if t.pad != nil {
		t.pad.apply([]*Encoding{out})
	}
	return out
}

// Encode tokenizes one text. With addSpecialTokens the post-processor adds
// the model's special tokens ([CLS] … [SEP], <s> … </s>, …).
func (t *Tokenizer) Encode(text string, addSpecialTokens bool) Encoding {
	return *t.finish(t.encodeSeq(text, 0, 0), nil, addSpecialTokens)
}

// EncodePair tokenizes a pair of texts (question/context, premise/hypothesis).
func (t *Tokenizer) EncodePair(text, pair string, addSpecialTokens bool) Encoding {
	return *t.finish(t.encodeSeq(text, 0, 0), t.encodeSeq(pair, 1, 1), addSpecialTokens)
}

// EncodeBatch encodes several texts and pads them to a common length: the
// tokenizer's padding settings when it has them, else to the longest with
// the pad token the vocabulary suggests.
func (t *Tokenizer) EncodeBatch(texts []string, addSpecialTokens bool) []Encoding {
	return t.batch(len(texts), func(i int) *Encoding {
		return t.finish(t.encodeSeq(texts[i], 0, 0), nil, addSpecialTokens)
	})
}

// EncodePairBatch is EncodeBatch for pairs of texts.
func (t *Tokenizer) EncodePairBatch(pairs [][2]string, addSpecialTokens bool) []Encoding {
	return t.batch(len(pairs), func(i int) *Encoding {
		return t.finish(t.encodeSeq(pairs[i][0], 0, 0), t.encodeSeq(pairs[i][1], 1, 1), addSpecialTokens)
	})
}

func (t *Tokenizer) batch(n int, encode func(i int) *Encoding) []Encoding {
	encs := make([]*Encoding, n)
	// Large batches are spread over the CPUs; a Tokenizer is safe for that.
	workers := min(runtime.GOMAXPROCS(0), n/8)
	if workers <= 1 {
		for i := range encs {
			encs[i] = encode(i)
		}
	} else {
		var next atomic.Int64
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := int(next.Add(1)) - 1
					if i >= n {
						return
					}
					encs[i] = encode(i)
				}
			}()
		}
		wg.Wait()
	}
	p := t.pad
	if p == nil {
		p = t.defaultPadding()
	}
	p.apply(encs)
	out := make([]Encoding, n)
	for i, e := range encs {
		out[i] = *e
	}
	return out
}

func (t *Tokenizer) defaultPadding() *Padding {
	for _, name := range []string{"[PAD]", "<pad>", "<|pad|>", "<|padding|>", "<|endoftext|>", "</s>"} {
		if id, ok := t.TokenToID(name); ok {
			return &Padding{PadID: id, PadToken: name}
		}
	}
	return &Padding{PadToken: "[PAD]"}
}

// Decode turns ids back into text; unknown ids are skipped.
func (t *Tokenizer) Decode(ids []int64, skipSpecialTokens bool) string {
	toks := make([]string, 0, len(ids))
	for _, id := range ids {
		if id < 0 || id > 1<<31 {
			continue
		}
		if a, ok := t.added.byID[int(id)]; ok {
			s := a.Content
			if f, ok := t.added.normForm[a.ID]; ok {
				s = f
			}
			if !(skipSpecialTokens && t.added.special[s]) {
				toks = append(toks, s)
			}
			continue
		}
		s, ok := t.model.idToToken(int(id))
		if !ok || (skipSpecialTokens && t.added.special[s]) {
			continue
		}
		toks = append(toks, s)
	}
	if t.decoder == nil {
		return strings.Join(toks, " ")
	}
	return strings.Join(t.decoder.decode(toks), "")
}

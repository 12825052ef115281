package mlos

import "github.com/mlos-foundation/axon/mlos/tokenizer"

// hfTokenizer adapts the pure-Go tokenizer.json implementation.
type hfTokenizer struct{ t *tokenizer.Tokenizer }

// loadTokenizer reads a Hugging Face tokenizer.json.
func loadTokenizer(path string) (TextTokenizer, error) {
	t, err := tokenizer.FromFile(path)
	if err != nil {
		return nil, err
	}
	return hfTokenizer{t}, nil
}

func (h hfTokenizer) Encode(text string) (Encoding, error) {
	e := h.t.Encode(text, true)
	return Encoding{IDs: e.IDs, TypeIDs: e.TypeIDs, Mask: e.AttentionMask}, nil
}

func (h hfTokenizer) Decode(ids []int64) string { return h.t.Decode(ids, true) }

// plainEncoder tokenizes without adding special tokens.
type plainEncoder interface {
	EncodePlain(text string) (Encoding, error)
}

func (h hfTokenizer) EncodePlain(text string) (Encoding, error) {
	e := h.t.Encode(text, false)
	return Encoding{IDs: e.IDs, TypeIDs: e.TypeIDs, Mask: e.AttentionMask}, nil
}

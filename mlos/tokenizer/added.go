package tokenizer

// AddedToken is an entry of tokenizer.json's added_tokens.
type AddedToken struct {
	ID         int    `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	Normalized bool   `json:"normalized"`
	Special    bool   `json:"special"`
}

// addedVocab finds added tokens in text before the model sees it: tokens
// with normalized=false are matched in the raw input, the others in the
// normalized pieces (their content normalized the same way).
type addedVocab struct {
	tokens  []AddedToken
	byID    map[int]*AddedToken
	byText  map[string]*AddedToken
	special map[string]bool
	// normForm is the normalized content of normalized tokens whose content
	// the normalizer changes. Decoding uses it (tokenizers 0.23 does), so such
	// a token is not recognised as special when skipping special tokens.
	normForm map[int]string
	raw      *byteTrie // normalized == false
	norm     *byteTrie // normalized == true, keys normalized
}

// newAddedVocab registers the file's added tokens the way the Rust library
// does on load: in order, a token already known (added or in the model
// vocabulary) keeps that id, a new one gets the next free id after the model
// vocabulary. The ids written in the file are only a hint there, and so here.
func newAddedVocab(file []AddedToken, nz normalizer, m model) *addedVocab {
	a := &addedVocab{byID: map[int]*AddedToken{}, byText: map[string]*AddedToken{}, special: map[string]bool{}, normForm: map[int]string{}}
	nextID := m.vocabSize() // new tokens are numbered from the model's size
	var list []AddedToken
	at := map[string]int{} // content → index in list of its current definition
	for _, t := range file {
		if t.Content == "" {
			continue
		}
		if k, ok := at[t.Content]; ok {
			same := list[k]
			same.ID = t.ID
			if same == t { // already there with the same properties
				continue
			}
			t.ID = list[k].ID // redefined: same id, new properties
		} else if id, ok := m.tokenToID(t.Content); ok {
			t.ID = id
		} else {
			t.ID = nextID
			nextID++
		}
		if t.Special {
			a.special[t.Content] = true
		}
		at[t.Content] = len(list)
		list = append(list, t)
	}
	a.tokens = list
	for i := range a.tokens {
		t := &a.tokens[i]
		a.byText[t.Content] = t
		a.byID[t.ID] = t
	}
	for i := range a.tokens {
		t := &a.tokens[i]
		if a.byText[t.Content] != t {
			continue
		}
		if t.Normalized {
			key := t.Content
			if nz != nil {
				key = nz.normalize(newNstr(key)).s
				if key != t.Content {
					a.normForm[t.ID] = key
				}
			}
			if key == "" {
				continue
			}
			if a.norm == nil {
				a.norm = newByteTrie()
			}
			a.norm.insert(key, i)
		} else {
			if a.raw == nil {
				a.raw = newByteTrie()
			}
			a.raw.insert(t.Content, i)
		}
	}
	return a
}

// piece is a stretch of input: either normalized text still to be
// pre-tokenized, or an added token already recognised.
type piece struct {
	n     nstr
	added *AddedToken
}

// split finds added tokens in n (leftmost-longest, then the single_word,
// lstrip and rstrip rules) and appends the pieces to dst.
func (a *addedVocab) split(n nstr, trie *byteTrie, dst []piece) []piece {
	if trie == nil || n.s == "" {
		return append(dst, piece{n: n})
	}
	s := n.s
	startOff := 0
	for i := 0; i < len(s); {
		idx, l := trie.longest(s[i:])
		if idx < 0 {
			i++
			continue
		}
		t := &a.tokens[idx]
		start, stop := i, i+l
		if t.SingleWord {
			startSpace := start == 0 || !endsWithWord(s[:start])
			stopSpace := stop == len(s) || !startsWithWord(s[stop:])
			if !startSpace || !stopSpace {
				i = stop
				continue
			}
		}
		if t.LStrip {
			ns := start
			for ns > 0 {
				r, sz := decodeLastRune(s[:ns])
				if !isWhitespace(r) {
					break
				}
				ns -= sz
			}
			start = max(ns, startOff)
		}
		if t.RStrip {
			for stop < len(s) {
				r, sz := decodeRune(s[stop:])
				if !isWhitespace(r) {
					break
				}
				stop += sz
			}
		}
		if startOff < start {
			dst = append(dst, piece{n: n.slice(startOff, start)})
		}
		dst = append(dst, piece{n: n.slice(start, stop), added: t})
		startOff = stop
		i = i + l
		if i < stop {
			i = stop
		}
	}
	if startOff < len(s) {
		dst = append(dst, piece{n: n.slice(startOff, len(s))})
	}
	return dst
}

// single_word boundaries use the regex crate's Unicode \w, as in Rust.
func endsWithWord(s string) bool {
	r, _ := decodeLastRune(s)
	return isRegexWord(r)
}

func startsWithWord(s string) bool {
	r, _ := decodeRune(s)
	return isRegexWord(r)
}

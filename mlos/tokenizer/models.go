package tokenizer

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"
)

// token is a model output; start/end are byte offsets within the word.
type token struct {
	id         int
	value      string
	start, end int
}

type model interface {
	tokenize(word string, dst []token) []token
	tokenToID(s string) (int, bool)
	idToToken(id int) (string, bool)
	vocabSize() int
}

type modelJSON struct {
	Type                    string          `json:"type"`
	Vocab                   json.RawMessage `json:"vocab"`
	Merges                  json.RawMessage `json:"merges"`
	UnkToken                *string         `json:"unk_token"`
	UnkID                   *int            `json:"unk_id"`
	ContinuingSubwordPrefix *string         `json:"continuing_subword_prefix"`
	EndOfWordSuffix         *string         `json:"end_of_word_suffix"`
	MaxInputCharsPerWord    *int            `json:"max_input_chars_per_word"`
	FuseUnk                 *bool           `json:"fuse_unk"`
	ByteFallback            bool            `json:"byte_fallback"`
	IgnoreMerges            bool            `json:"ignore_merges"`
	Dropout                 *float64        `json:"dropout"`
}

func parseModel(raw json.RawMessage) (model, error) {
	if isNull(raw) {
		return nil, fmt.Errorf("model is missing")
	}
	var j modelJSON
	if err := json.Unmarshal(raw, &j); err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	typ := j.Type
	if typ == "" { // old files omit the type; infer it like the Rust deserializer
		switch {
		case len(j.Merges) > 0:
			typ = "BPE"
		case len(j.Vocab) > 0 && j.Vocab[0] == '[':
			typ = "Unigram"
		case j.MaxInputCharsPerWord != nil:
			typ = "WordPiece"
		default:
			typ = "WordLevel"
		}
	}
	switch typ {
	case "WordPiece":
		return newWordPiece(j)
	case "BPE":
		return newBPE(j)
	case "Unigram":
		return newUnigram(j)
	case "WordLevel":
		return newWordLevel(j)
	}
	return nil, fmt.Errorf("unsupported model type %q", typ)
}

// vocab is a token ↔ id table shared by the map-based models.
type vocab struct {
	ids    map[string]int
	tokens []string
}

func newVocab(raw json.RawMessage) (vocab, error) {
	var m map[string]int
	if err := json.Unmarshal(raw, &m); err != nil {
		return vocab{}, fmt.Errorf("vocab: %w", err)
	}
	max := -1
	for _, id := range m {
		if id < 0 {
			return vocab{}, fmt.Errorf("vocab: negative id %d", id)
		}
		if id > max {
			max = id
		}
	}
	if max > 50_000_000 {
		return vocab{}, fmt.Errorf("vocab: id %d out of range", max)
	}
	v := vocab{ids: m, tokens: make([]string, max+1)}
	for t, id := range m {
		v.tokens[id] = t
	}
	return v, nil
}

func (v *vocab) tokenToID(s string) (int, bool) { id, ok := v.ids[s]; return id, ok }

func (v *vocab) idToToken(id int) (string, bool) {
	if id < 0 || id >= len(v.tokens) {
		return "", false
	}
	t := v.tokens[id]
	if t == "" { // a gap in the ids, unless "" really is a token
		if got, ok := v.ids[""]; !ok || got != id {
			return "", false
		}
	}
	return t, true
}

func (v *vocab) vocabSize() int { return len(v.ids) }

// ---- WordLevel ----

type wordLevel struct {
	vocab
	unk string
}

func newWordLevel(j modelJSON) (*wordLevel, error) {
	v, err := newVocab(j.Vocab)
	if err != nil {
		return nil, err
	}
	w := &wordLevel{vocab: v, unk: "<unk>"}
	if j.UnkToken != nil {
		w.unk = *j.UnkToken
	}
	return w, nil
}

func (w *wordLevel) tokenize(word string, dst []token) []token {
	if id, ok := w.ids[word]; ok {
		return append(dst, token{id, word, 0, len(word)})
	}
	if id, ok := w.ids[w.unk]; ok {
		return append(dst, token{id, w.unk, 0, len(word)})
	}
	return dst
}

// ---- WordPiece ----

type wordPiece struct {
	vocab
	unk      string
	unkID    int
	hasUnk   bool
	prefix   string
	maxChars int
}

func newWordPiece(j modelJSON) (*wordPiece, error) {
	v, err := newVocab(j.Vocab)
	if err != nil {
		return nil, err
	}
	w := &wordPiece{vocab: v, unk: "[UNK]", prefix: "##", maxChars: 100}
	if j.UnkToken != nil {
		w.unk = *j.UnkToken
	}
	if j.ContinuingSubwordPrefix != nil {
		w.prefix = *j.ContinuingSubwordPrefix
	}
	if j.MaxInputCharsPerWord != nil {
		w.maxChars = *j.MaxInputCharsPerWord
	}
	w.unkID, w.hasUnk = v.ids[w.unk]
	return w, nil
}

func (w *wordPiece) unkToken(word string, dst []token) []token {
	if !w.hasUnk {
		return dst
	}
	return append(dst, token{w.unkID, w.unk, 0, len(word)})
}

func (w *wordPiece) tokenize(word string, dst []token) []token {
	if utf8.RuneCountInString(word) > w.maxChars {
		return w.unkToken(word, dst)
	}
	mark := len(dst)
	var buf []byte
	for start := 0; start < len(word); {
		end := len(word)
		found := false
		for start < end {
			var id int
			var ok bool
			var val string
			if start > 0 {
				buf = append(append(buf[:0], w.prefix...), word[start:end]...)
				id, ok = w.ids[string(buf)]
				if ok {
					val = w.tokens[id]
				}
			} else {
				id, ok = w.ids[word[start:end]]
				val = word[start:end]
			}
			if ok {
				dst = append(dst, token{id, val, start, end})
				found = true
				break
			}
			_, sz := decodeLastRune(word[start:end])
			end -= sz
		}
		if !found {
			return w.unkToken(word, dst[:mark])
		}
		start = end
	}
	return dst
}

// ---- BPE ----

type pairKey struct{ a, b int }

type mergeVal struct{ rank, id int }

type bpe struct {
	vocab
	merges       map[pairKey]mergeVal
	unk          string
	unkID        int
	hasUnk       bool
	prefix       string
	suffix       string
	fuseUnk      bool
	byteFallback bool
	ignoreMerges bool
	byteIDs      [256]int // id of "<0xXX>" or -1

	mu    sync.RWMutex
	cache map[string][]token
}

const bpeCacheMax = 10000

func newBPE(j modelJSON) (*bpe, error) {
	v, err := newVocab(j.Vocab)
	if err != nil {
		return nil, err
	}
	m := &bpe{vocab: v, byteFallback: j.ByteFallback, ignoreMerges: j.IgnoreMerges, cache: map[string][]token{}}
	if j.UnkToken != nil {
		m.unk = *j.UnkToken
		m.unkID, m.hasUnk = v.ids[m.unk]
	}
	if j.ContinuingSubwordPrefix != nil {
		m.prefix = *j.ContinuingSubwordPrefix
	}
	if j.EndOfWordSuffix != nil {
		m.suffix = *j.EndOfWordSuffix
	}
	m.fuseUnk = boolOr(j.FuseUnk, false)
	for b := 0; b < 256; b++ {
		id, ok := v.ids[fmt.Sprintf("<0x%02X>", b)]
		if !ok {
			id = -1
		}
		m.byteIDs[b] = id
	}
	pairs, err := parseMerges(j.Merges)
	if err != nil {
		return nil, err
	}
	m.merges = make(map[pairKey]mergeVal, len(pairs))
	for rank, p := range pairs {
		a, ok1 := v.ids[p[0]]
		b, ok2 := v.ids[p[1]]
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("BPE merge %d (%q %q): token not in vocab", rank, p[0], p[1])
		}
		// Like Rust: the prefix length is cut from the second token, whatever it starts with.
		if len(p[1]) < len(m.prefix) {
			return nil, fmt.Errorf("BPE merge %d: %q is shorter than the subword prefix", rank, p[1])
		}
		joined := p[0] + p[1][len(m.prefix):]
		id, ok := v.ids[joined]
		if !ok {
			return nil, fmt.Errorf("BPE merge %d: result %q not in vocab", rank, joined)
		}
		m.merges[pairKey{a, b}] = mergeVal{rank, id} // a repeated pair: the last one wins, as in Rust
	}
	return m, nil
}

func parseMerges(raw json.RawMessage) ([][2]string, error) {
	if isNull(raw) {
		return nil, nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("BPE merges: %w", err)
	}
	out := make([][2]string, 0, len(list))
	for i, item := range list {
		var s string
		if err := json.Unmarshal(item, &s); err == nil {
			a, b, ok := strings.Cut(s, " ")
			if !ok {
				return nil, fmt.Errorf("BPE merge %d %q: want two space-separated tokens", i, s)
			}
			out = append(out, [2]string{a, b})
			continue
		}
		var p []string
		if err := json.Unmarshal(item, &p); err != nil || len(p) != 2 {
			return nil, fmt.Errorf("BPE merge %d: want \"a b\" or [a, b]", i)
		}
		out = append(out, [2]string{p[0], p[1]})
	}
	return out, nil
}

type symbol struct {
	id         int
	start, end int // byte range in the word
	prev, next int
}

func (m *bpe) tokenize(word string, dst []token) []token {
	if word == "" {
		return dst
	}
	m.mu.RLock()
	cached, ok := m.cache[word]
	m.mu.RUnlock()
	if ok {
		return append(dst, cached...)
	}
	mark := len(dst)
	dst = m.encodeWord(word, dst)
	if len(word) < 256 {
		m.mu.Lock()
		if len(m.cache) < bpeCacheMax {
			m.cache[word] = append([]token(nil), dst[mark:]...)
		}
		m.mu.Unlock()
	}
	return dst
}

func (m *bpe) encodeWord(word string, dst []token) []token {
	if m.ignoreMerges {
		if id, ok := m.ids[word]; ok {
			return append(dst, token{id, word, 0, len(word)})
		}
	}
	// Symbols are laid out like the Rust Word: each added symbol starts where
	// the previous one ended (a pending unknown is added late, byte-fallback
	// pieces count one byte each).
	syms := make([]symbol, 0, len(word))
	pos := 0
	add := func(id, length int) {
		start, end := min(pos, len(word)), min(pos+length, len(word))
		syms = append(syms, symbol{id: id, start: start, end: end})
		pos += length
	}
	unkLen := -1
	var buf []byte
	for i := 0; i < len(word); {
		_, sz := decodeRune(word[i:])
		end := i + sz
		buf = buf[:0]
		if i > 0 {
			buf = append(buf, m.prefix...)
		}
		buf = append(buf, word[i:end]...)
		if end == len(word) {
			buf = append(buf, m.suffix...)
		}
		i = end
		if id, ok := m.ids[string(buf)]; ok {
			if unkLen >= 0 {
				add(m.unkID, unkLen)
				unkLen = -1
			}
			add(id, sz)
			continue
		}
		if m.byteFallback {
			all := true
			for _, c := range buf {
				if m.byteIDs[c] < 0 {
					all = false
					break
				}
			}
			if all {
				for _, c := range buf {
					add(m.byteIDs[c], 1)
				}
				continue
			}
		}
		if m.hasUnk {
			if unkLen >= 0 && m.fuseUnk {
				unkLen += sz
			} else {
				if unkLen >= 0 {
					add(m.unkID, unkLen)
				}
				unkLen = sz
			}
		}
	}
	if unkLen >= 0 {
		add(m.unkID, unkLen)
	}
	for k := range syms {
		syms[k].prev = k - 1
		syms[k].next = k + 1
	}
	if len(syms) > 1 && len(m.merges) > 0 {
		m.mergeAll(syms)
	}
	for k := 0; k < len(syms); k = syms[k].next {
		s := syms[k]
		dst = append(dst, token{s.id, m.tokens[s.id], s.start, s.end})
		if s.next >= len(syms) {
			break
		}
	}
	return dst
}

type mergeItem struct{ pos, rank, id int }

// mergeAll applies merges lowest rank first (leftmost on ties), as the Rust
// implementation's priority queue does.
func (m *bpe) mergeAll(syms []symbol) {
	h := make([]mergeItem, 0, len(syms))
	less := func(a, b mergeItem) bool {
		if a.rank != b.rank {
			return a.rank < b.rank
		}
		return a.pos < b.pos
	}
	push := func(it mergeItem) {
		h = append(h, it)
		i := len(h) - 1
		for i > 0 {
			p := (i - 1) / 2
			if !less(h[i], h[p]) {
				break
			}
			h[i], h[p] = h[p], h[i]
			i = p
		}
	}
	pop := func() mergeItem {
		top := h[0]
		last := len(h) - 1
		h[0] = h[last]
		h = h[:last]
		i := 0
		for {
			l, r := 2*i+1, 2*i+2
			s := i
			if l < len(h) && less(h[l], h[s]) {
				s = l
			}
			if r < len(h) && less(h[r], h[s]) {
				s = r
			}
			if s == i {
				break
			}
			h[i], h[s] = h[s], h[i]
			i = s
		}
		return top
	}
	for k := 0; k+1 < len(syms); k++ {
		if mv, ok := m.merges[pairKey{syms[k].id, syms[k+1].id}]; ok {
			push(mergeItem{k, mv.rank, mv.id})
		}
	}
	dead := -1 // symbols merged away have end == dead
	for len(h) > 0 {
		top := pop()
		cur := &syms[top.pos]
		if cur.end == dead || cur.next >= len(syms) {
			continue
		}
		right := syms[cur.next]
		if mv, ok := m.merges[pairKey{cur.id, right.id}]; !ok || mv.id != top.id {
			continue
		}
		cur.id = top.id
		cur.end = right.end
		syms[cur.next].end = dead
		cur.next = right.next
		if right.next < len(syms) {
			syms[right.next].prev = top.pos
		}
		if cur.prev >= 0 {
			if mv, ok := m.merges[pairKey{syms[cur.prev].id, cur.id}]; ok {
				push(mergeItem{cur.prev, mv.rank, mv.id})
			}
		}
		if cur.next < len(syms) {
			if mv, ok := m.merges[pairKey{cur.id, syms[cur.next].id}]; ok {
				push(mergeItem{top.pos, mv.rank, mv.id})
			}
		}
	}
}

// ---- Unigram ----

type unigram struct {
	pieces       []string
	scores       []float64
	ids          map[string]int
	unkID        int // -1 when none
	byteFallback bool
	minScore     float64
	trie         *byteTrie
}

const unkPenalty = 10.0

func newUnigram(j modelJSON) (*unigram, error) {
	var list [][2]json.RawMessage
	if err := json.Unmarshal(j.Vocab, &list); err != nil {
		return nil, fmt.Errorf("Unigram vocab: %w", err)
	}
	u := &unigram{ids: make(map[string]int, len(list)), unkID: -1, byteFallback: j.ByteFallback, minScore: math.Inf(1), trie: newByteTrie()}
	for i, e := range list {
		var p string
		var sc float64
		if err := json.Unmarshal(e[0], &p); err != nil {
			return nil, fmt.Errorf("Unigram vocab entry %d: %w", i, err)
		}
		if err := json.Unmarshal(e[1], &sc); err != nil {
			return nil, fmt.Errorf("Unigram vocab entry %d: %w", i, err)
		}
		u.pieces = append(u.pieces, p)
		u.scores = append(u.scores, sc)
		u.ids[p] = i
		if sc < u.minScore {
			u.minScore = sc
		}
	}
	for p, id := range u.ids {
		u.trie.insert(p, id)
	}
	if j.UnkID != nil {
		if *j.UnkID < 0 || *j.UnkID >= len(list) {
			return nil, fmt.Errorf("Unigram unk_id %d out of range", *j.UnkID)
		}
		u.unkID = *j.UnkID
	}
	return u, nil
}

func (u *unigram) tokenToID(s string) (int, bool) { id, ok := u.ids[s]; return id, ok }

func (u *unigram) idToToken(id int) (string, bool) {
	if id < 0 || id >= len(u.pieces) {
		return "", false
	}
	return u.pieces[id], true
}

func (u *unigram) vocabSize() int { return len(u.pieces) }

type lattice struct {
	score float64
	start int // -1: unreached
	id    int
}

func (u *unigram) tokenize(s string, dst []token) []token {
	if s == "" {
		return dst
	}
	best := make([]lattice, len(s)+1)
	for i := 1; i <= len(s); i++ {
		best[i].start = -1
	}
	unkScore := u.minScore - unkPenalty
	for pos := 0; pos < len(s); {
		_, mblen := decodeRune(s[pos:])
		base := best[pos].score
		single := false
		u.trie.prefixes(s[pos:], func(length, id int) {
			t := &best[pos+length]
			sc := base + u.scores[id]
			if t.start < 0 || sc > t.score {
				t.score, t.start, t.id = sc, pos, id
			}
			if length == mblen {
				single = true
			}
		})
		if !single {
			t := &best[pos+mblen]
			sc := base + unkScore
			if t.start < 0 || sc > t.score {
				t.score, t.start, t.id = sc, pos, u.unkID
			}
		}
		pos += mblen
	}
	// Walk back from the end; then fuse runs of unknown pieces (Unigram
	// always fuses them).
	var spans [][2]int
	for end := len(s); end > 0; {
		n := best[end]
		if n.start < 0 { // unreachable without unk_id: give up on the word
			return dst
		}
		spans = append(spans, [2]int{n.start, end})
		end = n.start
	}
	var pieces [][2]int
	prevUnk := false
	for k := len(spans) - 1; k >= 0; k-- {
		sp := spans[k]
		isUnk := u.unkID >= 0 && best[sp[1]].id == u.unkID
		if isUnk && prevUnk {
			pieces[len(pieces)-1][1] = sp[1]
			continue
		}
		pieces = append(pieces, sp)
		prevUnk = isUnk
	}
	for _, p := range pieces {
		str := s[p[0]:p[1]]
		if id, ok := u.ids[str]; ok {
			dst = append(dst, token{id, str, p[0], p[1]})
			continue
		}
		if u.byteFallback {
			all := true
			for k := 0; k < len(str); k++ {
				if _, ok := u.ids[byteToken(str[k])]; !ok {
					all = false
					break
				}
			}
			if all {
				for k := 0; k < len(str); k++ {
					bt := byteToken(str[k])
					dst = append(dst, token{u.ids[bt], bt, p[0], p[1]})
				}
				continue
			}
		}
		if u.unkID >= 0 {
			dst = append(dst, token{u.unkID, str, p[0], p[1]})
		}
	}
	return dst
}

var byteTokens = func() (t [256]string) {
	for b := range t {
		t[b] = fmt.Sprintf("<0x%02X>", b)
	}
	return
}()

func byteToken(b byte) string { return byteTokens[b] }

// byteTrie supports common-prefix search over vocabulary pieces.
type byteTrie struct {
	nodes []trieNode
}

type trieNode struct {
	keys []byte
	kids []int32
	id   int32 // -1: not a key
}

func newByteTrie() *byteTrie { return &byteTrie{nodes: []trieNode{{id: -1}}} }

func (t *byteTrie) child(n int, c byte) int {
	nd := &t.nodes[n]
	i := sort.Search(len(nd.keys), func(i int) bool { return nd.keys[i] >= c })
	if i < len(nd.keys) && nd.keys[i] == c {
		return int(nd.kids[i])
	}
	return -1
}

func (t *byteTrie) insert(s string, id int) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		k := t.child(n, c)
		if k < 0 {
			t.nodes = append(t.nodes, trieNode{id: -1})
			k = len(t.nodes) - 1
			nd := &t.nodes[n]
			j := sort.Search(len(nd.keys), func(j int) bool { return nd.keys[j] >= c })
			nd.keys = append(nd.keys, 0)
			nd.kids = append(nd.kids, 0)
			copy(nd.keys[j+1:], nd.keys[j:])
			copy(nd.kids[j+1:], nd.kids[j:])
			nd.keys[j] = c
			nd.kids[j] = int32(k)
		}
		n = k
	}
	if s != "" {
		t.nodes[n].id = int32(id)
	}
}

// prefixes calls f(length, id) for every key that is a prefix of s, shortest first.
func (t *byteTrie) prefixes(s string, f func(length, id int)) {
	n := 0
	for i := 0; i < len(s); i++ {
		n = t.child(n, s[i])
		if n < 0 {
			return
		}
		if id := t.nodes[n].id; id >= 0 {
			f(i+1, int(id))
		}
	}
}

// longest returns the id and length of the longest key prefixing s.
func (t *byteTrie) longest(s string) (id, length int) {
	n, id, length := 0, -1, 0
	for i := 0; i < len(s); i++ {
		n = t.child(n, s[i])
		if n < 0 {
			break
		}
		if k := t.nodes[n].id; k >= 0 {
			id, length = int(k), i+1
		}
	}
	return id, length
}

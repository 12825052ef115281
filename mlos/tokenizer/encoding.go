package tokenizer

// Encoding is the result of encoding one input (or one pair). The slices
// are ready to be used as int64 tensors. Offsets are byte offsets into the
// input text ([start, end)); for a pair, offsets of the second sequence are
// relative to the second text. Special and padding tokens have (0, 0).
type Encoding struct {
	IDs               []int64
	TypeIDs           []int64
	AttentionMask     []int64
	SpecialTokensMask []int64
	Tokens            []string
	Offsets           [][2]int
	// SequenceIDs tells which input each token came from: 0, 1, or -1 for
	// special and padding tokens.
	SequenceIDs []int
}

// Len is the number of tokens.
func (e Encoding) Len() int { return len(e.IDs) }

func (e *Encoding) append(id int, typeID int, tok string, off [2]int, special bool, seq int) {
	e.IDs = append(e.IDs, int64(id))
	e.TypeIDs = append(e.TypeIDs, int64(typeID))
	e.AttentionMask = append(e.AttentionMask, 1)
	sp := int64(0)
	if special {
		sp = 1
	}
	e.SpecialTokensMask = append(e.SpecialTokensMask, sp)
	e.Tokens = append(e.Tokens, tok)
	e.Offsets = append(e.Offsets, off)
	e.SequenceIDs = append(e.SequenceIDs, seq)
}

func (e *Encoding) grow(n int) {
	e.IDs = make([]int64, 0, n)
	e.TypeIDs = make([]int64, 0, n)
	e.AttentionMask = make([]int64, 0, n)
	e.SpecialTokensMask = make([]int64, 0, n)
	e.Tokens = make([]string, 0, n)
	e.Offsets = make([][2]int, 0, n)
	e.SequenceIDs = make([]int, 0, n)
}

func (e *Encoding) clone() *Encoding {
	c := &Encoding{}
	c.grow(e.Len())
	c.merge(e)
	return c
}

func (e *Encoding) merge(o *Encoding) {
	e.IDs = append(e.IDs, o.IDs...)
	e.TypeIDs = append(e.TypeIDs, o.TypeIDs...)
	e.AttentionMask = append(e.AttentionMask, o.AttentionMask...)
	e.SpecialTokensMask = append(e.SpecialTokensMask, o.SpecialTokensMask...)
	e.Tokens = append(e.Tokens, o.Tokens...)
	e.Offsets = append(e.Offsets, o.Offsets...)
	e.SequenceIDs = append(e.SequenceIDs, o.SequenceIDs...)
}

// truncate keeps n tokens, from the start (right truncation) or the end.
func (e *Encoding) truncate(n int, left bool) {
	if n >= len(e.IDs) {
		return
	}
	if n < 0 {
		n = 0
	}
	a, b := 0, n
	if left {
		a, b = len(e.IDs)-n, len(e.IDs)
	}
	e.IDs = e.IDs[a:b]
	e.TypeIDs = e.TypeIDs[a:b]
	e.AttentionMask = e.AttentionMask[a:b]
	e.SpecialTokensMask = e.SpecialTokensMask[a:b]
	e.Tokens = e.Tokens[a:b]
	e.Offsets = e.Offsets[a:b]
	e.SequenceIDs = e.SequenceIDs[a:b]
}

func (e *Encoding) pad(n int, p *Padding) {
	k := n - len(e.IDs)
	if k <= 0 {
		return
	}
	ids := make([]int64, k)
	types := make([]int64, k)
	att := make([]int64, k)
	spec := make([]int64, k)
	toks := make([]string, k)
	offs := make([][2]int, k)
	seqs := make([]int, k)
	for i := 0; i < k; i++ {
		ids[i] = int64(p.PadID)
		types[i] = int64(p.PadTypeID)
		spec[i] = 1
		toks[i] = p.PadToken
		seqs[i] = -1
	}
	if p.Left {
		e.IDs = append(ids, e.IDs...)
		e.TypeIDs = append(types, e.TypeIDs...)
		e.AttentionMask = append(att, e.AttentionMask...)
		e.SpecialTokensMask = append(spec, e.SpecialTokensMask...)
		e.Tokens = append(toks, e.Tokens...)
		e.Offsets = append(offs, e.Offsets...)
		e.SequenceIDs = append(seqs, e.SequenceIDs...)
		return
	}
	e.IDs = append(e.IDs, ids...)
	e.TypeIDs = append(e.TypeIDs, types...)
	e.AttentionMask = append(e.AttentionMask, att...)
	e.SpecialTokensMask = append(e.SpecialTokensMask, spec...)
	e.Tokens = append(e.Tokens, toks...)
	e.Offsets = append(e.Offsets, offs...)
	e.SequenceIDs = append(e.SequenceIDs, seqs...)
}

func (e *Encoding) setTypeIDs(t int) {
	for i := range e.TypeIDs {
		e.TypeIDs[i] = int64(t)
	}
}

// Truncation mirrors tokenizer.json's truncation section. MaxLength counts
// the special tokens the post-processor adds.
type Truncation struct {
	MaxLength int
	// Strategy is "LongestFirst" (default), "OnlyFirst" or "OnlySecond".
	Strategy string
	// Left drops tokens from the start instead of the end.
	Left bool
}

// Padding mirrors tokenizer.json's padding section.
type Padding struct {
	// Fixed pads every encoding to this length; 0 pads a batch to its longest.
	Fixed            int
	PadToMultipleOf  int
	PadID, PadTypeID int
	PadToken         string
	Left             bool
}

func (p *Padding) apply(encs []*Encoding) {
	n := p.Fixed
	if n == 0 {
		for _, e := range encs {
			n = max(n, e.Len())
		}
	}
	if m := p.PadToMultipleOf; m > 0 && n%m != 0 {
		n += m - n%m
	}
	for _, e := range encs {
		e.pad(n, p)
	}
}

func truncatePair(a, b *Encoding, t *Truncation, maxLen int) {
	if maxLen <= 0 {
		a.truncate(0, t.Left)
		if b != nil {
			b.truncate(0, t.Left)
		}
		return
	}
	total := a.Len()
	if b != nil {
		total += b.Len()
	}
	if total <= maxLen {
		return
	}
	remove := total - maxLen
	switch t.Strategy {
	case "OnlyFirst", "OnlySecond":
		target := a
		if t.Strategy == "OnlySecond" {
			target = b
		}
		// Rust refuses (an error) when the target is too short or missing;
		// leaving the input untouched is the closest non-failing behaviour.
		if target != nil && target.Len() > remove {
			target.truncate(target.Len()-remove, t.Left)
		}
	default:
		if b == nil {
			a.truncate(total-remove, t.Left)
			return
		}
		n1, n2 := a.Len(), b.Len()
		swap := n1 > n2
		if swap {
			n1, n2 = n2, n1
		}
		if n1 > maxLen {
			n2 = n1
		} else {
			n2 = max(n1, maxLen-n1)
		}
		if n1+n2 > maxLen {
			n1 = maxLen / 2
			n2 = n1 + maxLen%2
		}
		if swap {
			n1, n2 = n2, n1
		}
		a.truncate(n1, t.Left)
		b.truncate(n2, t.Left)
	}
}

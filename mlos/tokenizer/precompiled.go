package tokenizer

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/rivo/uniseg"
)

// precompiled is SentencePiece's precompiled_charsmap normalizer: a Darts
// double-array trie mapping input byte sequences to replacement strings,
// applied per grapheme cluster as Hugging Face's Precompiled normalizer does.
type precompiled struct {
	trie       []uint32
	normalized string
}

func newPrecompiled(data []byte) (*precompiled, error) {
	if len(data) == 0 {
		// An empty charsmap (some converted models) means identity.
		return &precompiled{}, nil
	}
	if len(data) < 4 {
		return nil, fmt.Errorf("Precompiled normalizer: charsmap too short (%d bytes)", len(data))
	}
	size := int(binary.LittleEndian.Uint32(data))
	if size%4 != 0 || 4+size > len(data) {
		return nil, fmt.Errorf("Precompiled normalizer: bad trie size %d for %d bytes", size, len(data))
	}
	p := &precompiled{trie: make([]uint32, size/4), normalized: string(data[4+size:])}
	for i := range p.trie {
		p.trie[i] = binary.LittleEndian.Uint32(data[4+4*i:])
	}
	return p, nil
}

func dartsOffset(u uint32) uint32 { return (u >> 10) << ((u & (1 << 9)) >> 6) }

// lookup returns the replacement for the first (shortest) key that prefixes s.
func (p *precompiled) lookup(s string) (string, bool) {
	if len(p.trie) == 0 {
		return "", false
	}
	pos := dartsOffset(p.trie[0])
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == 0 {
			break
		}
		pos ^= uint32(c)
		if int(pos) >= len(p.trie) {
			return "", false
		}
		u := p.trie[pos]
		if u&((1<<31)|0xFF) != uint32(c) {
			return "", false
		}
		pos ^= dartsOffset(u)
		if (u>>8)&1 == 1 {
			if int(pos) >= len(p.trie) {
				return "", false
			}
			idx := int(p.trie[pos] & ((1 << 31) - 1))
			if idx >= len(p.normalized) {
				return "", false
			}
			rest := p.normalized[idx:]
			if k := strings.IndexByte(rest, 0); k >= 0 {
				rest = rest[:k]
			}
			return rest, true
		}
	}
	return "", false
}

func (p *precompiled) normalize(n nstr) nstr {
	if len(p.trie) == 0 || n.s == "" {
		return n
	}
	var b builder
	b.grow(len(n.s) + 8)
	modified := false
	state := -1
	rest := n.s
	off := 0
	for len(rest) > 0 {
		var g string
		g, rest, _, state = uniseg.FirstGraphemeClusterInString(rest, state)
		if len(g) < 6 {
			if rep, ok := p.lookup(g); ok {
				modified = true
				addPositional(&b, n, off, g, rep)
				off += len(g)
				continue
			}
		}
		for i := 0; i < len(g); {
			_, sz := decodeRune(g[i:])
			part := g[i : i+sz]
			if rep, ok := p.lookup(part); ok {
				modified = true
				addPositional(&b, n, off+i, part, rep)
			} else {
				b.buf = append(b.buf, part...)
				b.align = append(b.align, n.align[off+i:off+i+sz]...)
			}
			i += sz
		}
		off += len(g)
	}
	if !modified {
		return n
	}
	return b.nstr()
}

// addPositional appends rep in place of src (at byte off of n): output
// character k takes the alignment of source character k, extra output
// characters that of the last source character. This is how the Rust
// Precompiled normalizer (and composition in NFC) aligns replacements.
func addPositional(b *builder, n nstr, off int, src, rep string) {
	var starts [8]int
	st := starts[:0]
	for j := 0; j < len(src); {
		_, sz := decodeRune(src[j:])
		st = append(st, j)
		j += sz
	}
	k := 0
	for _, r := range rep {
		j := st[min(k, len(st)-1)]
		_, sz := decodeRune(src[j:])
		b.add(r, n.runeSpan(off+j, sz))
		k++
	}
}

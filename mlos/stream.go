package mlos

import "strings"

// textStream decodes generated tokens incrementally. Each push answers the
// text that became final with that token: a token that ends inside a UTF-8
// character (byte-fallback tokens such as <0xE2>) answers nothing until the
// character is complete, and text that could still turn into a stop string
// is held back until it cannot. Decoding works on a window of a few tokens
// (the offsets Hugging Face's text-generation-inference uses), so a token
// costs the same at the end of a long generation as at its start.
type textStream struct {
	tok        TextTokenizer
	ids        []int64 // the last prompt tokens, then the generated ones
	prefixOff  int     // ids[prefixOff:readOff] decode to text already taken
	readOff    int
	prefixText string // decode(ids[prefixOff:readOff])
	stop       []string
	full       string // the completion's final text so far
	sent       int    // bytes of full already answered
	done       bool
}

// contextTokens is how many prompt tokens are decoded in front of the
// completion: enough for decoders that strip or merge at the start.
const contextTokens = 4

func newTextStream(tok TextTokenizer, prompt []int64, stop []string) *textStream {
	c := prompt
	if len(c) > contextTokens {
		c = c[len(c)-contextTokens:]
	}
	s := &textStream{tok: tok, ids: append([]int64(nil), c...), readOff: len(c), stop: stop}
	s.prefixText = tok.Decode(s.ids)
	return s
}

// advance takes the text the window's new tokens decode to, unless it ends
// in an unfinished character (or always, at the end).
func (s *textStream) advance(final bool) {
	cur := s.tok.Decode(s.ids[s.prefixOff:])
	if !strings.HasPrefix(cur, s.prefixText) || len(cur) <= len(s.prefixText) {
		if final && !strings.HasPrefix(cur, s.prefixText) {
			s.full += cur // a decoder that rewrote the window: keep what it says now
		}
		return
	}
	if !final && strings.HasSuffix(cur, "\uFFFD") {
		return
	}
	s.full += cur[len(s.prefixText):]
	s.prefixOff, s.readOff = s.readOff, len(s.ids)
	s.prefixText = s.tok.Decode(s.ids[s.prefixOff:s.readOff])
}

// push adds a token; stopped reports that a stop string was found (the text
// is then cut before it).
func (s *textStream) push(id int64) (piece string, stopped bool) {
	if s.done {
		return "", true
	}
	s.ids = append(s.ids, id)
	s.advance(false)
	for _, st := range s.stop {
		// A stop string may start in text held back before.
		from := max(0, s.sent-len(st)+1)
		if i := strings.Index(s.full[from:], st); i >= 0 {
			cut := from + i
			if cut < s.sent {
				cut = s.sent
			}
			s.full = s.full[:cut]
			s.done = true
			piece = s.full[min(s.sent, cut):]
			s.sent = len(s.full)
			return piece, true
		}
	}
	safe := len(s.full) - s.heldForStop()
	if safe > s.sent {
		piece = s.full[s.sent:safe]
		s.sent = safe
	}
	return piece, false
}

// heldForStop is the length of the longest suffix of the text that is a
// proper prefix of a stop string.
func (s *textStream) heldForStop() int {
	held := 0
	for _, st := range s.stop {
		for n := min(len(st)-1, len(s.full)-s.sent); n > held; n-- {
			if strings.HasSuffix(s.full, st[:n]) {
				held = n
				break
			}
		}
	}
	return held
}

// flush answers what is still held back once generation ends: the tail that
// never became a stop string, and whatever an unfinished character decodes to.
func (s *textStream) flush() string {
	if !s.done {
		s.advance(true)
	}
	piece := ""
	if len(s.full) > s.sent {
		piece = s.full[s.sent:]
	}
	s.sent = len(s.full)
	s.done = true
	return piece
}

func (s *textStream) text() string { return s.full }

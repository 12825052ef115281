package runtime

import (
	"strings"
	"unicode/utf8"
)

// textStream decodes generated tokens incrementally. Each push answers the
// text that became final with that token: a token that ends inside a UTF-8
// character (byte-fallback tokens such as <0xE2>) answers nothing until the
// character is complete, and text that could still turn into a stop string
// is held back until it cannot.
type textStream struct {
	tok     TextTokenizer
	context []int64 // the last prompt tokens, so that leading spaces decode right
	prefix  string  // decode(context)
	ids     []int64
	stop    []string
	full    string // the completion decoded so far (complete characters only)
	sent    int    // bytes of full already answered
	done    bool
}

// contextTokens is how many prompt tokens are decoded in front of the
// completion: enough for decoders that strip or merge at the start.
const contextTokens = 8

func newTextStream(tok TextTokenizer, prompt []int64, stop []string) *textStream {
	c := prompt
	if len(c) > contextTokens {
		c = c[len(c)-contextTokens:]
	}
	s := &textStream{tok: tok, context: append([]int64(nil), c...), stop: stop}
	s.prefix = tok.Decode(s.context)
	return s
}

// decodeAll is the completion's text as the tokenizer decodes it after the
// prompt; falls back to decoding the completion alone when the prompt's
// decoding is not a prefix (a decoder that rewrites across the boundary).
func (s *textStream) decodeAll() string {
	full := s.tok.Decode(append(append([]int64(nil), s.context...), s.ids...))
	if strings.HasPrefix(full, s.prefix) {
		return full[len(s.prefix):]
	}
	return s.tok.Decode(s.ids)
}

// push adds a token; stopped reports that a stop string was found (the text
// is then cut before it).
func (s *textStream) push(id int64) (piece string, stopped bool) {
	if s.done {
		return "", true
	}
	s.ids = append(s.ids, id)
	full := s.decodeAll()
	// An incomplete character decodes as U+FFFD at the end: wait for the rest.
	complete := strings.TrimRight(full, "\uFFFD")
	if len(complete) < len(full) && len(s.ids) > 0 && utf8.ValidString(full) {
		full = complete
	}
	if len(full) < s.sent {
		// Decoding changed text already sent (rare: merge rules); keep what was sent.
		full = s.full[:s.sent] + full[min(len(full), s.sent):]
	}
	s.full = full
	for _, st := range s.stop {
		if i := strings.Index(s.full[min(s.sent, len(s.full)):], st); i >= 0 {
			cut := min(s.sent, len(s.full)) + i
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
		full := s.decodeAll()
		if len(full) >= s.sent {
			s.full = s.full[:s.sent] + full[s.sent:]
		}
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

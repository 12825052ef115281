package server

import (
	"encoding/json"
	"strconv"

	"github.com/mlos-foundation/axon/mlos/api"
)

// A hand parser for the two inference request envelopes, the hot path of
// every request: encoding/json's reflection and its byte-at-a-time scanner
// cost more than the rest of the handler. It is strict and deliberately
// narrow: it accepts only what encoding/json would decode to the same value
// (exact lower-case keys, each once; ASCII strings without escapes; integer
// shapes; strictly valid JSON everywhere) and answers ok=false for anything
// else, which then takes encoding/json, so every error message and every
// corner of encoding/json's semantics (case-insensitive keys, duplicate keys,
// null, escapes, unknown fields) stays exactly as it was. FuzzRequestJSON
// cross-checks the two.

// maxDepth bounds the nesting the scanner follows; deeper values take
// encoding/json (which allows 10000).
const maxDepth = 512

type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// next skips white space and reports whether the next byte is c, consuming it.
func (s *scanner) next(c byte) bool {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

func (s *scanner) peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// plainString reads a string of printable ASCII without escapes (what names,
// datatypes and ids are); anything else is not ok.
func (s *scanner) plainString() ([]byte, bool) {
	if !s.next('"') {
		return nil, false
	}
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		if c == '"' {
			s.i++
			return s.b[start : s.i-1], true
		}
		if c < 0x20 || c >= 0x7f || c == '\\' {
			return nil, false
		}
		s.i++
	}
	return nil, false
}

// key reads an object key and its colon.
func (s *scanner) key() ([]byte, bool) {
	k, ok := s.plainString()
	if !ok || !s.next(':') {
		return nil, false
	}
	return k, true
}

// object calls field for each key of an object; a repeated key is not ok
// (encoding/json merges or overwrites, which the caller does not mimic).
func (s *scanner) object(field func(key []byte) bool) bool {
	if !s.next('{') {
		return false
	}
	if s.next('}') {
		return true
	}
	var seen [8][]byte
	n := 0
	for {
		k, ok := s.key()
		if !ok {
			return false
		}
		for _, p := range seen[:n] {
			if string(p) == string(k) {
				return false
			}
		}
		if n == len(seen) {
			return false
		}
		seen[n] = k
		n++
		if !field(k) {
			return false
		}
		if s.next(',') {
			continue
		}
		return s.next('}')
	}
}

// array calls elem for each element of an array.
func (s *scanner) array(elem func() bool) bool {
	if !s.next('[') {
		return false
	}
	if s.next(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if s.next(',') {
			continue
		}
		return s.next(']')
	}
}

// value skips one strictly valid JSON value and returns its bytes.
func (s *scanner) value() ([]byte, bool) {
	s.ws()
	start := s.i
	if !s.skip(0) {
		return nil, false
	}
	return s.b[start:s.i], true
}

func (s *scanner) skip(depth int) bool {
	s.ws()
	if s.i >= len(s.b) || depth > maxDepth {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '{':
		s.i++
		if s.next('}') {
			return true
		}
		for {
			if !s.skipString() || !s.next(':') || !s.skip(depth+1) {
				return false
			}
			if s.next(',') {
				continue
			}
			return s.next('}')
		}
	case c == '[':
		s.i++
		if s.next(']') {
			return true
		}
		for {
			if !s.skip(depth + 1) {
				return false
			}
			if s.next(',') {
				continue
			}
			return s.next(']')
		}
	case c == '"':
		return s.skipString()
	case c == '-' || c >= '0' && c <= '9':
		_, ok := s.number()
		return ok
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	}
	return false
}

func (s *scanner) literal(lit string) bool {
	if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
		s.i += len(lit)
		return true
	}
	return false
}

// skipString skips a string with JSON's escapes; non-ASCII bytes (where
// encoding/json replaces invalid UTF-8) are not ok.
func (s *scanner) skipString() bool {
	if !s.next('"') {
		return false
	}
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return true
		case c < 0x20 || c >= 0x80:
			return false
		case c == '\\':
			s.i++
			if s.i >= len(s.b) {
				return false
			}
			switch s.b[s.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i++
			case 'u':
				if len(s.b)-s.i < 5 {
					return false
				}
				for _, h := range s.b[s.i+1 : s.i+5] {
					if !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
						return false
					}
				}
				s.i += 5
			default:
				return false
			}
		default:
			s.i++
		}
	}
	return false
}

// number skips a number in JSON's grammar,
// -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, and reports whether it is
// an integer (no fraction or exponent).
func (s *scanner) number() (integer, ok bool) {
	b, i := s.b, s.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return false, false
	}
	integer = true
	if i < len(b) && b[i] == '.' {
		if i = digits(b, i+1); i < 0 {
			return false, false
		}
		integer = false
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i = digits(b, i); i < 0 {
			return false, false
		}
		integer = false
	}
	s.i = i
	return integer, true
}

// digits skips one or more decimal digits from i; -1 if there is none.
func digits(b []byte, i int) int {
	start := i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	if i == start {
		return -1
	}
	return i
}

// end reports whether only white space is left.
func (s *scanner) end() bool {
	s.ws()
	return s.i == len(s.b)
}

// params decodes a parameters object (rare on the hot path) with
// encoding/json, after the scanner has checked it.
func (s *scanner) params(dst *map[string]any) bool {
	if s.peek() != '{' {
		return false
	}
	raw, ok := s.value()
	return ok && json.Unmarshal(raw, dst) == nil
}

// copyBytes is a raw value that outlives the (pooled) body.
func copyBytes(b []byte) []byte { return append([]byte(nil), b...) }

// fastSeedRequest decodes {"input": ..., "parameters": {...}, "stream": bool}.
func fastSeedRequest(b []byte, req *api.InferenceRequest) bool {
	s := scanner{b: b}
	ok := s.object(func(k []byte) bool {
		switch string(k) {
		case "input":
			if s.peek() == 'n' { // null: encoding/json's business
				return false
			}
			raw, ok := s.value()
			req.Input = copyBytes(raw)
			return ok
		case "parameters":
			return s.params(&req.Parameters)
		case "stream":
			switch {
			case s.peek() == 't' && s.literal("true"):
				req.Stream = true
			case s.peek() == 'f' && s.literal("false"):
				req.Stream = false
			default:
				return false
			}
			return true
		}
		return false
	})
	return ok && s.end()
}

// fastV2Request decodes a v2 inference request's JSON part.
func fastV2Request(b []byte, req *V2Request) bool {
	s := scanner{b: b}
	ok := s.object(func(k []byte) bool {
		switch string(k) {
		case "id":
			id, ok := s.plainString()
			req.ID = string(id)
			return ok
		case "parameters":
			return s.params(&req.Parameters)
		case "inputs":
			req.Inputs = []v2InTensor{}
			return s.array(func() bool {
				var in v2InTensor
				ok := s.object(func(k []byte) bool { return s.v2InputField(k, &in) })
				req.Inputs = append(req.Inputs, in)
				return ok
			})
		case "outputs":
			req.Outputs = []V2Output{}
			return s.array(func() bool {
				var o V2Output
				ok := s.object(func(k []byte) bool {
					switch string(k) {
					case "name":
						name, ok := s.plainString()
						o.Name = string(name)
						return ok
					case "parameters":
						return s.params(&o.Parameters)
					}
					return false
				})
				req.Outputs = append(req.Outputs, o)
				return ok
			})
		}
		return false
	})
	return ok && s.end()
}

func (s *scanner) v2InputField(k []byte, in *v2InTensor) bool {
	switch string(k) {
	case "name":
		v, ok := s.plainString()
		in.Name = string(v)
		return ok
	case "datatype":
		v, ok := s.plainString()
		in.Datatype = string(v)
		return ok
	case "shape":
		in.Shape = make([]int64, 0, 4)
		return s.array(func() bool {
			s.ws()
			start := s.i
			integer, ok := s.number()
			if !ok || !integer {
				return false
			}
			d, err := strconv.ParseInt(string(s.b[start:s.i]), 10, 64)
			in.Shape = append(in.Shape, d)
			return err == nil
		})
	case "parameters":
		return s.params(&in.Parameters)
	case "data":
		if s.peek() == 'n' {
			return false
		}
		raw, ok := s.value()
		in.Data = copyBytes(raw)
		return ok
	}
	return false
}

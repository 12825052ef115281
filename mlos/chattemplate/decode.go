package chattemplate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// DecodeJSON decodes JSON keeping object key order (objects become Object,
// numbers int64 or float64 as Python's json.loads makes them), so a request's tool
// definitions and arguments render with tojson exactly as Python would print them.
func DecodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeValue(dec, 0)
	if err != nil {
		return nil, fmt.Errorf("decode json: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("decode json: trailing data")
	}
	return v, nil
}

func decodeValue(dec *json.Decoder, depth int) (any, error) {
	if depth > 200 {
		return nil, errors.New("nesting too deep")
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			obj := Object{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				key, _ := kt.(string)
				val, err := decodeValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				obj = setMember(obj, key, val)
			}
			_, err := dec.Token()
			return obj, err
		case '[':
			list := []any{}
			for dec.More() {
				val, err := decodeValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				list = append(list, val)
			}
			_, err := dec.Token()
			return list, err
		}
		return nil, fmt.Errorf("unexpected %v", t)
	case json.Number:
		if i, err := strconv.ParseInt(t.String(), 10, 64); err == nil {
			return i, nil
		}
		f, err := strconv.ParseFloat(t.String(), 64)
		if err != nil {
			return nil, err
		}
		return f, nil
	}
	return tok, nil
}

// setMember keeps Python's dict semantics for repeated keys: the last value wins
// at the first key's position.
func setMember(obj Object, key string, val any) Object {
	for i := range obj {
		if obj[i].Key == key {
			obj[i].Value = val
			return obj
		}
	}
	return append(obj, Member{key, val})
}

// Map returns the object as a plain map (key order lost).
func (o Object) Map() map[string]any {
	m := make(map[string]any, len(o))
	for _, mb := range o {
		m[mb.Key] = mb.Value
	}
	return m
}

// DecodeMessages decodes a JSON array of message objects (an OpenAI request's
// "messages") for Render, keeping the key order of every nested object (tool
// call arguments given as objects, content parts) as Python would.
func DecodeMessages(data []byte) ([]map[string]any, error) {
	return decodeObjects(data, "messages")
}

// DecodeTools decodes a JSON array of tool definitions (an OpenAI request's
// "tools") for Options.Tools, keeping the order of parameter names and schema
// keys so that tojson prints them as transformers would.
func DecodeTools(data []byte) ([]map[string]any, error) {
	return decodeObjects(data, "tools")
}

func decodeObjects(data []byte, what string) ([]map[string]any, error) {
	v, err := DecodeJSON(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%s: not a JSON array", what)
	}
	out := make([]map[string]any, len(list))
	for i, e := range list {
		obj, ok := e.(Object)
		if !ok {
			return nil, fmt.Errorf("%s[%d]: not a JSON object", what, i)
		}
		out[i] = obj.Map()
	}
	return out, nil
}

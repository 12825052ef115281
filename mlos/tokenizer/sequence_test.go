package tokenizer

import (
	"encoding/json"
	"strings"
	"testing"
)

// Every component kind parses its Sequence with the one parseSequence: null
// members are dropped, nested sequences work, a bad member fails the whole.
func TestSequenceComponents(t *testing.T) {
	n, err := parseNormalizer(json.RawMessage(`{"type":"Sequence","normalizers":[null,{"type":"Lowercase"},{"type":"Sequence","normalizers":[{"type":"Prepend","prepend":"_"}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if seq, ok := n.(seqNormalizer); !ok || len(seq) != 2 {
		t.Fatalf("normalizer = %#v, want a sequence of 2", n)
	}
	p, err := parsePreTokenizer(json.RawMessage(`{"type":"Sequence","pretokenizers":[{"type":"WhitespaceSplit"},null,{"type":"Digits","individual_digits":true}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if seq, ok := p.(seqPre); !ok || len(seq) != 2 {
		t.Fatalf("pre-tokenizer = %#v, want a sequence of 2", p)
	}
	pp, err := parsePostProcessor(json.RawMessage(`{"type":"Sequence","processors":[{"type":"ByteLevel","trim_offsets":false}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if seq, ok := pp.(seqPost); !ok || len(seq) != 1 {
		t.Fatalf("post-processor = %#v, want a sequence of 1", pp)
	}
	d, err := parseDecoder(json.RawMessage(`{"type":"Sequence","decoders":[{"type":"Replace","pattern":{"String":"_"},"content":" "},{"type":"Fuse"},{"type":"Strip","content":" ","start":1,"stop":0}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(d.decode([]string{"_Hello", "_world"}), ""); got != "Hello world" {
		t.Errorf("decoded %q, want %q", got, "Hello world")
	}
	for what, err := range map[string]error{
		"normalizer":     second(parseNormalizer(json.RawMessage(`{"type":"Sequence","normalizers":[{"type":"Lowercase"},{"type":"Nope"}]}`))),
		"pre-tokenizer":  second(parsePreTokenizer(json.RawMessage(`{"type":"Sequence","pretokenizers":[{"type":"Nope"}]}`))),
		"post-processor": second(parsePostProcessor(json.RawMessage(`{"type":"Sequence","processors":[{"type":"Nope"}]}`))),
		"decoder":        second(parseDecoder(json.RawMessage(`{"type":"Sequence","decoders":[{"type":"Fuse"},{"type":"Nope"}]}`))),
	} {
		if err == nil || !strings.Contains(err.Error(), `"Nope"`) {
			t.Errorf("%s sequence with an unknown member: err = %v", what, err)
		}
	}
}

func second[T any](_ T, err error) error { return err }

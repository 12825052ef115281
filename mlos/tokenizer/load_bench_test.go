package tokenizer

import (
	"os"
	"testing"
)

// BenchmarkLoad parses a tokenizer.json (set AXON_TOKENIZER_FILE to time a
// real model's file; the default is a small test file).
func BenchmarkLoad(b *testing.B) {
	path := os.Getenv("AXON_TOKENIZER_FILE")
	if path == "" {
		path = "testdata/gpt2-bpe.json.gz"
	}
	data := readTestFile(b, path)
	b.SetBytes(int64(len(data)))
	for i := 0; i < b.N; i++ {
		if _, err := FromBytes(data); err != nil {
			b.Fatal(err)
		}
	}
}

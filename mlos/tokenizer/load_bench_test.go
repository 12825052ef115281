package tokenizer

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"strings"
	"testing"
)

// BenchmarkLoad parses a tokenizer.json (set AXON_TOKENIZER_FILE to time a
// real model's file; the default is a small test file).
func BenchmarkLoad(b *testing.B) {
	path := os.Getenv("AXON_TOKENIZER_FILE")
	if path == "" {
		path = "testdata/gpt2-bpe.json.gz"
	}
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		if data, err = io.ReadAll(gz); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(data)))
	for i := 0; i < b.N; i++ {
		if _, err := FromBytes(data); err != nil {
			b.Fatal(err)
		}
	}
}

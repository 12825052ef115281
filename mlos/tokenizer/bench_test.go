package tokenizer

import (
	"strings"
	"testing"
)

const benchText = "The quick brown fox jumps over the lazy dog. Machine learning models run faster when the " +
	"runtime batches requests together; Café naïve résumé, 中文分词测试 and emoji 😀 too. "

// BenchmarkEncode encodes a ~1 KB paragraph with each test tokenizer.
func BenchmarkEncode(b *testing.B) {
	text := strings.Repeat(benchText, 6)
	for _, name := range []string{"bert-uncased", "gpt2-bpe", "llama-bpe-bytefallback", "t5-unigram"} {
		tk := testTokenizer(b, name)
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				tk.Encode(text, true)
			}
		})
	}
}

// BenchmarkEncodeShort is the inference-request case: one short sentence.
func BenchmarkEncodeShort(b *testing.B) {
	tk := testTokenizer(b, "bert-uncased")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		tk.Encode("Hello, MLOS! This movie was great.", true)
	}
}

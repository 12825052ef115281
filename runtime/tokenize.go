package runtime

import "fmt"

// loadTokenizer reads a Hugging Face tokenizer.json.
func loadTokenizer(path string) (TextTokenizer, error) {
	return nil, fmt.Errorf("the pure-Go tokenizer is not available yet")
}

package tokenizer_test

import (
	"compress/gzip"
	"fmt"
	"io"
	"os"

	"github.com/mlos-foundation/axon/mlos/tokenizer"
)

func Example() {
	// A model package ships tokenizer.json; tokenizer.FromFile(path) reads it.
	// The test files are gzipped, hence FromBytes here.
	f, _ := os.Open("testdata/bert-uncased.json.gz")
	defer f.Close()
	gz, _ := gzip.NewReader(f)
	data, _ := io.ReadAll(gz)
	tk, err := tokenizer.FromBytes(data)
	if err != nil {
		panic(err)
	}
	enc := tk.Encode("Hello, world!", true)
	fmt.Println(enc.Tokens)
	fmt.Println(enc.IDs, enc.AttentionMask)
	fmt.Println(tk.Decode(enc.IDs, true))
	// Output:
	// [[CLS] hello , world ! [SEP]]
	// [2 449 11 408 5 3] [1 1 1 1 1 1]
	// hello, world!
}

package tokenizer

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

// The reference files are produced by Hugging Face tokenizers itself (see
// testdata/README.md); every case must match exactly.

type refTrunc struct {
	MaxLength int    `json:"max_length"`
	Strategy  string `json:"strategy"`
	Direction string `json:"direction"`
}

type refCase struct {
	Text              string    `json:"text"`
	Pair              *string   `json:"pair"`
	AddSpecial        bool      `json:"add_special"`
	Truncation        *refTrunc `json:"truncation"`
	IDs               []int64   `json:"ids"`
	TypeIDs           []int64   `json:"type_ids"`
	AttentionMask     []int64   `json:"attention_mask"`
	SpecialTokensMask []int64   `json:"special_tokens_mask"`
	Tokens            []string  `json:"tokens"`
	Offsets           [][2]int  `json:"offsets"`
	Decoded           *string   `json:"decoded"`
	DecodedSkip       *string   `json:"decoded_skip"`
}

type refBatch struct {
	Texts         []string  `json:"texts"`
	AddSpecial    bool      `json:"add_special"`
	FilePadding   bool      `json:"file_padding"`
	PadID         int       `json:"pad_id"`
	PadToken      string    `json:"pad_token"`
	IDs           [][]int64 `json:"ids"`
	TypeIDs       [][]int64 `json:"type_ids"`
	AttentionMask [][]int64 `json:"attention_mask"`
}

type refFile struct {
	Generator string     `json:"generator"`
	Tokenizer string     `json:"tokenizer"`
	VocabSize int        `json:"vocab_size"`
	Cases     []refCase  `json:"cases"`
	Batches   []refBatch `json:"batches"`
}

func readRef(t testing.TB, path string) refFile {
	t.Helper()
	var ref refFile
	if err := json.Unmarshal(readTestFile(t, path), &ref); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return ref
}

// readTestFile reads a test file, gunzipping *.gz (the committed test files
// are compressed to keep the repository small).
func readTestFile(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if data, err = io.ReadAll(gz); err != nil {
			t.Fatal(err)
		}
	}
	return data
}

// refFiles lists the committed references plus, when AXON_TOKENIZER_REFDIR
// is set, those written by testdata/gen/xcheck.mjs for real models.
func refFiles(t testing.TB) []string {
	files, _ := filepath.Glob("testdata/*.ref.json*")
	if len(files) == 0 {
		t.Fatal("no reference files in testdata")
	}
	if dir := os.Getenv("AXON_TOKENIZER_REFDIR"); dir != "" {
		extra, _ := filepath.Glob(filepath.Join(dir, "*.ref.json*"))
		files = append(files, extra...)
	}
	return files
}

// charOffsets converts byte offsets into the character offsets the
// reference (Python/Node bindings) reports, the way the Rust converter does:
// a byte inside a character maps to that character's index.
func charOffsets(text string, off [2]int) [2]int {
	charAt := func(b int) int {
		if b >= len(text) {
			return utf8.RuneCountInString(text)
		}
		n := 0
		for i := range text {
			if i > b {
				return n - 1
			}
			n++
		}
		return n - 1
	}
	if off[0] > len(text) || off[1] > len(text) {
		return [2]int{-1, -1}
	}
	return [2]int{charAt(off[0]), charAt(off[1])}
}

func loadRef(t *testing.T, file string) (*Tokenizer, refFile) {
	ref := readRef(t, file)
	return loadPath(t, filepath.Join(filepath.Dir(file), ref.Tokenizer)), ref
}

// loadPath loads a tokenizer.json or tokenizer.json.gz.
func loadPath(t testing.TB, path string) *Tokenizer {
	t.Helper()
	tk, err := FromBytes(readTestFile(t, path))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return tk
}

// testTokenizer loads testdata/NAME.json.gz.
func testTokenizer(t testing.TB, name string) *Tokenizer {
	return loadPath(t, filepath.Join("testdata", name+".json.gz"))
}

func TestReference(t *testing.T) {
	for _, file := range refFiles(t) {
		name := strings.TrimSuffix(filepath.Base(file), ".ref.json.gz")
		name = strings.TrimSuffix(name, ".ref.json")
		t.Run(name, func(t *testing.T) {
			tk, ref := loadRef(t, file)
			if got := tk.VocabSize(); got < ref.VocabSize {
				t.Errorf("VocabSize = %d, reference has %d tokens", got, ref.VocabSize)
			}
			fails := 0
			for i, c := range ref.Cases {
				if fails > 8 {
					t.Fatal("too many failures")
				}
				if err := checkCase(tk, c); err != nil {
					fails++
					pair := ""
					if c.Pair != nil {
						pair = fmt.Sprintf(" + %q", *c.Pair)
					}
					t.Errorf("case %d %q%s (special=%v trunc=%v):\n%v", i, c.Text, pair, c.AddSpecial, c.Truncation, err)
				}
			}
			for i, b := range ref.Batches {
				tb := tk // the file's own padding and truncation
				if !b.FilePadding {
					tb = tk.WithPadding(&Padding{PadID: b.PadID, PadToken: b.PadToken}).WithTruncation(nil)
				}
				encs := tb.EncodeBatch(b.Texts, b.AddSpecial)
				for k, e := range encs {
					if !equal(e.IDs, b.IDs[k]) || !equal(e.AttentionMask, b.AttentionMask[k]) || !equal(e.TypeIDs, b.TypeIDs[k]) {
						t.Errorf("batch %d item %d:\n got ids %v mask %v types %v\nwant ids %v mask %v types %v", i, k,
							e.IDs, e.AttentionMask, e.TypeIDs, b.IDs[k], b.AttentionMask[k], b.TypeIDs[k])
					}
				}
			}
		})
	}
}

func checkCase(tk *Tokenizer, c refCase) error {
	if c.Truncation != nil {
		tk = tk.WithTruncation(&Truncation{MaxLength: c.Truncation.MaxLength, Strategy: c.Truncation.Strategy, Left: c.Truncation.Direction == "Left"})
	}
	tk = tk.WithPadding(nil)
	var e Encoding
	if c.Pair != nil {
		e = tk.EncodePair(c.Text, *c.Pair, c.AddSpecial)
	} else {
		e = tk.Encode(c.Text, c.AddSpecial)
	}
	var errs []string
	if !equal(e.IDs, c.IDs) {
		errs = append(errs, fmt.Sprintf(" ids: got  %v\n       want %v\n tokens: got  %q\n         want %q", e.IDs, c.IDs, e.Tokens, c.Tokens))
	}
	if c.TypeIDs != nil && !equal(e.TypeIDs, c.TypeIDs) {
		errs = append(errs, fmt.Sprintf(" type ids: got %v want %v", e.TypeIDs, c.TypeIDs))
	}
	if c.AttentionMask != nil && !equal(e.AttentionMask, c.AttentionMask) {
		errs = append(errs, fmt.Sprintf(" attention mask: got %v want %v", e.AttentionMask, c.AttentionMask))
	}
	if c.SpecialTokensMask != nil && !equal(e.SpecialTokensMask, c.SpecialTokensMask) {
		errs = append(errs, fmt.Sprintf(" special tokens mask: got %v want %v", e.SpecialTokensMask, c.SpecialTokensMask))
	}
	if c.Tokens != nil && len(errs) == 0 && !equal(e.Tokens, c.Tokens) {
		errs = append(errs, fmt.Sprintf(" tokens: got %q want %q", e.Tokens, c.Tokens))
	}
	if c.Offsets != nil && len(errs) == 0 {
		got := make([][2]int, len(e.Offsets))
		for i, off := range e.Offsets {
			text := c.Text
			if e.SequenceIDs[i] == 1 {
				text = *c.Pair
			}
			got[i] = charOffsets(text, off)
		}
		if !equal(got, c.Offsets) {
			errs = append(errs, fmt.Sprintf(" offsets: got  %v\n          want %v\n tokens %q", got, c.Offsets, e.Tokens))
		}
	}
	if c.Decoded != nil {
		if got := tk.Decode(c.IDs, false); got != *c.Decoded {
			errs = append(errs, fmt.Sprintf(" decode: got %q want %q", got, *c.Decoded))
		}
	}
	if c.DecodedSkip != nil {
		if got := tk.Decode(c.IDs, true); got != *c.DecodedSkip {
			errs = append(errs, fmt.Sprintf(" decode(skip special): got %q want %q", got, *c.DecodedSkip))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return nil
}

// TestConcurrent encodes from many goroutines at once; run with -race to
// check the shared caches.
func TestConcurrent(t *testing.T) {
	for _, name := range []string{"bert-uncased", "gpt2-bpe", "t5-unigram", "llama3-bpe", "unigram-precompiled", "llama-bpe-bytefallback"} {
		tk := testTokenizer(t, name)
		texts := []string{"Hello, world!", "The quick brown fox jumps over the lazy dog.", "Café naïve 中文 😀"}
		want := make([][]int64, len(texts))
		for i, s := range texts {
			want[i] = tk.Encode(s, true).IDs
		}
		var wg sync.WaitGroup
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := 0; k < 50; k++ {
					i := (g + k) % len(texts)
					if got := tk.Encode(texts[i], true).IDs; !reflect.DeepEqual(got, want[i]) {
						t.Errorf("%s: concurrent encode of %q differs", name, texts[i])
						return
					}
				}
			}()
		}
		wg.Wait()
	}
}

func TestLoadErrors(t *testing.T) {
	for _, bad := range []string{
		``, `{`, `{"model": null}`, `{"model": {"type": "Nope"}}`,
		`{"model": {"type": "WordPiece", "vocab": {"a": 0}}, "normalizer": {"type": "Nope"}}`,
		`{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}}`,
		`{"model": {"type": "Unigram", "vocab": [["a", 0]], "unk_id": 5}}`,
		`{"model": {"type": "WordPiece", "vocab": {"a": 0}}, "pre_tokenizer": {"type": "Split", "pattern": {"Regex": "("}, "behavior": "Isolated"}}`,
	} {
		if _, err := FromBytes([]byte(bad)); err == nil {
			t.Errorf("FromBytes(%q) succeeded, want an error", bad)
		}
	}
	// FromFile on a plain tokenizer.json
	plain := filepath.Join(t.TempDir(), "tokenizer.json")
	if err := os.WriteFile(plain, readTestFile(t, "testdata/bert-uncased.json.gz"), 0o644); err != nil {
		t.Fatal(err)
	}
	if tk, err := FromFile(plain); err != nil || tk.Encode("hello", true).Len() != 3 {
		t.Fatalf("FromFile(%s): %v", plain, err)
	}
	if _, err := FromFile("testdata/does-not-exist.json"); err == nil {
		t.Error("FromFile of a missing file succeeded")
	}
}

func TestTokenLookup(t *testing.T) {
	tk := testTokenizer(t, "bert-uncased")
	for _, s := range []string{"[CLS]", "[SEP]", "the", "##s"} {
		id, ok := tk.TokenToID(s)
		if !ok {
			t.Fatalf("TokenToID(%q) not found", s)
		}
		back, ok := tk.IDToToken(id)
		if !ok || back != s {
			t.Errorf("IDToToken(%d) = %q, %v; want %q", id, back, ok, s)
		}
	}
	if _, ok := tk.TokenToID("definitely-not-a-token"); ok {
		t.Error("unknown token found")
	}
	if _, ok := tk.IDToToken(tk.VocabSize() + 10); ok {
		t.Error("out of range id found")
	}
}

func equal[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestEncodeBatchLarge: the parallel path gives the same encodings as Encode.
func TestEncodeBatchLarge(t *testing.T) {
	tk := testTokenizer(t, "bert-uncased")
	var texts []string
	for i := 0; i < 100; i++ {
		texts = append(texts, strings.Repeat("hello world ", i%7)+"machine learning")
	}
	encs := tk.EncodeBatch(texts, true)
	longest := 0
	for _, s := range texts {
		e := tk.Encode(s, true)
		longest = max(longest, e.Len())
	}
	for i, s := range texts {
		one := tk.Encode(s, true)
		e := encs[i]
		if e.Len() != longest {
			t.Fatalf("item %d: length %d, want padded to %d", i, e.Len(), longest)
		}
		if !equal(e.IDs[:one.Len()], one.IDs) {
			t.Fatalf("item %d: ids %v, want prefix %v", i, e.IDs, one.IDs)
		}
		for k := one.Len(); k < longest; k++ {
			if e.IDs[k] != 0 || e.AttentionMask[k] != 0 {
				t.Fatalf("item %d: position %d is not [PAD] with mask 0", i, k)
			}
		}
	}
}

func TestEncodePairBatch(t *testing.T) {
	tk := testTokenizer(t, "bert-uncased")
	pairs := [][2]string{{"hello", "world"}, {"the quick brown fox", "jumps over the lazy dog"}}
	encs := tk.EncodePairBatch(pairs, true)
	for i, p := range pairs {
		one := tk.EncodePair(p[0], p[1], true)
		if encs[i].Len() != encs[1].Len() || !equal(encs[i].IDs[:one.Len()], one.IDs) || !equal(encs[i].TypeIDs[:one.Len()], one.TypeIDs) {
			t.Errorf("pair %d: %v / %v, want prefix %v / %v", i, encs[i].IDs, encs[i].TypeIDs, one.IDs, one.TypeIDs)
		}
	}
}

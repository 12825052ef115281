package schemas

import (
	"errors"
	"strings"
	"testing"
)

const validManifest = `apiVersion: axon.mlos.dev/v1
kind: ModelPackage
name: bert-base-uncased
namespace: hf
version: "1.0"
source: {hub: hf, id: google-bert/bert-base-uncased, revision: 86b5e0934494bd15c9632b12f734a8a67f723594, url: "https://huggingface.co/google-bert/bert-base-uncased", created: "2024-02-19T11:06:12Z"}
framework: {name: pytorch, version: "1.13"}
format: {name: onnx, opset: 17, irVersion: 8}
task: fill-mask
io:
  inputs:
    - {name: input_ids, dtype: int64, shape: [batch, sequence]}
    - {name: attention_mask, dtype: int64, shape: [batch, sequence]}
  outputs:
    - {name: logits, dtype: float32, shape: [batch, sequence, 30522]}
preprocessing:
  tokenizer: {type: wordpiece, files: [tokenizer.json], maxLength: 512}
labels: [a, b]
resources: {bytes: 30, parameters: 110000000}
validation: {reference: torch 1.13.1, maxAbsDiff: 0.00001, tolerance: 0.0001, passed: true}
files:
  - {path: model.onnx, role: model, digest: "sha256:0000000000000000000000000000000000000000000000000000000000000000", size: 10}
  - {path: tokenizer.json, role: tokenizer, digest: "sha256:1111111111111111111111111111111111111111111111111111111111111111", size: 20}
`

func TestParseValid(t *testing.T) {
	m, err := Parse([]byte(validManifest))
	if err != nil {
		t.Fatal(err)
	}
	if m.IO.Outputs[0].Shape[2].Size != 30522 || m.IO.Inputs[0].Shape[0].Name != "batch" {
		t.Errorf("shapes: %+v", m.IO)
	}
	// Marshal → Parse is the identity.
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse(b)
	if err != nil {
		t.Fatalf("marshalled manifest does not parse: %v\n%s", err, b)
	}
	b2, _ := again.Marshal()
	if string(b) != string(b2) {
		t.Errorf("marshal is not stable:\n%s\n---\n%s", b, b2)
	}
	if err := m.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

// Every bad manifest names the field path of its problem.
func TestFieldPaths(t *testing.T) {
	for _, tc := range []struct{ old, new, path string }{
		{"dtype: int64, shape: [batch, sequence]}\n    - {name: attention_mask", "dtype: flot32, shape: [batch, sequence]}\n    - {name: attention_mask", "io.inputs[0].dtype"},
		{"shape: [batch, sequence, 30522]", "shape: [batch, sequence, true]", "io.outputs[0].shape[2]"},
		{"shape: [batch, sequence, 30522]", "shape: [batch, sequence, -5]", "io.outputs[0].shape[2]"},
		{"name: bert-base-uncased", "name: Bert Base", "name"},
		{`version: "1.0"`, `version: "1 0"`, "version"},
		{"kind: ModelPackage", "kind: Model", "kind"},
		{"role: tokenizer", "role: tokeniser", "files[1].role"},
		{`"sha256:1111111111111111111111111111111111111111111111111111111111111111"`, `"md5:abc"`, "files[1].digest"},
		{"size: 20", "size: -1", "files[1].size"},
		{"resources: {bytes: 30,", "resources: {bytes: 30, gpus: 1,", "resources.gpus"},
		{"namespace: hf\n", "", "namespace"},
		{"path: tokenizer.json", "path: ../tokenizer.json", "files[1].path"},
		{"path: tokenizer.json", "path: /etc/tokenizer.json", "files[1].path"},
		{"path: tokenizer.json", "path: model.onnx", "files[1].path"},
		{"bytes: 30", "bytes: 31", "resources.bytes"},
		{"files: [tokenizer.json]", "files: [vocab.txt]", "preprocessing.tokenizer.files[0]"},
		{"role: tokenizer", "role: model", "files"},
		{`created: "2024-02-19T11:06:12Z"`, `created: "yesterday"`, "source.created"},
		{"{name: attention_mask, dtype: int64", "{name: input_ids, dtype: int64", "io.inputs[1].name"},
		{"maxAbsDiff: 0.00001", "maxAbsDiff: high", "validation.maxAbsDiff"},
	} {
		if !strings.Contains(validManifest, tc.old) {
			t.Fatalf("test case %q does not apply", tc.old)
		}
		bad := strings.Replace(validManifest, tc.old, tc.new, 1)
		_, err := Parse([]byte(bad))
		var ve *ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("%s: err = %v, want a ValidationError", tc.path, err)
			continue
		}
		found := false
		for _, fe := range ve.Errors {
			if fe.Path == tc.path {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: errors %v do not name the path", tc.path, ve.Errors)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error is not one line: %q", tc.path, err)
		}
	}
}

func TestParsePartial(t *testing.T) {
	m, err := ParsePartial([]byte("name: tiny\ntask: text-classification\n"))
	if err != nil || m.Name != "tiny" || m.Task != "text-classification" {
		t.Fatalf("%+v %v", m, err)
	}
	if _, err := ParsePartial([]byte("task: [1]\n")); err == nil || !strings.Contains(err.Error(), "task") {
		t.Errorf("partial with a bad type: %v", err)
	}
	if _, err := ParsePartial(nil); err != nil {
		t.Errorf("empty manifest: %v", err)
	}
	if _, err := Parse(nil); err == nil {
		t.Error("an empty manifest passed full validation")
	}
	if _, err := ParsePartial([]byte("{1: 2}")); err == nil {
		t.Error("non-string keys passed")
	}
}

func TestCheckPath(t *testing.T) {
	for _, p := range []string{"a", "a/b.txt", "original/x.bin", "a..b"} {
		if err := CheckPath(p); err != nil {
			t.Errorf("CheckPath(%q): %v", p, err)
		}
	}
	for _, p := range []string{"", "/a", "../a", "a/../b", "a//b", "./a", "a/", `a\b`, "C:/x", "a/.", ".."} {
		if err := CheckPath(p); err == nil {
			t.Errorf("CheckPath(%q) passed", p)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(validManifest))
	f.Add([]byte("io: {inputs: [{name: x, dtype: float32, shape: [1, b, ?]}], outputs: []}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err != nil {
			return
		}
		out, err := m.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(out); err != nil {
			t.Fatalf("a valid manifest does not survive marshalling: %v\n%s", err, out)
		}
	})
}

// Every Go field has a place in the schema: a manifest with all fields set
// validates (the schema refuses unknown fields).
func TestSchemaCoversTypes(t *testing.T) {
	m := &Manifest{
		APIVersion: APIVersion, Kind: Kind, Name: "n", Namespace: "ns", Version: "1", Description: "d", License: "mit",
		Source:    &Source{Hub: "hf", ID: "a/b", Revision: "r", URL: "https://x.io/a", License: "mit", Created: "2024-01-01T00:00:00Z"},
		Framework: Framework{Name: "pytorch", Version: "2"}, Format: Format{Name: "onnx", Opset: 17, IRVersion: 8, Model: "model.onnx"},
		Task: "t", IO: IO{Inputs: []Tensor{{Name: "x", DType: "float32", Shape: []Dim{{Size: -1, Name: "batch"}, {Size: 3}, {Size: -1}}}}, Outputs: []Tensor{}},
		Preprocessing: &Preprocessing{Tokenizer: &Tokenizer{Type: "bpe", Files: []string{"tok.json"}, MaxLength: 8},
			Image: &Image{Size: []int{224, 224}, Mean: []float64{0.5, 0.5, 0.5}, Std: []float64{0.2, 0.2, 0.2}, Layout: "NCHW"}},
		Labels:     []string{"a"},
		Resources:  Resources{Bytes: 3, Parameters: 9},
		Validation: &Validation{Reference: "torch", MaxAbsDiff: 0, Tolerance: 1e-4, Passed: true},
		Files: []File{{Path: "model.onnx", Role: RoleModel, Digest: "sha256:" + strings.Repeat("a", 64), Size: 2},
			{Path: "tok.json", Role: RoleTokenizer, Digest: "sha256:" + strings.Repeat("b", 64), Size: 1}},
	}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	fields, err := Fields()
	if err != nil {
		t.Fatal(err)
	}
	md, _ := Markdown()
	for _, want := range []string{"io.inputs[].dtype", "preprocessing.image.mean", "files[].digest", "source.created"} {
		if !strings.Contains(md, "`"+want+"`") {
			t.Errorf("docs lack %s", want)
		}
	}
	if len(fields) < 40 {
		t.Errorf("only %d documented fields", len(fields))
	}
}

package server_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/mlos-foundation/axon/internal/testutil"
	"github.com/mlos-foundation/axon/mlos"
	"github.com/mlos-foundation/axon/mlos/mlostest"
	"github.com/mlos-foundation/axon/mlos/server"
)

// FuzzInfer throws arbitrary bodies (and binary-extension header lengths) at
// both inference APIs of a loaded model: never a 500, never a panic.
func FuzzInfer(f *testing.F) {
	for _, s := range []string{
		`{"input": [[1, 2, 3]]}`, `{"input": {"x": [[1,2,3]]}}`, `{"input": "hi"}`,
		`{"inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP32", "data": [1, 2, 3]}]}`,
		`{"inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP32", "parameters": {"binary_data_size": 12}}]}` + "\x00\x00\x80\x3f\x00\x00\x00\x40\x00\x00\x40\x40",
		`{"inputs": [{"name": "x", "shape": [-1, 3], "datatype": "BYTES", "data": ["a"]}], "outputs": [{"name": "q"}]}`,
	} {
		f.Add([]byte(s), -1)
	}
	m, err := mlos.NewManager(context.Background(), mlos.Options{DataDir: f.TempDir(), ORTLib: testutil.ORTLibrary(f), Batch: mlos.BatchOptions{MaxBatchSize: 4}})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(m.Close)
	layout := f.TempDir()
	mlostest.Package{Namespace: "test", Name: "affine", Version: "1", Model: mlostest.AffineModel(f)}.Layout(f, layout, "v1")
	if _, err := m.Register(context.Background(), "oci-layout://"+layout+":v1", ""); err != nil {
		f.Fatal(err)
	}
	h := server.New(m, server.Options{MaxBody: 1 << 20}).Handler()
	f.Fuzz(func(t *testing.T, body []byte, headerLen int) {
		for _, path := range []string{"/models/test/affine/inference", "/v2/models/test/affine/infer"} {
			req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
			if headerLen >= 0 {
				req.Header.Set(server.HeaderInferenceLength, strconv.Itoa(headerLen))
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code >= 500 {
				t.Fatalf("%s %q (header %d): %d %s", path, body, headerLen, w.Code, w.Body)
			}
		}
	})
}

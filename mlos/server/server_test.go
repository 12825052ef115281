package server_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/mlos-foundation/axon/internal/testutil"
	"github.com/mlos-foundation/axon/mlos"
	"github.com/mlos-foundation/axon/mlos/client"
	"github.com/mlos-foundation/axon/mlos/mlostest"
	"github.com/mlos-foundation/axon/mlos/server"
)

type env struct {
	url    string
	cl     *client.Client
	layout string
}

func start(t *testing.T, maxBody int64) *env {
	t.Helper()
	m, err := mlos.NewManager(context.Background(), mlos.Options{DataDir: t.TempDir(), ORTLib: testutil.ORTLibrary(t), Batch: mlos.BatchOptions{MaxBatchSize: 8}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	s := server.New(m, server.Options{MaxBody: maxBody})
	s.SetReady(true)
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	layout := t.TempDir()
	mlostest.Package{Namespace: "test", Name: "affine", Version: "1.0.0", Model: mlostest.AffineModel(t)}.Layout(t, layout, "affine")
	mlostest.Package{Namespace: "test", Name: "half", Version: "1", Model: mlostest.HalfModel(t)}.Layout(t, layout, "half")
	mlostest.Package{Namespace: "test", Name: "strings", Version: "1", Model: mlostest.StringModel(t)}.Layout(t, layout, "strings")
	mlostest.Package{Namespace: "test", Name: "bf16", Version: "1", Model: mlostest.BFloat16Model(t)}.Layout(t, layout, "bf16")
	return &env{url: ts.URL, cl: client.New(ts.URL), layout: layout}
}

func (e *env) register(t *testing.T, tag string) *mlos.Info {
	t.Helper()
	info, err := e.cl.Register(context.Background(), "oci-layout://"+e.layout+":"+tag, "")
	if err != nil {
		t.Fatal(err)
	}
	return info
}

func call(t *testing.T, method, url string, body []byte, hdr map[string]string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func wantStatus(t *testing.T, what string, got, want int, body []byte, mention string) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: HTTP %d %s, want %d", what, got, body, want)
	}
	var e struct {
		Error string `json:"error"`
	}
	if want >= 400 {
		if json.Unmarshal(body, &e) != nil || e.Error == "" {
			t.Fatalf("%s: error body %s is not {\"error\": ...}", what, body)
		}
		if mention != "" && !strings.Contains(e.Error, mention) {
			t.Fatalf("%s: error %q does not mention %q", what, e.Error, mention)
		}
	}
}

func TestSeedAPI(t *testing.T) {
	e := start(t, 0)
	ctx := context.Background()
	info := e.register(t, "affine")
	if info.Name != "test/affine" || info.State != mlos.StateReady || !strings.HasPrefix(info.Digest, "sha256:") {
		t.Fatalf("register answered %+v", info)
	}
	list, err := e.cl.List(ctx)
	if err != nil || len(list) != 1 || list[0].Name != "test/affine" {
		t.Fatalf("list %+v %v", list, err)
	}
	got, err := e.cl.Get(ctx, "test/affine")
	if err != nil || got.Inputs[0].Shape != "[batch,3]" {
		t.Fatalf("get %+v %v", got, err)
	}

	x := [3]float32{0.5, -1, 2}
	res, err := e.cl.Infer(ctx, "test/affine", [][]float32{x[:]}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string][][]float64
	if err := json.Unmarshal(res.Output, &out); err != nil {
		t.Fatalf("output %s: %v", res.Output, err)
	}
	want := mlostest.AffineRef(x)
	for j := range want {
		if math.Abs(out["y"][0][j]-float64(want[j])) > 1e-5 {
			t.Fatalf("output %v, want %v", out["y"], want)
		}
	}
	if res.Latency == "" || !strings.HasSuffix(res.Latency, "s") {
		t.Fatalf("latency %q", res.Latency)
	}
	// Named inputs.
	if _, err := e.cl.Infer(ctx, "test/affine", map[string]any{"x": [][]float32{x[:], x[:]}}, nil); err != nil {
		t.Fatal(err)
	}

	// Bad input.
	for _, c := range []struct {
		body, mention string
		status        int
	}{
		{`{"input": [[1, 2]]}`, `"x"`, 400},
		{`{"input": {"x": [[1, 2, 3]], "z": [1]}}`, `"z"`, 400},
		{`{"input": [["a", 2, 3]]}`, `"x"`, 400},
		{`{"input": {}}`, `missing input "x"`, 400},
		{`{"input": "some text"}`, "tokenizer", 400},
		{`{"nope": 1}`, "input", 400},
		{`not json`, "JSON", 400},
	} {
		code, _, b := call(t, "POST", e.url+"/models/test/affine/inference", []byte(c.body), nil)
		wantStatus(t, c.body, code, c.status, b, c.mention)
	}
	code, _, b := call(t, "POST", e.url+"/models/no/such/inference", []byte(`{"input": [1]}`), nil)
	wantStatus(t, "unknown model", code, 404, b, "no/such")
	code, _, b = call(t, "POST", e.url+"/models", []byte(`{"ref": "oci-layout://`+e.layout+`@sha256:`+strings.Repeat("0", 64)+`"}`), nil)
	wantStatus(t, "unknown digest", code, 404, b, "")
	code, _, b = call(t, "POST", e.url+"/models", []byte(`{}`), nil)
	wantStatus(t, "no ref", code, 400, b, "ref")

	var ce *client.Error
	if err := e.cl.Unregister(ctx, "test/affine"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cl.Get(ctx, "test/affine"); !errors.As(err, &ce) || ce.Status != 404 {
		t.Fatalf("get after delete: %v", err)
	}
}

func TestBodyLimit(t *testing.T) {
	e := start(t, 1024)
	e.register(t, "affine")
	big := `{"input": [[` + strings.Repeat("1,", 2000) + `1]]}`
	code, _, b := call(t, "POST", e.url+"/models/test/affine/inference", []byte(big), nil)
	wantStatus(t, "oversized body", code, http.StatusRequestEntityTooLarge, b, "")
}

func v2(t *testing.T, e *env, model string, req any) (int, map[string]any) {
	t.Helper()
	body, _ := json.Marshal(req)
	code, _, b := call(t, "POST", e.url+"/v2/models/"+model+"/infer", body, nil)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("v2 answer %s: %v", b, err)
	}
	return code, out
}

func TestV2(t *testing.T) {
	e := start(t, 0)
	e.register(t, "affine")
	e.register(t, "half")
	e.register(t, "strings")

	for _, p := range []string{"/v2", "/v2/health/live", "/v2/health/ready", "/v2/models/test/affine", "/v2/models/test/affine/ready", "/v2/models/test/affine/versions/1.0.0", "/v2/models/test/affine/versions/1.0.0/ready", "/healthz"} {
		code, _, b := call(t, "GET", e.url+p, nil, nil)
		if code != 200 {
			t.Fatalf("GET %s: %d %s", p, code, b)
		}
	}
	_, _, b := call(t, "GET", e.url+"/v2/models/test/affine", nil, nil)
	var md struct {
		Name   string `json:"name"`
		Inputs []struct {
			Name, Datatype string
			Shape          []int64
		} `json:"inputs"`
	}
	json.Unmarshal(b, &md)
	if md.Name != "test/affine" || len(md.Inputs) != 1 || md.Inputs[0].Datatype != "FP32" || md.Inputs[0].Shape[0] != -1 || md.Inputs[0].Shape[1] != 3 {
		t.Fatalf("metadata %s", b)
	}
	code, _, b := call(t, "GET", e.url+"/v2/models/test/affine/versions/9/ready", nil, nil)
	wantStatus(t, "unknown version", code, 404, b, "version")

	// JSON, nested data, id echoed, output selection.
	x := [][3]float32{{1, 2, 3}, {-3, 0.25, 1}}
	code, out := v2(t, e, "test/affine", map[string]any{
		"id":      "req-7",
		"inputs":  []any{map[string]any{"name": "x", "shape": []int{2, 3}, "datatype": "FP32", "data": [][]float32{x[0][:], x[1][:]}}},
		"outputs": []any{map[string]any{"name": "y"}},
	})
	if code != 200 || out["id"] != "req-7" || out["model_name"] != "test/affine" {
		t.Fatalf("v2 infer %d %v", code, out)
	}
	o := out["outputs"].([]any)[0].(map[string]any)
	data := o["data"].([]any)
	for i, r := range x {
		want := mlostest.AffineRef(r)
		for j := range want {
			if math.Abs(data[i*2+j].(float64)-float64(want[j])) > 1e-5 {
				t.Fatalf("v2 data %v, want row %d = %v", data, i, want)
			}
		}
	}
	if o["datatype"] != "FP32" || len(o["shape"].([]any)) != 2 {
		t.Fatalf("v2 output %v", o)
	}

	// Bad requests name the input and what was expected.
	for _, c := range []struct {
		in      map[string]any
		mention string
	}{
		{map[string]any{"name": "x", "shape": []int{1, 3}, "datatype": "FP64", "data": []float64{1, 2, 3}}, "expected FP32"},
		{map[string]any{"name": "x", "shape": []int{1, 4}, "datatype": "FP32", "data": []float64{1, 2, 3, 4}}, "[batch,3]"},
		{map[string]any{"name": "x", "shape": []int{1, 3}, "datatype": "FP32", "data": []float64{1, 2}}, `"x"`},
		{map[string]any{"name": "w", "shape": []int{1, 3}, "datatype": "FP32", "data": []float64{1, 2, 3}}, `"w"`},
		{map[string]any{"name": "x", "shape": []int{1, 3}, "datatype": "FLOAT", "data": []float64{1, 2, 3}}, "datatype"},
		{map[string]any{"name": "x", "datatype": "FP32", "data": []float64{1, 2, 3}}, `"x" has no "shape"`},
		{map[string]any{"shape": []int{1, 3}, "datatype": "FP32", "data": []float64{1, 2, 3}}, `no "name"`},
	} {
		code, out := v2(t, e, "test/affine", map[string]any{"inputs": []any{c.in}})
		if code != 400 || !strings.Contains(out["error"].(string), c.mention) {
			t.Fatalf("%v: %d %v, want 400 mentioning %s", c.in, code, out, c.mention)
		}
	}
	code, out = v2(t, e, "test/affine", map[string]any{"inputs": []any{}})
	if code != 400 {
		t.Fatalf("no inputs: %d %v", code, out)
	}
	// Client mistakes in JSON's terms, and wrong methods as 405 with Allow.
	for _, c := range []struct{ method, path, body, mention, allow string }{
		{"POST", "/v2/models/test/affine/infer", `{"inputs": {}}`, `field "inputs" must be an array, not an object`, ""},
		{"POST", "/models/test/affine/inference", `[1]`, "body must be a JSON object, not an array", ""},
		{"POST", "/v2/models/test/affine/infer", `{"id": 7, "inputs": []}`, `field "id" must be a string`, ""},
		{"GET", "/v2/models/test/affine/infer", ``, "use POST", "POST"},
		{"GET", "/models/test/affine/inference", ``, "use POST", "POST"},
		{"POST", "/v2/models/test/affine/ready", `{}`, "use GET", "GET"},
		{"POST", "/v2/models/test/affine", `{}`, "use GET", "GET"},
		{"PUT", "/models/test/affine", `{}`, "use GET, DELETE", "GET, DELETE"},
		{"POST", "/models/test/affine", `{}`, "use GET, DELETE", "GET, DELETE"},
		{"DELETE", "/models/test/affine/inference", ``, "use POST", "POST"},
	} {
		code, hdr, b := call(t, c.method, e.url+c.path, []byte(c.body), nil)
		want := 400
		if c.allow != "" {
			want = 405
		}
		wantStatus(t, c.method+" "+c.path+" "+c.body, code, want, b, c.mention)
		if hdr.Get("Allow") != c.allow || strings.Contains(string(b), "server.") {
			t.Errorf("%s %s: Allow %q, body %s", c.method, c.path, hdr.Get("Allow"), b)
		}
	}
	_, _, b = call(t, "GET", e.url+"/v2", nil, nil)
	var srv struct{ Extensions []string }
	json.Unmarshal(b, &srv)
	if strings.Join(srv.Extensions, ",") != "binary_tensor_data,model_repository" {
		t.Errorf("/v2 claims extensions %v", srv.Extensions)
	}
	code, out = v2(t, e, "test/nope", map[string]any{"inputs": []any{}})
	if code != 404 {
		t.Fatalf("unknown model: %d %v", code, out)
	}

	// FP16 and BF16 doubled, BYTES echoed, in JSON.
	e.register(t, "bf16")
	for _, c := range []struct {
		model, input, datatype string
		shape                  []int
		data, want             any
	}{
		{"test/half", "h", "FP16", []int{1, 2}, []float64{1.5, -3}, []any{3.0, -6.0}},
		{"test/bf16", "h", "BF16", []int{1, 2}, []float64{0.15625, -1.5}, []any{0.3125, -3.0}},
		{"test/strings", "s", "BYTES", []int{2}, []string{"alpha", "βeta"}, []any{"alpha", "βeta"}},
	} {
		code, out := v2(t, e, c.model, map[string]any{"inputs": []any{map[string]any{"name": c.input, "shape": c.shape, "datatype": c.datatype, "data": c.data}}})
		if code != 200 {
			t.Fatalf("%s: %d %v", c.datatype, code, out)
		}
		o := out["outputs"].([]any)[0].(map[string]any)
		if o["datatype"] != c.datatype || fmt.Sprint(o["data"]) != fmt.Sprint(c.want) {
			t.Fatalf("%s output %v, want %v", c.datatype, o, c.want)
		}
	}
}

// binaryCall sends a request with the binary tensor data extension.
func binaryCall(t *testing.T, e *env, model string, head map[string]any, blobs ...[]byte) (map[string]any, []byte) {
	t.Helper()
	h, _ := json.Marshal(head)
	body := append([]byte(nil), h...)
	for _, b := range blobs {
		body = append(body, b...)
	}
	code, hdr, b := call(t, "POST", e.url+"/v2/models/"+model+"/infer", body, map[string]string{server.HeaderInferenceLength: strconv.Itoa(len(h)), "Content-Type": "application/octet-stream"})
	if code != 200 {
		t.Fatalf("binary infer %s: %d %s", model, code, b)
	}
	n, err := strconv.Atoi(hdr.Get(server.HeaderInferenceLength))
	if err != nil || n > len(b) {
		t.Fatalf("answer header %q for %d bytes", hdr.Get(server.HeaderInferenceLength), len(b))
	}
	var out map[string]any
	if err := json.Unmarshal(b[:n], &out); err != nil {
		t.Fatal(err)
	}
	return out, b[n:]
}

func TestV2Binary(t *testing.T) {
	e := start(t, 0)
	e.register(t, "affine")
	e.register(t, "half")
	e.register(t, "strings")

	x := []float32{1, 2, 3, 0.5, -1, 2}
	raw := make([]byte, 0, 24)
	for _, v := range x {
		raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v))
	}
	out, rest := binaryCall(t, e, "test/affine", map[string]any{
		"inputs":     []any{map[string]any{"name": "x", "shape": []int{2, 3}, "datatype": "FP32", "parameters": map[string]any{"binary_data_size": len(raw)}}},
		"parameters": map[string]any{"binary_data_output": true},
	}, raw)
	o := out["outputs"].([]any)[0].(map[string]any)
	if int(o["parameters"].(map[string]any)["binary_data_size"].(float64)) != 16 || len(rest) != 16 {
		t.Fatalf("binary output %v with %d bytes", o, len(rest))
	}
	for i := 0; i < 2; i++ {
		want := mlostest.AffineRef([3]float32(x[i*3 : i*3+3]))
		for j := 0; j < 2; j++ {
			got := math.Float32frombits(binary.LittleEndian.Uint32(rest[(i*2+j)*4:]))
			if math.Abs(float64(got-want[j])) > 1e-5 {
				t.Fatalf("row %d: %v, want %v", i, got, want)
			}
		}
	}

	// FP16 both ways in binary.
	hraw := binary.LittleEndian.AppendUint16(binary.LittleEndian.AppendUint16(nil, 0x3c00), 0xb800) // 1, -0.5
	out, rest = binaryCall(t, e, "test/half", map[string]any{
		"inputs":  []any{map[string]any{"name": "h", "shape": []int{1, 2}, "datatype": "FP16", "parameters": map[string]any{"binary_data_size": 4}}},
		"outputs": []any{map[string]any{"name": "out", "parameters": map[string]any{"binary_data": true}}},
	}, hraw)
	if len(rest) != 4 || binary.LittleEndian.Uint16(rest) != 0x4000 || binary.LittleEndian.Uint16(rest[2:]) != 0xbc00 {
		t.Fatalf("fp16 binary output % x (%v)", rest, out)
	}

	// BYTES: 4-byte little-endian length before each element.
	var sraw []byte
	for _, s := range []string{"x", "", "zeta"} {
		sraw = binary.LittleEndian.AppendUint32(sraw, uint32(len(s)))
		sraw = append(sraw, s...)
	}
	out, rest = binaryCall(t, e, "test/strings", map[string]any{
		"inputs":     []any{map[string]any{"name": "s", "shape": []int{3}, "datatype": "BYTES", "parameters": map[string]any{"binary_data_size": len(sraw)}}},
		"parameters": map[string]any{"binary_data_output": true},
	}, sraw)
	if !bytes.Equal(rest, sraw) {
		t.Fatalf("bytes binary output % x, want % x (%v)", rest, sraw, out)
	}

	// Claimed sizes must add up.
	h, _ := json.Marshal(map[string]any{"inputs": []any{map[string]any{"name": "x", "shape": []int{2, 3}, "datatype": "FP32", "parameters": map[string]any{"binary_data_size": 100}}}})
	code, _, b := call(t, "POST", e.url+"/v2/models/test/affine/infer", append(h, raw...), map[string]string{server.HeaderInferenceLength: strconv.Itoa(len(h))})
	wantStatus(t, "short binary", code, 400, b, `"x"`)
	code, _, b = call(t, "POST", e.url+"/v2/models/test/affine/infer", h, map[string]string{server.HeaderInferenceLength: "99999"})
	wantStatus(t, "long header", code, 400, b, server.HeaderInferenceLength)
}

func TestRepositoryAndMetrics(t *testing.T) {
	e := start(t, 0)
	e.register(t, "affine")
	if _, err := e.cl.Infer(context.Background(), "test/affine", []float32{1, 2, 3}, nil); err != nil {
		t.Fatal(err)
	}
	call(t, "POST", e.url+"/models/test/affine/inference", []byte(`{"input": [1]}`), nil)

	code, _, b := call(t, "POST", e.url+"/v2/repository/index", nil, nil)
	if code != 200 || !strings.Contains(string(b), `"state":"READY"`) {
		t.Fatalf("index %d %s", code, b)
	}
	infer := `{"inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP32", "data": [1, 2, 3]}]}`
	for _, step := range []struct {
		method, path, body string
		want               int
	}{
		{"POST", "/v2/repository/models/test/affine/unload", "", 200},
		{"GET", "/v2/models/test/affine/ready", "", 503},
		{"POST", "/v2/models/test/affine/infer", infer, 503},
		{"POST", "/v2/repository/models/test/affine/load", "", 200},
		{"GET", "/v2/models/test/affine/ready", "", 200},
		{"POST", "/v2/repository/models/test/nope/load", "", 404},
	} {
		if code, _, b := call(t, step.method, e.url+step.path, []byte(step.body), nil); code != step.want {
			t.Fatalf("%s %s: %d %s, want %d", step.method, step.path, code, b, step.want)
		}
	}

	_, _, b = call(t, "GET", e.url+"/metrics", nil, nil)
	for _, want := range []string{
		`nv_inference_request_success{model="test/affine",version="1.0.0"} 1`,
		`nv_inference_request_failure{model="test/affine",version="1.0.0"} 2`,
		`nv_inference_count{model="test/affine",version="1.0.0"} 1`,
		`nv_inference_exec_count{model="test/affine",version="1.0.0"} 1`,
		`nv_inference_compute_input_duration_us{model="test/affine"`,
		`nv_inference_compute_infer_duration_us{model="test/affine"`,
		`nv_inference_compute_output_duration_us{model="test/affine"`,
		`nv_inference_queue_duration_us{model="test/affine"`,
		`nv_inference_request_duration_us{model="test/affine"`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("metrics lack %s in\n%s", want, b)
		}
	}
	_, _, b = call(t, "GET", e.url+"/openapi.json", nil, nil)
	var doc struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(b, &doc); err != nil || !strings.HasPrefix(doc.OpenAPI, "3.") || doc.Paths["/models/{name}/inference"] == nil || doc.Paths["/v2/models/{name}/infer"] == nil {
		t.Fatalf("openapi.json: %v %s", err, b[:min(len(b), 200)])
	}
}

// TestV2EveryDatatype echoes every v2 datatype through one identity model,
// in JSON (extreme values included: 64-bit integers must not go through
// float64) and with the binary extension both ways.
func TestV2EveryDatatype(t *testing.T) {
	e := start(t, 0)
	mlostest.Package{Namespace: "test", Name: "identity", Version: "1", Model: mlostest.IdentityModel(t)}.Layout(t, e.layout, "identity")
	e.register(t, "identity")
	data := map[string]string{
		"BOOL":   `[true,false,false,true]`,
		"UINT8":  `[0,255,1,2]`,
		"UINT16": `[0,65535,1,2]`,
		"UINT32": `[0,4294967295,1,2]`,
		"UINT64": `[0,18446744073709551615,9007199254740993,2]`,
		"INT8":   `[-128,127,0,-1]`,
		"INT16":  `[-32768,32767,0,-1]`,
		"INT32":  `[-2147483648,2147483647,0,-1]`,
		"INT64":  `[-9223372036854775808,9223372036854775807,9007199254740993,-1]`,
		"FP16":   `[1.5,-2,0.25,65504]`,
		"BF16":   `[1,-2,0.5,3]`,
		"FP32":   `[1.5,-2.25,0.125,1e+30]`,
		"FP64":   `[0.1,-1e+300,3.141592653589793,0]`,
		"BYTES":  `["a","","βγ","\"z\\"]`,
	}
	var inputs []string
	for _, d := range mlostest.EveryDType {
		inputs = append(inputs, fmt.Sprintf(`{"name":"in_%s","shape":[2,2],"datatype":"%s","data":%s}`, d[1], d[1], data[d[1]]))
	}
	body := `{"inputs":[` + strings.Join(inputs, ",") + `]}`
	code, _, b := call(t, "POST", e.url+"/v2/models/test/identity/infer", []byte(body), nil)
	if code != 200 {
		t.Fatalf("every datatype: %d %s", code, b)
	}
	var resp struct {
		Outputs []struct {
			Name, Datatype string
			Shape          []int64
			Data           json.RawMessage
		}
	}
	if err := json.Unmarshal(b, &resp); err != nil {
		t.Fatal(err)
	}
	if len(resp.Outputs) != len(mlostest.EveryDType) {
		t.Fatalf("%d outputs: %s", len(resp.Outputs), b)
	}
	for _, o := range resp.Outputs {
		dt := strings.TrimPrefix(o.Name, "out_")
		if o.Datatype != dt || len(o.Shape) != 2 || o.Shape[0] != 2 || o.Shape[1] != 2 {
			t.Errorf("%s: datatype %s shape %v", o.Name, o.Datatype, o.Shape)
		}
		if string(o.Data) != data[dt] {
			t.Errorf("%s: data %s, sent %s", o.Name, o.Data, data[dt])
		}
	}

	// ONNX Runtime strings end at NUL: refused rather than cut short.
	nul := strings.Replace(body, `"βγ"`, `"\u0000z"`, 1)
	code, _, b = call(t, "POST", e.url+"/v2/models/test/identity/infer", []byte(nul), nil)
	wantStatus(t, "NUL in BYTES", code, 400, b, `"in_BYTES": element 2 holds a NUL`)

	// The same through the binary extension: each input's raw bytes come back unchanged.
	var head []string
	var blobs [][]byte
	for _, d := range mlostest.EveryDType {
		raw := rawOf(t, d[1], data[d[1]])
		blobs = append(blobs, raw)
		head = append(head, fmt.Sprintf(`{"name":"in_%s","shape":[2,2],"datatype":"%s","parameters":{"binary_data_size":%d}}`, d[1], d[1], len(raw)))
	}
	var req map[string]any
	if err := json.Unmarshal([]byte(`{"inputs":[`+strings.Join(head, ",")+`],"parameters":{"binary_data_output":true}}`), &req); err != nil {
		t.Fatal(err)
	}
	out, rest := binaryCall(t, e, "test/identity", req, blobs...)
	for i, o := range out["outputs"].([]any) {
		size := int(o.(map[string]any)["parameters"].(map[string]any)["binary_data_size"].(float64))
		if size > len(rest) || !bytes.Equal(rest[:size], blobs[i]) {
			t.Fatalf("%v: binary output differs from the input % x", o, blobs[i])
		}
		rest = rest[size:]
	}
}

// rawOf encodes JSON test values as the binary extension lays them out.
func rawOf(t *testing.T, dt, js string) []byte {
	t.Helper()
	var vals []json.Number
	if dt == "BYTES" || dt == "BOOL" {
		var any []any
		json.Unmarshal([]byte(js), &any)
		var out []byte
		for _, v := range any {
			switch v := v.(type) {
			case string:
				out = binary.LittleEndian.AppendUint32(out, uint32(len(v)))
				out = append(out, v...)
			case bool:
				if v {
					out = append(out, 1)
				} else {
					out = append(out, 0)
				}
			}
		}
		return out
	}
	dec := json.NewDecoder(strings.NewReader(js))
	dec.UseNumber()
	if err := dec.Decode(&vals); err != nil {
		t.Fatal(err)
	}
	var out []byte
	for _, n := range vals {
		s := n.String()
		switch dt {
		case "UINT8", "UINT16", "UINT32", "UINT64":
			u, _ := strconv.ParseUint(s, 10, 64)
			out = binary.LittleEndian.AppendUint64(out, u)[:len(out)+sizeOf(dt)]
		case "INT8", "INT16", "INT32", "INT64":
			i, _ := strconv.ParseInt(s, 10, 64)
			out = binary.LittleEndian.AppendUint64(out, uint64(i))[:len(out)+sizeOf(dt)]
		case "FP16":
			f, _ := strconv.ParseFloat(s, 64)
			out = binary.LittleEndian.AppendUint16(out, mlos.Float32ToFloat16(float32(f)))
		case "BF16":
			f, _ := strconv.ParseFloat(s, 32)
			out = binary.LittleEndian.AppendUint16(out, uint16(math.Float32bits(float32(f))>>16))
		case "FP32":
			f, _ := strconv.ParseFloat(s, 32)
			out = binary.LittleEndian.AppendUint32(out, math.Float32bits(float32(f)))
		case "FP64":
			f, _ := strconv.ParseFloat(s, 64)
			out = binary.LittleEndian.AppendUint64(out, math.Float64bits(f))
		}
	}
	return out
}

func sizeOf(dt string) int {
	switch dt {
	case "UINT8", "INT8":
		return 1
	case "UINT16", "INT16":
		return 2
	case "UINT32", "INT32":
		return 4
	}
	return 8
}

package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/mlos-foundation/axon/internal/version"
	"github.com/mlos-foundation/axon/mlos"
)

// HeaderInferenceLength is the binary tensor data extension's header: the
// length of the JSON part that precedes the raw tensor bytes.
const HeaderInferenceLength = "Inference-Header-Content-Length"

// V2Tensor is an input or output tensor of the v2 protocol.
type V2Tensor struct {
	Name       string         `json:"name"`
	Shape      []int64        `json:"shape"`
	Datatype   string         `json:"datatype"`
	Parameters map[string]any `json:"parameters,omitempty"`
	Data       any            `json:"data,omitempty"`
}

// v2InTensor is a request tensor; its data is parsed per datatype.
type v2InTensor struct {
	Name       string          `json:"name"`
	Shape      []int64         `json:"shape"`
	Datatype   string          `json:"datatype"`
	Parameters map[string]any  `json:"parameters,omitempty"`
	Data       json.RawMessage `json:"data,omitempty"`
}

// V2Output asks for one output.
type V2Output struct {
	Name       string         `json:"name"`
	Parameters map[string]any `json:"parameters,omitempty"`
}

// V2Request is an inference request.
type V2Request struct {
	ID         string         `json:"id,omitempty"`
	Parameters map[string]any `json:"parameters,omitempty"`
	Inputs     []v2InTensor   `json:"inputs"`
	Outputs    []V2Output     `json:"outputs,omitempty"`
}

// V2Response is an inference response.
type V2Response struct {
	ModelName    string         `json:"model_name"`
	ModelVersion string         `json:"model_version,omitempty"`
	ID           string         `json:"id,omitempty"`
	Parameters   map[string]any `json:"parameters,omitempty"`
	Outputs      []V2Tensor     `json:"outputs"`
}

type v2Meta struct {
	Name     string  `json:"name"`
	Datatype string  `json:"datatype"`
	Shape    []int64 `json:"shape"`
}

type v2ModelMetadata struct {
	Name     string   `json:"name"`
	Versions []string `json:"versions,omitempty"`
	Platform string   `json:"platform"`
	Inputs   []v2Meta `json:"inputs"`
	Outputs  []v2Meta `json:"outputs"`
}

func (s *Server) v2Server(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]any{
		"name":       "mlosd",
		"version":    version.String(),
		"extensions": []string{"binary_tensor_data", "model_repository"},
	})
}

func (s *Server) v2Ready(c echo.Context) error {
	if !s.ready.Load() {
		return c.JSON(http.StatusServiceUnavailable, map[string]bool{"ready": false})
	}
	return c.JSON(http.StatusOK, map[string]bool{"ready": true})
}

// splitV2 parses NAME[/versions/V][/verb].
func splitV2(path string, verbs ...string) (name, ver, verb string) {
	for _, v := range verbs {
		if p, ok := strings.CutSuffix(path, "/"+v); ok {
			path, verb = p, v
			break
		}
	}
	if i := strings.LastIndex(path, "/versions/"); i >= 0 {
		path, ver = path[:i], path[i+len("/versions/"):]
	}
	return path, ver, verb
}

func (s *Server) v2Model(name, ver string) (*mlos.Model, error) {
	m, err := s.model(name)
	if err != nil {
		return nil, err
	}
	if ver != "" && ver != m.Version && ver != "1" {
		return nil, mlos.NotFound("model %q has no version %q (it has %q)", name, ver, m.Version)
	}
	return m, nil
}

func (s *Server) v2ModelGet(c echo.Context) error {
	if _, _, verb := splitV2(c.Param("*"), "infer"); verb == "infer" {
		return wrongMethod(c)
	}
	name, ver, verb := splitV2(c.Param("*"), "ready")
	m, err := s.v2Model(name, ver)
	if err != nil {
		return err
	}
	if verb == "ready" {
		if !m.Ready() {
			return c.JSON(http.StatusServiceUnavailable, map[string]any{"name": m.Name, "ready": false})
		}
		return c.JSON(http.StatusOK, map[string]any{"name": m.Name, "ready": true})
	}
	md := v2ModelMetadata{Name: m.Name, Platform: "onnxruntime_onnx", Inputs: []v2Meta{}, Outputs: []v2Meta{}}
	if m.Version != "" {
		md.Versions = []string{m.Version}
	}
	for _, t := range m.Inputs() {
		md.Inputs = append(md.Inputs, v2Meta{t.Name, t.DType.V2(), t.Shape})
	}
	for _, t := range m.Outputs() {
		md.Outputs = append(md.Outputs, v2Meta{t.Name, t.DType.V2(), t.Shape})
	}
	return c.JSON(http.StatusOK, md)
}

func (s *Server) v2ModelPost(c echo.Context) error {
	start := time.Now()
	name, ver, verb := splitV2(c.Param("*"), "infer")
	if verb != "infer" {
		// An existing model's other routes are GET only; anything else is unknown.
		name, ver, _ := splitV2(c.Param("*"), "ready")
		if _, err := s.v2Model(name, ver); err != nil {
			return err
		}
		return wrongMethod(c)
	}
	m, err := s.v2Model(name, ver)
	if err != nil {
		return err
	}
	err = s.v2Infer(c, m, start)
	s.m.Metrics.Request(m.Name, m.Version, err == nil, time.Since(start))
	return err
}

func (s *Server) v2Infer(c echo.Context, m *mlos.Model, start time.Time) error {
	buf := getBuf()
	defer putBuf(buf)
	body, err := readBodyInto(c, *buf)
	*buf = body
	if err != nil {
		return err
	}
	jsonPart, binary := body, []byte(nil)
	if h := c.Request().Header.Get(HeaderInferenceLength); h != "" {
		n, err := strconv.Atoi(h)
		if err != nil || n < 0 || n > len(body) {
			return mlos.BadRequest("%s %q does not fit a body of %d bytes", HeaderInferenceLength, h, len(body))
		}
		jsonPart, binary = body[:n], body[n:]
	}
	var req V2Request
	if !fastV2Request(jsonPart, &req) {
		req = V2Request{}
		if err := decodeJSON(jsonPart, &req); err != nil {
			return err
		}
	}
	if len(req.Inputs) == 0 {
		return mlos.BadRequest(`no "inputs"`)
	}
	specs := m.Inputs()
	named := make(map[string]*mlos.Tensor, len(req.Inputs))
	for _, in := range req.Inputs {
		if _, dup := named[in.Name]; dup {
			return mlos.BadRequest("input %q given twice", in.Name)
		}
		t, rest, err := v2Input(in, binary, specs)
		if err != nil {
			return err
		}
		binary = rest
		named[in.Name] = t
	}
	if len(binary) != 0 {
		return mlos.BadRequest("%d bytes of binary data are not claimed by any input's binary_data_size", len(binary))
	}
	outs, _, err := m.Infer(c.Request().Context(), named)
	if err != nil {
		return err
	}
	allBinary := boolParam(req.Parameters, "binary_data_output")
	selected := outs
	// wantBinary[i] says whether selected[i] is answered in the binary section.
	var wantBinary []bool
	if len(req.Outputs) > 0 {
		selected = make([]*mlos.Tensor, 0, len(req.Outputs))
		wantBinary = make([]bool, 0, len(req.Outputs))
		for _, o := range req.Outputs {
			var found *mlos.Tensor
			for _, t := range outs {
				if t.Name == o.Name {
					found = t
				}
			}
			if found == nil {
				return mlos.BadRequest("unknown output %q; the model gives %s", o.Name, outputNames(outs))
			}
			selected = append(selected, found)
			want := allBinary
			if b, ok := o.Parameters["binary_data"].(bool); ok {
				want = b
			}
			wantBinary = append(wantBinary, want)
		}
		// An output asked for twice takes the last request's choice for both.
		for i, o := range req.Outputs {
			for j := i + 1; j < len(req.Outputs); j++ {
				if req.Outputs[j].Name == o.Name {
					wantBinary[i] = wantBinary[j]
				}
			}
		}
	} else {
		wantBinary = make([]bool, len(outs))
		for i := range wantBinary {
			wantBinary[i] = allBinary
		}
	}
	if !slices.Contains(wantBinary, true) && plainJSON(c) {
		// The request's bytes are decoded into tensors by now: the buffer is free.
		if b, ok := appendV2Response((*buf)[:0], m.Name, m.Version, req.ID, selected); ok {
			*buf = b
			return writeJSON(c, b)
		}
	}
	resp := V2Response{ModelName: m.Name, ModelVersion: m.Version, ID: req.ID}
	var blobs [][]byte
	for i, t := range selected {
		vt := V2Tensor{Name: t.Name, Shape: t.Shape, Datatype: t.DType.V2()}
		if wantBinary[i] {
			raw := t.Bytes()
			vt.Parameters = map[string]any{"binary_data_size": len(raw)}
			blobs = append(blobs, raw)
		} else {
			vt.Data = t.JSONData()
		}
		resp.Outputs = append(resp.Outputs, vt)
	}
	if len(blobs) == 0 {
		return c.JSON(http.StatusOK, resp)
	}
	head, err := json.Marshal(resp)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	out.Write(head)
	for _, b := range blobs {
		out.Write(b)
	}
	c.Response().Header().Set(HeaderInferenceLength, strconv.Itoa(len(head)))
	return c.Blob(http.StatusOK, "application/octet-stream", out.Bytes())
}

func outputNames(outs []*mlos.Tensor) string {
	names := make([]string, len(outs))
	for i, t := range outs {
		names[i] = t.Name
	}
	return strings.Join(names, ", ")
}

func boolParam(p map[string]any, name string) bool {
	b, _ := p[name].(bool)
	return b
}

// v2Input decodes one input from JSON data or from the binary section.
func v2Input(in v2InTensor, binary []byte, specs []mlos.TensorSpec) (*mlos.Tensor, []byte, error) {
	// The protocol requires both; without a shape the data would be read as a scalar.
	if in.Name == "" {
		return nil, nil, mlos.BadRequest(`an input has no "name"`)
	}
	if in.Shape == nil {
		return nil, nil, mlos.BadRequest(`input %q has no "shape" (use [] for a scalar)`, in.Name)
	}
	dt, ok := mlos.ParseDType(in.Datatype)
	if !ok || strings.ToLower(in.Datatype) != strings.ToLower(v2Name(dt)) {
		return nil, nil, mlos.BadRequest("input %q: unknown datatype %q (BOOL, UINT8..UINT64, INT8..INT64, FP16, BF16, FP32, FP64, BYTES)", in.Name, in.Datatype)
	}
	var spec *mlos.TensorSpec
	for i := range specs {
		if specs[i].Name == in.Name {
			spec = &specs[i]
		}
	}
	if spec == nil {
		names := make([]string, len(specs))
		for i, s := range specs {
			names[i] = s.Name + " (" + s.DType.V2() + " " + s.ShapeString() + ")"
		}
		return nil, nil, mlos.BadRequest("unknown input %q; the model takes %s", in.Name, strings.Join(names, ", "))
	}
	if dt != spec.DType {
		return nil, nil, mlos.BadRequest("input %q: datatype %s, expected %s", in.Name, dt.V2(), spec.DType.V2())
	}
	n := int64(1)
	for _, d := range in.Shape {
		if d < 0 {
			return nil, nil, mlos.BadRequest("input %q: shape %v has a negative dimension", in.Name, in.Shape)
		}
		if d > 0 && n > (1<<31)/d {
			return nil, nil, mlos.BadRequest("input %q: shape %v is too large", in.Name, in.Shape)
		}
		n *= d
	}
	// A shape the model cannot take is refused before its data is decoded.
	if err := fitsSpec(in.Shape, spec); err != nil {
		return nil, nil, mlos.BadRequest("input %q: %w", in.Name, err)
	}
	t := &mlos.Tensor{Name: in.Name, DType: dt, Shape: in.Shape}
	if size, ok := in.Parameters["binary_data_size"]; ok {
		sz, ok := size.(float64)
		if !ok || sz < 0 || sz > float64(len(binary)) || sz != float64(int(sz)) {
			return nil, nil, mlos.BadRequest("input %q: binary_data_size %v, but %d bytes of binary data remain", in.Name, size, len(binary))
		}
		data, err := mlos.FromBytes(dt, int(n), binary[:int(sz)])
		if err != nil {
			return nil, nil, mlos.BadRequest("input %q: %w", in.Name, err)
		}
		t.Data = data
		return t, binary[int(sz):], nil
	}
	if len(in.Data) == 0 || string(in.Data) == "null" {
		return nil, nil, mlos.BadRequest("input %q has no data (send \"data\" or parameters.binary_data_size)", in.Name)
	}
	// Straight into a tensor of the declared size: no intermediate values.
	data, err := mlos.DecodeJSONCount(in.Data, dt, n)
	if err != nil {
		return nil, nil, mlos.BadRequest("input %q: %w (shape %v, %s)", in.Name, err, in.Shape, dt.V2())
	}
	t.Data = data
	return t, binary, nil
}

// v2Name is the protocol's canonical datatype name.
func v2Name(d mlos.DType) string { return d.V2() }

type v2IndexEntry struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	State   string `json:"state"`
	Reason  string `json:"reason,omitempty"`
}

func (s *Server) v2Index(c echo.Context) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var req struct {
		Ready bool `json:"ready"`
	}
	if len(bytes.TrimSpace(body)) > 0 {
		if err := decodeJSON(body, &req); err != nil {
			return err
		}
	}
	out := []v2IndexEntry{}
	for _, m := range s.m.List() {
		st, reason := m.Status()
		if req.Ready && st != mlos.StateReady {
			continue
		}
		out = append(out, v2IndexEntry{Name: m.Name, Version: m.Version, State: strings.ToUpper(st), Reason: reason})
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) v2Repository(c echo.Context) error {
	name, _, verb := splitV2(c.Param("*"), "load", "unload")
	switch verb {
	case "load":
		if err := s.m.Load(c.Request().Context(), name); err != nil {
			return err
		}
	case "unload":
		if err := s.m.Unload(name); err != nil {
			return err
		}
	default:
		return mlos.NotFound("no such route; POST /v2/repository/models/{name}/load or /unload")
	}
	return c.NoContent(http.StatusOK)
}

// fitsSpec checks a request shape against the model's: same rank and every
// fixed dimension equal (symbolic and -1 dimensions take any size).
func fitsSpec(shape []int64, spec *mlos.TensorSpec) error {
	if len(spec.Shape) == 0 {
		return nil
	}
	if len(shape) != len(spec.Shape) {
		return fmt.Errorf("shape %v has rank %d, the model takes %s", shape, len(shape), spec.ShapeString())
	}
	for i, d := range spec.Shape {
		if d > 0 && shape[i] != d {
			return fmt.Errorf("shape %v, the model takes %s", shape, spec.ShapeString())
		}
	}
	return nil
}

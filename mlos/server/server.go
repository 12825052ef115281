// Package server is mlosd's HTTP face: the seed API (/models), the KServe Open
// Inference Protocol v2 REST API (/v2), /metrics, /healthz and /openapi.json,
// over a runtime.Manager.
package server

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/mlos-foundation/axon/mlos"
	"github.com/mlos-foundation/axon/mlos/api"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

//go:embed openapi.json
var openAPI []byte

// Options configure the server.
type Options struct {
	// MaxBody is the largest request body accepted (default 64 MiB); larger gets 413.
	MaxBody int64
	Logger  *slog.Logger
	// Limits on requests in flight (limit.go); beyond them, 429.
	Limits Limits
	// Admin guards the imperative API (register, delete, load, unload); see admin.go.
	Admin AdminOptions
}

// Server routes HTTP requests to the manager.
type Server struct {
	m     *mlos.Manager
	e     *echo.Echo
	log   *slog.Logger
	max   int64
	ready atomic.Bool
	gate  *gate
}

// New builds the routes. The server reports ready once SetReady(true) is called
// (after registrations are restored).
func New(m *mlos.Manager, opts Options) *Server {
	if opts.MaxBody <= 0 {
		opts.MaxBody = 64 << 20
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Server{m: m, e: echo.New(), log: opts.Logger, max: opts.MaxBody}
	e := s.e
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.errorHandler
	e.Use(middleware.BodyLimit(fmt.Sprintf("%dB", opts.MaxBody)))
	e.Use(s.admit(opts.Limits))
	e.Use(middleware.Recover())
	e.Use(adminGuard(opts.Admin))

	e.GET("/healthz", func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]string{"status": "ok"}) })
	e.GET("/readyz", s.v2Ready) // readiness beside the seed API's liveness: declared models loaded
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(m.Metrics.Registry, promhttp.HandlerOpts{})))
	e.GET("/openapi.json", func(c echo.Context) error { return c.Blob(http.StatusOK, "application/json", openAPI) })

	// Seed API. Names keep their namespace ("hf/bert-base-uncased"), so the
	// model routes are wildcards and the verb suffix is split off by hand.
	e.POST("/models", s.register)
	e.GET("/models", s.list)
	e.GET("/models/*", s.getModel)
	e.DELETE("/models/*", s.deleteModel)
	e.POST("/models/*", s.seedInfer)
	e.PUT("/models/*", wrongMethod)

	// KServe Open Inference Protocol v2.
	e.GET("/v2", s.v2Server)
	e.GET("/v2/health/live", func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]bool{"live": true}) })
	e.GET("/v2/health/ready", s.v2Ready)
	e.GET("/v2/models/*", s.v2ModelGet)
	e.PUT("/v2/models/*", wrongMethod)
	e.DELETE("/v2/models/*", wrongMethod)
	e.POST("/v2/models/*", s.v2ModelPost)
	e.POST("/v2/repository/index", s.v2Index)
	e.POST("/v2/repository/models/*", s.v2Repository)
	s.openAIRoutes(e) // OpenAI-compatible API under /v1
	return s
}

// Handler is the HTTP handler.
func (s *Server) Handler() http.Handler { return s.e }

// SetReady flips /v2/health/ready.
func (s *Server) SetReady(ok bool) { s.ready.Store(ok) }

// errorHandler answers every failure as {"error": "..."} with the status the
// runtime assigned; only the unexpected is a 500.
func (s *Server) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status := mlos.StatusOf(err)
	msg := err.Error()
	var he *echo.HTTPError
	if errors.As(err, &he) {
		status = he.Code
		msg = fmt.Sprint(he.Message)
		if status == http.StatusRequestEntityTooLarge {
			msg = fmt.Sprintf("request body larger than %d bytes", s.max)
		}
	}
	if status >= 500 && status != http.StatusServiceUnavailable {
		s.log.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
	}
	c.JSON(status, api.ErrorResponse{Error: msg})
}

// wrongMethod is a 405 that says which methods the route takes.
func wrongMethod(c echo.Context) error {
	path := c.Request().URL.Path
	allow := http.MethodGet
	switch {
	case strings.HasSuffix(path, "/infer") || strings.HasSuffix(path, "/inference"):
		allow = http.MethodPost
	case strings.HasPrefix(path, "/models/"):
		allow = "GET, DELETE"
	}
	c.Response().Header().Set("Allow", allow)
	return echo.NewHTTPError(http.StatusMethodNotAllowed, fmt.Sprintf("%s %s is not allowed; use %s", c.Request().Method, path, allow))
}

func (s *Server) model(name string) (*mlos.Model, error) {
	if name == "" {
		return nil, mlos.BadRequest("no model name")
	}
	m, ok := s.m.Get(name)
	if !ok {
		return nil, mlos.NotFound("model %q is %w", name, mlos.ErrNotRegistered)
	}
	return m, nil
}

// readBody reads the whole body, mapping the body limit to 413.
func readBody(c echo.Context) ([]byte, error) { return readBodyInto(c, nil) }

// readBodyInto reads the whole body into buf (a pooled buffer, grown as
// needed and returned, also with an error, for the pool). A declared length
// (already checked against the limit) sizes the buffer once, so a large body
// costs its size, not a series of doublings.
func readBodyInto(c echo.Context, buf []byte) ([]byte, error) {
	buf = buf[:0]
	r := c.Request()
	if n := r.ContentLength; n > 0 && n < 1<<31 {
		buf = slices.Grow(buf, int(n)+bytes.MinRead)
	}
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, max(bytes.MinRead, cap(buf)))
		}
		n, err := r.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			var he *echo.HTTPError
			if errors.As(err, &he) {
				return buf, he
			}
			var mb *http.MaxBytesError
			if errors.As(err, &mb) {
				return buf, echo.NewHTTPError(http.StatusRequestEntityTooLarge)
			}
			return buf, mlos.BadRequest("read body: %w", err)
		}
	}
}

func decodeJSON(b []byte, v any) error {
	if len(b) == 0 {
		return mlos.BadRequest("empty body; send JSON")
	}
	if err := json.Unmarshal(b, v); err != nil {
		// Type errors name JSON's kinds and the field, not Go's types.
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			if te.Field == "" {
				return mlos.BadRequest("body must be a JSON object, not %s", article(te.Value))
			}
			return mlos.BadRequest("field %q must be %s, not %s", te.Field, jsonKind(te.Type), article(te.Value))
		}
		return mlos.BadRequest("body is not valid JSON: %w", err)
	}
	return nil
}

func article(kind string) string {
	switch kind {
	case "array", "object":
		return "an " + kind
	case "":
		return "this value"
	}
	return "a " + kind
}

// jsonKind names what a Go type expects in JSON terms.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "another kind of value"
}

// --- seed API ---

func (s *Server) register(c echo.Context) error {
	b, err := readBody(c)
	if err != nil {
		return err
	}
	var req api.RegisterRequest
	if err := decodeJSON(b, &req); err != nil {
		return err
	}
	if req.Ref == "" {
		return mlos.BadRequest(`missing "ref": HOST/REPO:TAG, HOST/REPO@sha256:..., or oci-layout://PATH@sha256:...`)
	}
	m, err := s.m.Register(c.Request().Context(), req.Ref, req.Name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, m.Info())
}

func (s *Server) list(c echo.Context) error {
	list := api.ModelList{Models: []api.Info{}}
	for _, m := range s.m.List() {
		list.Models = append(list.Models, m.Info())
	}
	return c.JSON(http.StatusOK, list)
}

func (s *Server) getModel(c echo.Context) error {
	if strings.HasSuffix(c.Param("*"), "/inference") {
		return wrongMethod(c)
	}
	m, err := s.model(c.Param("*"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, m.Info())
}

func (s *Server) deleteModel(c echo.Context) error {
	name := c.Param("*")
	if strings.HasSuffix(name, "/inference") {
		return wrongMethod(c)
	}
	if err := s.m.Unregister(name); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, api.Deleted{Deleted: name})
}

func (s *Server) seedInfer(c echo.Context) error {
	start := time.Now()
	name, ok := strings.CutSuffix(c.Param("*"), "/inference")
	if !ok {
		if _, known := s.m.Get(c.Param("*")); known {
			return wrongMethod(c)
		}
		return mlos.NotFound("no such route; POST /models/{name}/inference")
	}
	m, err := s.model(name)
	if err != nil {
		return err
	}
	buf := getBuf()
	defer putBuf(buf)
	out, err := s.seedRun(c, m, buf)
	d := time.Since(start)
	s.m.Metrics.Request(m.Name, m.Version, err == nil, d)
	if err != nil {
		return err
	}
	if c.Response().Committed { // streamed
		return nil
	}
	latency := d.Round(time.Microsecond).String()
	if out.Tensors && plainJSON(c) {
		if b, ok := appendSeedResponse((*buf)[:0], out.Outputs, latency); ok {
			*buf = b
			return writeJSON(c, b)
		}
	}
	value := out.Value
	if out.Tensors {
		value = mlos.RawOutputs(out.Outputs)
	}
	return c.JSON(http.StatusOK, api.InferenceResponse{Output: value, Latency: latency})
}

// seedRun reads the body into buf, which the response may reuse after.
func (s *Server) seedRun(c echo.Context, m *mlos.Model, buf *[]byte) (mlos.SeedOutput, error) {
	b, err := readBodyInto(c, *buf)
	*buf = b
	if err != nil {
		return mlos.SeedOutput{}, err
	}
	var req api.InferenceRequest
	if !fastSeedRequest(b, &req) {
		req = api.InferenceRequest{}
		if err := decodeJSON(b, &req); err != nil {
			return mlos.SeedOutput{}, err
		}
	}
	if req.Stream {
		return mlos.SeedOutput{}, s.seedStream(c, m, req)
	}
	out, _, err := m.InferSeed(c.Request().Context(), req.Input, req.Parameters)
	return out, err
}

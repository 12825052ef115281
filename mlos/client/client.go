// Package client talks to mlosd's seed API: register, unregister, list and
// infer, callable from Go without the CLI. It speaks the wire types of
// mlos/api and nothing else of the runtime, so it links no ONNX Runtime and
// no cgo (client_test.go holds it to that).
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/mlos-foundation/axon/mlos/api"
)

// EnvURL names the environment variable with mlosd's address.
const EnvURL = "MLOS_URL"

// EnvToken names the environment variable with mlosd's admin token (mlosd
// --admin-token), sent as a Bearer token: the same name mlosd reads it from.
const EnvToken = "MLOSD_ADMIN_TOKEN"

// DefaultURL is where mlosd listens by default.
const DefaultURL = "http://localhost:8080"

// Client is an mlosd client.
type Client struct {
	base  string
	http  *http.Client
	token string
}

// New returns a client for baseURL ("" = $MLOS_URL, then DefaultURL).
func New(baseURL string) *Client {
	if baseURL == "" {
		baseURL = os.Getenv(EnvURL)
	}
	if baseURL == "" {
		baseURL = DefaultURL
	}
	if !strings.Contains(baseURL, "://") {
		baseURL = "http://" + baseURL
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), http: &http.Client{Timeout: 10 * time.Minute}, token: os.Getenv(EnvToken)}
}

// WithHTTPClient replaces the HTTP client.
func (c *Client) WithHTTPClient(h *http.Client) *Client { c.http = h; return c }

// URL is the server's base URL.
func (c *Client) URL() string { return c.base }

// Error is a non-2xx answer.
type Error struct {
	Status  int
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("mlosd: %s (HTTP %d)", e.Message, e.Status)
}

// escapeName keeps the namespace's slashes as path separators.
func escapeName(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("mlosd at %s: %w (is it running? set %s)", c.base, err, EnvURL)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("read answer of %s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		var e api.ErrorResponse
		msg := strings.TrimSpace(string(b))
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			msg = e.Error
		}
		return &Error{Status: resp.StatusCode, Message: msg}
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("decode answer of %s %s: %w", method, path, err)
		}
	}
	return nil
}

// Register asks mlosd to pull ref and serve it (name "" = the package's own).
func (c *Client) Register(ctx context.Context, ref, name string) (*api.Info, error) {
	var info api.Info
	if err := c.do(ctx, http.MethodPost, "/models", api.RegisterRequest{Ref: ref, Name: name}, &info); err != nil {
		return nil, err
	}
	return &info, nil
}

// Unregister stops serving a model.
func (c *Client) Unregister(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, "/models/"+escapeName(name), nil, nil)
}

// List returns the registered models.
func (c *Client) List(ctx context.Context) ([]api.Info, error) {
	var out api.ModelList
	if err := c.do(ctx, http.MethodGet, "/models", nil, &out); err != nil {
		return nil, err
	}
	return out.Models, nil
}

// Get returns one model.
func (c *Client) Get(ctx context.Context, name string) (*api.Info, error) {
	var info api.Info
	if err := c.do(ctx, http.MethodGet, "/models/"+escapeName(name), nil, &info); err != nil {
		return nil, err
	}
	return &info, nil
}

// Result is an inference answer.
type Result struct {
	Output  json.RawMessage `json:"output"`
	Latency string          `json:"latency"`
}

// Infer sends {"input": input, "parameters": params} to the seed API.
func (c *Client) Infer(ctx context.Context, name string, input any, params map[string]any) (*Result, error) {
	in, err := json.Marshal(input)
	if err != nil {
		return nil, fmt.Errorf("infer %s: encode input: %w", name, err)
	}
	var out json.RawMessage
	res := api.InferenceResponse{Output: &out}
	req := api.InferenceRequest{Input: in, Parameters: params}
	if err := c.do(ctx, http.MethodPost, "/models/"+escapeName(name)+"/inference", req, &res); err != nil {
		return nil, err
	}
	return &Result{Output: out, Latency: res.Latency}, nil
}

// Package api holds the wire types of mlosd's seed API (/models), shared by
// the server (mlos/server) and the Go client (mlos/client). It imports
// only the standard library, so a program that talks to mlosd does not link
// ONNX Runtime or cgo: the runtime itself stays on the server's side.
package api

import (
	"encoding/json"
	"time"
)

// LayoutScheme prefixes references that mlosd reads straight from an OCI
// image layout on its own disk (oci-layout://PATH@sha256:...).
const LayoutScheme = "oci-layout://"

// Model states, as Info.State reports them.
const (
	StateLoading  = "loading"
	StateReady    = "ready"
	StateFailed   = "failed"
	StateUnloaded = "unloaded"
)

// Info is the JSON view of a registered model (GET /models, GET /models/{name},
// the answer to POST /models).
type Info struct {
	Name     string       `json:"name"`
	Version  string       `json:"version,omitempty"`
	Ref      string       `json:"ref"`
	Digest   string       `json:"digest"`
	State    string       `json:"state"`
	Error    string       `json:"error,omitempty"`
	Task     string       `json:"task,omitempty"`
	Format   string       `json:"format,omitempty"`
	Batching bool         `json:"batching"`
	Inputs   []TensorInfo `json:"inputs,omitempty"`
	Outputs  []TensorInfo `json:"outputs,omitempty"`
	LoadedAt *time.Time   `json:"loadedAt,omitempty"`
	// Signer is the verified signature (key fingerprint) under --require-signature.
	Signer *Signer `json:"signer,omitempty"`
	// Generation is there for models that generate text.
	Generation *GenerationInfo `json:"generation,omitempty"`
}

// Signer is the signature a model was verified with when it was registered.
type Signer struct {
	// Key is the fingerprint of the public key it verifies with.
	Key string `json:"key"`
	// KeySource is the file the trusted key was read from.
	KeySource string `json:"keySource,omitempty"`
	// DockerReference is the repository the signer named in the payload.
	DockerReference string `json:"dockerReference,omitempty"`
	// Manifest is the signature manifest it came from.
	Manifest string `json:"manifest"`
}

// GenerationInfo says how a text-generation model runs.
type GenerationInfo struct {
	KVCache      bool `json:"kvCache"`
	ChatTemplate bool `json:"chatTemplate"`
	Batched      bool `json:"batchedDecode"`
	MaxPositions int  `json:"maxPositions,omitempty"`
}

// TensorInfo is a tensor spec as JSON: the shape keeps symbolic names.
type TensorInfo struct {
	Name     string `json:"name"`
	Datatype string `json:"datatype"`
	Shape    string `json:"shape"`
}

// RegisterRequest is the body of POST /models: pull Ref by digest and serve it
// under Name ("" = the package's own name).
type RegisterRequest struct {
	Ref  string `json:"ref"`
	Name string `json:"name,omitempty"`
}

// ModelList is the answer to GET /models.
type ModelList struct {
	Models []Info `json:"models"`
}

// Deleted is the answer to DELETE /models/{name}.
type Deleted struct {
	Deleted string `json:"deleted"`
}

// InferenceRequest is the body of POST /models/{name}/inference.
type InferenceRequest struct {
	Input      json.RawMessage `json:"input"`
	Parameters map[string]any  `json:"parameters,omitempty"`
	// Stream answers a generation as Server-Sent Events, one per token.
	Stream bool `json:"stream,omitempty"`
}

// InferenceResponse is the answer to POST /models/{name}/inference. The
// server puts the pipeline's value in Output; a client that wants the raw JSON
// sets Output to a *json.RawMessage before decoding.
type InferenceResponse struct {
	Output  any    `json:"output"`
	Latency string `json:"latency"`
}

// ErrorResponse is the body of every failed request: one line that says what
// failed and what to do.
type ErrorResponse struct {
	Error string `json:"error"`
}

// Generation is the Output of a text-generation model.
type Generation struct {
	GeneratedText string  `json:"generated_text"`
	TokenIDs      []int64 `json:"token_ids"`
	FinishReason  string  `json:"finish_reason,omitempty"`
}

// Token is one generated token as streamed: Text is the text it completes,
// which may be empty while a multi-byte character or a possible stop string
// is held back, and may also hold text held back earlier.
type Token struct {
	ID   int64  `json:"id"`
	Text string `json:"text"`
}

// StreamToken is one Server-Sent Event of a streamed generation
// ({"input": "text", "stream": true}); a failure mid-stream is an event named
// "error" carrying an ErrorResponse.
type StreamToken struct {
	Token Token `json:"token"`
}

// StreamEnd is the last event of a streamed generation: the whole text
// (prompt included) and why it ended.
type StreamEnd struct {
	GeneratedText    string  `json:"generated_text"`
	TokenIDs         []int64 `json:"token_ids"`
	FinishReason     string  `json:"finish_reason"`
	PromptTokens     int     `json:"prompt_tokens"`
	CompletionTokens int     `json:"completion_tokens"`
}

// Package adapters fetches models from public hubs (Hugging Face, PyTorch Hub,
// TensorFlow Hub, ModelScope) or a local directory into a working directory,
// pinned to an immutable revision. Each hub lives in its own sub-package behind
// the Adapter interface; all of them download through adapters/download, which
// verifies and caches every file by digest.
package adapters

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/mlos-foundation/axon/internal/reference"
)

// Hub names as they appear in references and in manifest.yaml source.hub.
const (
	HubHF         = "hf"
	HubPyTorch    = "pytorch"
	HubTFHub      = "tfhub"
	HubModelScope = "modelscope"
	HubLocal      = "local"
)

// Ref is a parsed install reference such as hf/google-bert/bert-base-uncased@main.
type Ref struct {
	Hub     string
	ID      string // hub-specific id: ORG/NAME, OWNER/REPO/MODEL, PUBLISHER/MODEL, or a local path
	Version string // as asked; "" means latest
	Raw     string
}

// Latest reports whether the reference asks for the hub's default revision.
func (r Ref) Latest() bool { return r.Version == "" || r.Version == "latest" }

// VersionOrLatest is the version as the user gave it, "latest" when none.
func (r Ref) VersionOrLatest() string {
	if r.Version == "" {
		return "latest"
	}
	return r.Version
}

func (r Ref) String() string {
	if r.Hub == HubLocal {
		return r.ID
	}
	return r.Hub + "/" + r.ID + "@" + r.VersionOrLatest()
}

// ErrBadRef is returned for references that name no hub or a malformed id.
var ErrBadRef = errors.New("invalid model reference")

// ParseRef parses `hub/id[@version]`, a local directory or a file:// URL.
// TF Hub references may also carry the version as the last path element
// (tfhub/google/mobilenet/5).
func ParseRef(s string) (Ref, error) {
	raw := s
	bad := func(why string) (Ref, error) {
		return Ref{}, fmt.Errorf("%w %q: %s", ErrBadRef, raw, why)
	}
	if s == "" {
		return bad("empty")
	}
	if hub, ok := reference.HubSpelling(s); ok {
		s = hub
	}
	if strings.HasPrefix(s, "file://") {
		u, err := url.Parse(s)
		if err != nil || u.Path == "" || (u.Host != "" && u.Host != "localhost") {
			return bad("a file URL is file:///absolute/path")
		}
		return Ref{Hub: HubLocal, ID: filepath.Clean(u.Path), Raw: raw}, nil
	}
	if strings.HasPrefix(s, "/") || strings.HasPrefix(s, "./") || strings.HasPrefix(s, "../") || s == "." || s == ".." {
		return Ref{Hub: HubLocal, ID: filepath.Clean(s), Raw: raw}, nil
	}
	hub, rest, ok := strings.Cut(s, "/")
	if !ok {
		return bad("expected hub/id[@version] (hubs: hf, pytorch, tfhub, modelscope) or a directory")
	}
	id, version, _ := strings.Cut(rest, "@")
	// HF revisions may contain '/' (refs/pr/1); no other hub's do.
	if strings.ContainsAny(version, "@ \t\n\\?#") || (hub != HubHF && strings.Contains(version, "/")) {
		return bad("malformed version")
	}
	parts := strings.Split(id, "/")
	for _, p := range parts {
		if p == "" || p == "." || p == ".." || strings.ContainsAny(p, " \t\n\\?#%") {
			if form, ok := refForms[hub]; ok {
				return bad("malformed id; expected " + form)
			}
			return bad("malformed id")
		}
	}
	want := map[string][]int{
		HubHF:         {1, 2},
		HubPyTorch:    {3},
		HubTFHub:      nil, // PUBLISHER/MODEL[/MORE...][/VERSION]: checked below
		HubModelScope: {2},
	}
	if _, known := want[hub]; !known {
		return bad("unknown hub " + strconv.Quote(hub) + " (hubs: hf, pytorch, tfhub, modelscope, or a local directory)")
	}
	okLen := hub == HubTFHub && len(parts) >= 2
	for _, n := range want[hub] {
		okLen = okLen || len(parts) == n
	}
	if !okLen {
		return bad("expected " + refForms[hub])
	}
	if hub == HubHF && strings.HasPrefix(version, "/") {
		return bad("malformed version")
	}
	// TF Hub handles are PUBLISHER/MODEL/VERSION where MODEL may have several
	// elements (google/imagenet/mobilenet_v2_100_224/classification/5).
	if hub == HubTFHub && len(parts) >= 3 && isDigits(parts[len(parts)-1]) {
		if version != "" {
			return bad("give the TF Hub version either as a path element or after @, not both")
		}
		version = parts[len(parts)-1]
		id = strings.Join(parts[:len(parts)-1], "/")
	}
	if hub == HubTFHub && version != "" && version != "latest" && !isDigits(version) {
		return bad("a TF Hub version is a number")
	}
	return Ref{Hub: hub, ID: id, Version: version, Raw: raw}, nil
}

// refForms is how each hub's references are written, for error messages.
var refForms = map[string]string{
	HubHF:         "hf/ORG/NAME@REV or hf/NAME@REV",
	HubPyTorch:    "pytorch/OWNER/REPO/MODEL@REF",
	HubTFHub:      "tfhub/PUBLISHER/MODEL/VERSION or tfhub/PUBLISHER/MODEL@latest",
	HubModelScope: "modelscope/OWNER/NAME@REV",
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// Model is what an adapter fetched: the files in Dir and what is known about them.
type Model struct {
	Dir        string // the fetched files, at their repository paths
	Hub        string
	ID         string
	Revision   string // immutable: commit sha, version number, content digest
	URL        string // human URL of the model on its hub
	License    string
	Created    string // RFC 3339 time of the revision, when the hub says
	Task       string // pipeline tag
	Framework  string // onnx | pytorch | tensorflow | transformers
	Kind       string // onnx | torchscript | hubconf | transformers | savedmodel
	Entrypoint string // hubconf function for Kind hubconf
	Files      []string
	Extra      map[string]string // passed on to the converter (e.g. TORCH_HOME)
	// Downloaded and Cached count files fetched over the network and reused from the cache.
	Downloaded, Cached int
	// DownloadedBytes is what came over the network.
	DownloadedBytes int64
	// ONNXFile and Variant name the ONNX export chosen among those the repository
	// ships (onnx/model_q4.onnx, "q4"); "" when it ships none.
	ONNXFile, Variant string
}

// Adapter fetches one hub's models.
type Adapter interface {
	Hub() string
	// Fetch resolves ref to an immutable revision and places the model's files in dir.
	Fetch(ctx context.Context, ref Ref, dir string) (*Model, error)
}

// Error kinds adapters return (wrapped), so callers and tests can tell them apart.
var (
	ErrNotFound = errors.New("not found")
	ErrGated    = errors.New("gated")
	ErrAuth     = errors.New("authentication required")
	ErrChecksum = errors.New("checksum mismatch")
	ErrUnsafe   = errors.New("unsafe path")
)

// EnvURL is the base URL in the environment variable name (without a trailing
// slash), or def when it is unset: how every hub's address is overridden.
func EnvURL(name, def string) string {
	if u := strings.TrimRight(strings.TrimSpace(os.Getenv(name)), "/"); u != "" {
		return u
	}
	return def
}

package ui

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Source is what the UI reads from the registry's store. The registry implements it
// on its storage-agnostic store; LayoutSource implements it on an OCI image layout.
type Source interface {
	// Catalog lists up to n repository names after last, in lexical order (n <= 0: all).
	Catalog(ctx context.Context, n int, last string) ([]string, error)
	// Tags lists up to n tags of repo after last, in lexical order (n <= 0: all).
	Tags(ctx context.Context, repo string, n int, last string) ([]string, error)
	// Resolve turns a tag or digest into the manifest's descriptor.
	Resolve(ctx context.Context, repo, reference string) (ocispec.Descriptor, error)
	// Manifest returns a manifest's raw bytes.
	Manifest(ctx context.Context, repo string, dgst digest.Digest) ([]byte, error)
	// Blob opens a blob (a config, a layer) by digest.
	Blob(ctx context.Context, dgst digest.Digest) (io.ReadCloser, error)
	// Referrers lists the manifests whose subject is dgst (signatures, SBOMs...).
	Referrers(ctx context.Context, repo string, dgst digest.Digest) ([]ocispec.Descriptor, error)
}

// Event is a change in the registry: a manifest or tag pushed or deleted.
type Event struct {
	Action     string // "push" | "delete"
	Repository string
	Tag        string // empty when the manifest was pushed or deleted by digest
	Digest     digest.Digest
}

// Event actions.
const (
	ActionPush   = "push"
	ActionDelete = "delete"
)

// Options configures the UI. The zero value works: no login page, commands shown
// with the host the browser used.
type Options struct {
	// Host is the registry host shown in commands (axon pull HOST/REPO:TAG). Empty:
	// the Host header of the request.
	Host string
	// RuntimeURL is the MLOS Core address shown in the curl example (default localhost:8080).
	RuntimeURL string
	// Authenticate checks a user's password. When set, the UI has a login page
	// (/ui/login) that sets a signed session cookie, and API calls may also use basic
	// auth checked through it. Nil: access is decided by the middleware given to
	// Register alone.
	Authenticate func(user, password string) bool
	// Login, when set, is used instead of Authenticate: it checks a password
	// behind a failed-login throttle; retry > 0 refuses (429) without checking.
	Login func(user, password, remoteAddr string) (ok bool, retry time.Duration)
	// Revocations records sessions ended by logout (default: in memory).
	Revocations Revocations
	// SessionKey signs session cookies (32 random bytes or more). Empty: a random key
	// per process, so sessions end when the registry restarts.
	SessionKey []byte
	// SessionTTL is how long a login lasts (default 12h).
	SessionTTL time.Duration
	// PerPage is the default page size of the home page and the API (default 24).
	PerPage int
	// ResyncInterval, when set, re-reads the whole catalog that often, for changes
	// Notify cannot see: other registry replicas writing to the same storage.
	// Unchanged manifests are not read again. 0: never (one registry process).
	ResyncInterval time.Duration
	// Logger receives index and request errors (default slog.Default()).
	Logger *slog.Logger
}

// Register mounts the UI on e: / and /ui/... (pages), /ui/static/... (assets) and
// /api/... (JSON). auth, when not nil, guards every page and API route (not the
// assets and the login page); see the package documentation for how it combines
// with Options.Authenticate.
func (u *UI) Register(e *echo.Echo, auth echo.MiddlewareFunc) {
	u.register(e, auth)
}

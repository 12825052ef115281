// Package transfer moves packages between the local store and OCI registries
// with oras-go: layers in parallel, blobs the target has skipped, pulls that
// resume where they stopped, every blob verified before it is used.
package transfer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"
	"oras.land/oras-go/v2/registry/remote/errcode"

	"github.com/mlos-foundation/axon/internal/progress"
	"github.com/mlos-foundation/axon/internal/reference"
	"github.com/mlos-foundation/axon/internal/regclient"
	"github.com/mlos-foundation/axon/internal/store"
	"github.com/mlos-foundation/axon/internal/version"
)

// DefaultRegistry is where `axon push REF` goes without $AXON_REGISTRY.
const DefaultRegistry = "localhost:5000"

// DefaultConcurrency matches the oras CLI.
const DefaultConcurrency = 5

// Options configure transfers.
type Options struct {
	// PlainHTTP talks HTTP instead of HTTPS; localhost and loopback
	// addresses get plain HTTP without asking.
	PlainHTTP bool
	// Insecure skips TLS certificate verification.
	Insecure bool
	// CAFile is a PEM file of certificate authorities trusted besides the
	// system's (a registry with a private CA).
	CAFile string
	// Concurrency is how many blobs move at once (default 5).
	Concurrency int
	// Progress reports per-file progress (default: nothing).
	Progress progress.Reporter
	// Credentials is where logins are kept (default: docker's config.json
	// and credential helpers, $DOCKER_CONFIG respected).
	Credentials credentials.Store
	// HTTPClient replaces the base HTTP client (tests, proxies).
	HTTPClient *http.Client

	reg *regclient.Client // built from the fields above
}

// Option sets an Option field.
type Option func(*Options)

// WithPlainHTTP forces plain HTTP.
func WithPlainHTTP(v bool) Option { return func(o *Options) { o.PlainHTTP = v } }

// WithInsecure skips TLS verification.
func WithInsecure(v bool) Option { return func(o *Options) { o.Insecure = v } }

// WithCAFile trusts the certificate authorities in a PEM file too.
func WithCAFile(path string) Option { return func(o *Options) { o.CAFile = path } }

// WithConcurrency sets how many blobs move at once.
func WithConcurrency(n int) Option { return func(o *Options) { o.Concurrency = n } }

// WithProgress sets the progress reporter.
func WithProgress(r progress.Reporter) Option { return func(o *Options) { o.Progress = r } }

// WithCredentials sets the credential store.
func WithCredentials(s credentials.Store) Option { return func(o *Options) { o.Credentials = s } }

// WithHTTPClient sets the base HTTP client.
func WithHTTPClient(c *http.Client) Option { return func(o *Options) { o.HTTPClient = c } }

func build(opts []Option) (*Options, error) {
	o := &Options{Concurrency: DefaultConcurrency}
	for _, fn := range opts {
		fn(o)
	}
	if o.Concurrency < 1 {
		o.Concurrency = 1
	}
	if o.Progress == nil {
		o.Progress = progress.New(nil, true)
	}
	reg, err := regclient.New(regclient.Options{
		PlainHTTP:   o.PlainHTTP,
		PlainHosts:  plainDefault,
		Insecure:    o.Insecure,
		CAFile:      o.CAFile,
		Credentials: o.Credentials,
		HTTPClient:  o.HTTPClient,
		UserAgent:   "axon/" + version.String(),
	})
	if err != nil {
		return nil, err
	}
	o.reg, o.Credentials = reg, reg.Credentials()
	return o, nil
}

// Repository returns an oras-go client for a registry reference's repository.
func Repository(ref reference.Ref, opts ...Option) (*remote.Repository, error) {
	o, err := build(opts)
	if err != nil {
		return nil, err
	}
	return repository(ref, o)
}

// openTarget parses target (HOST/REPO:TAG or @DIGEST) and opens its
// repository; verb prefixes a client error ("sign TARGET: ...").
func openTarget(verb, target string, opts []Option) (reference.Ref, *remote.Repository, error) {
	o, err := build(opts)
	if err != nil {
		return reference.Ref{}, nil, err
	}
	ref, err := reference.ParseRemote(target)
	if err != nil {
		return reference.Ref{}, nil, err
	}
	repo, err := repository(ref, o)
	if err != nil {
		return reference.Ref{}, nil, fmt.Errorf("%s %s: %w", verb, target, err)
	}
	return ref, repo, nil
}

// resolveExact resolves ref in repo and, when ref names a digest, checks that
// the registry answered with that manifest.
func resolveExact(ctx context.Context, repo *remote.Repository, ref reference.Ref, verb, target string) (ocispec.Descriptor, error) {
	desc, err := repo.Resolve(ctx, ref.Reference())
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("%s %s: %w", verb, target, explain(err))
	}
	if ref.Digest != "" && desc.Digest != ref.Digest {
		return desc, fmt.Errorf("%s %s: the registry answered with %s", verb, target, desc.Digest)
	}
	return desc, nil
}

func repository(ref reference.Ref, o *Options) (*remote.Repository, error) {
	repo, err := o.reg.Repository(ref.RepositoryURL())
	if err != nil {
		return nil, err
	}
	repo.SkipReferrersGC = true
	return repo, nil
}

// Login checks credentials against a registry and stores them the docker way.
func Login(ctx context.Context, registry, username, password string, opts ...Option) error {
	o, err := build(opts)
	if err != nil {
		return err
	}
	reg, err := o.reg.Registry(registry)
	if err != nil {
		return fmt.Errorf("login %s: %w", registry, err)
	}
	if err := credentials.Login(ctx, o.Credentials, reg, auth.Credential{Username: username, Password: password}); err != nil {
		var ec *errcode.ErrorResponse
		if errors.As(err, &ec) && ec.StatusCode == http.StatusUnauthorized {
			// "log in first" would be no help to someone logging in.
			return fmt.Errorf("login %s: wrong user name or password", registry)
		}
		return fmt.Errorf("login %s: %w", registry, explain(err))
	}
	return nil
}

// Logout forgets the credentials of a registry.
func Logout(ctx context.Context, registry string, opts ...Option) error {
	o, err := build(opts)
	if err != nil {
		return err
	}
	// Like docker: say so instead of claiming to remove what was never there.
	if c, err := o.Credentials.Get(ctx, registry); err == nil && c == auth.EmptyCredential {
		return fmt.Errorf("logout %s: %w", registry, ErrNotLoggedIn)
	}
	if err := credentials.Logout(ctx, o.Credentials, registry); err != nil {
		return fmt.Errorf("logout %s: %w", registry, err)
	}
	return nil
}

// ErrNotLoggedIn: logout of a registry without stored credentials.
var ErrNotLoggedIn = errors.New("not logged in (nothing to remove)")

// explained is a registry error said in one line a user can act on; the
// original stays reachable for errors.Is (context.Canceled gives exit 130).
type explained struct {
	msg string
	err error
}

func (e *explained) Error() string { return e.msg }
func (e *explained) Unwrap() error { return e.err }

// explain turns registry errors into one line a user can act on.
func explain(err error) error {
	return &explained{msg: explainMsg(err), err: err}
}

func explainMsg(err error) string {
	if errors.Is(err, context.Canceled) {
		return "interrupted"
	}
	// The local side first: a store error is also "not found", but not the registry's.
	var missing *store.MissingError
	if errors.As(err, &missing) {
		return missing.Error()
	}
	var corrupt *store.CorruptError
	if errors.As(err, &corrupt) {
		// Push reads store blobs through the store's verifying Fetch.
		return "blob " + corrupt.Digest.String() + ": the local store's copy is damaged; axon rm the package and pull or pack it again"
	}
	var ec *errcode.ErrorResponse
	if errors.As(err, &ec) {
		for _, e := range ec.Errors {
			if e.Code == errcode.ErrorCodeDigestInvalid {
				// A blob changed between the store's check and the upload.
				return "the registry refused a blob whose content does not match its digest: the local store's copy is damaged; axon rm the package and pull or pack it again"
			}
		}
		switch ec.StatusCode {
		case http.StatusUnauthorized:
			return "unauthorized: log in first (axon login " + ec.URL.Host + ") or check the credentials"
		case http.StatusForbidden:
			return "access denied by the registry"
		case http.StatusNotFound:
			return "not found in the registry"
		}
		// Anything else: the status and the registry's own words, without
		// the request line oras puts first.
		why := http.StatusText(ec.StatusCode)
		if len(ec.Errors) > 0 {
			why = ec.Errors.Error()
		}
		hint := ""
		if ec.StatusCode >= 500 {
			hint = "; the registry failed: try again, or see its logs"
		}
		return fmt.Sprintf("the registry answered %s %s with HTTP %d (%s)%s", ec.Method, ec.URL.Path, ec.StatusCode, why, hint)
	}
	if errors.Is(err, errdef.ErrNotFound) {
		return "not found in the registry"
	}
	if errors.Is(err, auth.ErrBasicCredentialNotFound) {
		return "unauthorized: the registry wants credentials; run axon login first"
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return fmt.Sprintf("cannot reach the registry (%v); is it running, and is the address right?", oe.Err)
	}
	msg := err.Error()
	if strings.Contains(msg, "server gave HTTP response to HTTPS client") {
		return "the registry speaks plain HTTP; add --plain-http"
	}
	return msg
}

// DefaultTarget is the registry of `axon push` without a target: $AXON_REGISTRY
// or localhost:5000.
func DefaultTarget() string {
	if r := os.Getenv("AXON_REGISTRY"); r != "" {
		return strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(r, "http://"), "https://"), "/")
	}
	return DefaultRegistry
}

// plainDefault: AXON_REGISTRY=http://HOST asks for plain HTTP to HOST.
func plainDefault(host string) bool {
	r := os.Getenv("AXON_REGISTRY")
	return strings.HasPrefix(r, "http://") && DefaultTarget() == host
}

// Result is what a push or pull did.
type Result struct {
	Ref        string             // the registry reference
	Descriptor ocispec.Descriptor // the package's manifest
	Blobs      int                // blobs moved
	Skipped    int                // blobs the target had already
	Bytes      int64              // bytes moved
	Elapsed    time.Duration
}

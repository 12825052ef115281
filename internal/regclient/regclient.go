// Package regclient builds the oras-go registry clients that axon (pushes,
// pulls, logins) and mlosd (pulls by digest) talk to registries with, so both
// follow one set of rules: credentials from Docker's store, retries on
// transient failures, one shared tuned transport, a user agent that names the
// program, and plain HTTP for loopback registries (reference.IsLoopback) and
// for the hosts the user named, never silently for anything else.
package regclient

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"sync"

	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"
	"oras.land/oras-go/v2/registry/remote/retry"

	"github.com/mlos-foundation/axon/internal/reference"
)

// Options configure a Client.
type Options struct {
	// PlainHTTP speaks plain HTTP to every registry.
	PlainHTTP bool
	// PlainHosts names further hosts spoken to over plain HTTP (mlosd
	// --plain-http, AXON_REGISTRY=http://HOST); nil = none.
	// Loopback hosts get plain HTTP without asking.
	PlainHosts func(host string) bool
	// Insecure skips TLS certificate verification.
	Insecure bool
	// CAFile is a PEM file of certificate authorities trusted besides the
	// system's (a registry with a private CA).
	CAFile string
	// Credentials is where logins are kept (nil = Docker's: config.json and
	// credential helpers, $DOCKER_CONFIG respected).
	Credentials credentials.Store
	// HTTPClient replaces the base HTTP client (tests, proxies); CAFile and
	// Insecure then do not apply.
	HTTPClient *http.Client
	// UserAgent names the program ("axon/1.2.0").
	UserAgent string
}

// Client makes oras-go repositories and registries that share one
// authenticating HTTP client, so tokens are fetched once per scope.
type Client struct {
	opts  Options
	auth  *auth.Client
	creds credentials.Store
}

// New builds a client; it fails on a CA file it cannot use and on a Docker
// credential configuration it cannot read (pass Credentials to choose).
func New(o Options) (*Client, error) {
	base := o.HTTPClient
	if base == nil {
		rt := transport(o.Insecure)
		if o.CAFile != "" {
			t, err := caTransport(o.CAFile, o.Insecure)
			if err != nil {
				return nil, err
			}
			rt = t
		}
		base = &http.Client{Transport: retry.NewTransport(rt)}
	}
	cs := o.Credentials
	if cs == nil {
		var err error
		if cs, err = DockerCredentials(); err != nil {
			return nil, err
		}
	}
	ac := &auth.Client{Client: base, Cache: auth.NewCache(), Credential: credentials.Credential(cs)}
	if o.UserAgent != "" {
		ac.SetUserAgent(o.UserAgent)
	}
	return &Client{opts: o, auth: ac, creds: cs}, nil
}

// DockerCredentials opens Docker's credential store (config.json, helpers);
// logins are written back to it.
func DockerCredentials() (credentials.Store, error) {
	cs, err := credentials.NewStoreFromDocker(credentials.StoreOptions{AllowPlaintextPut: true})
	if err != nil {
		return nil, fmt.Errorf("read docker credentials: %w", err)
	}
	return cs, nil
}

// PlainHTTP reports whether host[:port] is spoken to over plain HTTP.
func (c *Client) PlainHTTP(host string) bool {
	return c.opts.PlainHTTP || reference.IsLoopback(host) || (c.opts.PlainHosts != nil && c.opts.PlainHosts(host))
}

// Credentials is the store logins are read from (and written to).
func (c *Client) Credentials() credentials.Store { return c.creds }

// HTTP is the authenticating client requests go through.
func (c *Client) HTTP() *auth.Client { return c.auth }

// Repository returns an oras-go client for HOST[:PORT]/REPOSITORY.
func (c *Client) Repository(name string) (*remote.Repository, error) {
	repo, err := remote.NewRepository(name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	repo.PlainHTTP = c.PlainHTTP(repo.Reference.Registry)
	repo.Client = c.auth
	return repo, nil
}

// Registry returns an oras-go client for a registry host[:port] (logins, catalog).
func (c *Client) Registry(host string) (*remote.Registry, error) {
	reg, err := remote.NewRegistry(host)
	if err != nil {
		return nil, err
	}
	reg.PlainHTTP = c.PlainHTTP(host)
	reg.Client = c.auth
	return reg, nil
}

var (
	transportOnce sync.Once
	baseTransport *http.Transport
)

// transport is shared so connections are reused across repositories.
func transport(insecure bool) http.RoundTripper {
	transportOnce.Do(func() {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 32
		// Big blobs: larger socket buffers than the 4 KiB default copy size.
		t.WriteBufferSize = 256 << 10
		t.ReadBufferSize = 256 << 10
		baseTransport = t
	})
	if insecure {
		t := baseTransport.Clone()
		t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
		return t
	}
	return baseTransport
}

// caTransport is the shared transport trusting the system's CAs and those in caFile.
func caTransport(caFile string, insecure bool) (http.RoundTripper, error) {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("--ca-file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--ca-file %s: no PEM certificate in it", caFile)
	}
	transport(false) // make sure the base exists
	t := baseTransport.Clone()
	t.TLSClientConfig = &tls.Config{RootCAs: pool, InsecureSkipVerify: insecure}
	return t, nil
}

// Package repostore is the registry's content-addressed store, written once over
// driver.Driver so the filesystem and S3 backends behave the same.
//
// Layout (all paths relative to the driver root):
//
//	blobs/<alg>/<2 hex>/<hex>/data                          every blob once, whoever pushed it
//	repositories/<name>/_layers/<alg>/<hex>/link              a repository may serve this blob
//	repositories/<name>/_manifests/revisions/<alg>/<hex>/link manifest known to the repository (JSON descriptor)
//	repositories/<name>/_manifests/tags/<tag>/current/link    tag → JSON descriptor
//	repositories/<name>/_referrers/<salg>/<shex>/<alg>/<hex>  referrer descriptor of subject <salg>:<shex>
//	_uploads/<uuid>/{data,state}                              an upload in progress and its resumable hash state
//
// Repository path components never start with '_' (the name grammar forbids it),
// so the '_'-prefixed directories cannot collide with nested repository names.
package repostore

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mlos-foundation/axon/registry/names"
	"github.com/mlos-foundation/axon/registry/storage/driver"
	"github.com/opencontainers/go-digest"
)

// Errors the HTTP layer maps to OCI error codes.
var (
	ErrBlobUnknown         = errors.New("blob unknown to registry")
	ErrManifestUnknown     = errors.New("manifest unknown")
	ErrNameUnknown         = errors.New("repository name not known to registry")
	ErrUploadUnknown       = errors.New("blob upload unknown to registry")
	ErrUploadInvalid       = errors.New("blob upload invalid")
	ErrRangeInvalid        = errors.New("requested range not satisfiable")
	ErrDigestMismatch      = errors.New("provided digest did not match uploaded content")
	ErrManifestInvalid     = errors.New("manifest invalid")
	ErrManifestBlobUnknown = errors.New("manifest references a manifest or blob unknown to registry")
	ErrSizeInvalid         = errors.New("provided length did not match content length")
	// ErrBodyRead is the client's side failing: a request body cut off or unreadable.
	ErrBodyRead = errors.New("request body incomplete")
)

// BlobUnknownError names the missing blob of a manifest (the spec's error detail).
type BlobUnknownError struct{ Digest digest.Digest }

func (e *BlobUnknownError) Error() string {
	return fmt.Sprintf("%v: %s", ErrManifestBlobUnknown, e.Digest)
}
func (e *BlobUnknownError) Unwrap() error { return ErrManifestBlobUnknown }

// Event is a manifest or tag change, for the web UI and other listeners.
type Event struct {
	Action     string // "push" | "delete"
	Repository string
	Tag        string
	Digest     digest.Digest
}

// Options tune a Store.
type Options struct {
	// UploadTTL is how long an upload may sit idle before the janitor removes it.
	UploadTTL time.Duration
	// Logger for background work; nil means slog.Default().
	Logger *slog.Logger
	// ReferenceHold bounds how long a manifest push may take between marking
	// its blobs referenced and committing (protect.go); 0 means one minute.
	ReferenceHold time.Duration
}

// Store is the content-addressed store. Safe for concurrent use.
type Store struct {
	d    driver.Driver
	opts Options
	log  *slog.Logger

	listenMu  sync.RWMutex
	listeners []func(Event)

	uploadLocks [256]sync.Mutex
	repoLocks   [64]sync.Mutex // manifest and tag writes and deletes of a repository, one at a time

	// GC coordination: see gc.go.
	gcBarrier sync.RWMutex
	gcActive  atomic.Bool
	recMu     sync.Mutex
	recorded  map[digest.Digest]struct{}
	gcRun     sync.Mutex
}

// New builds a store over a driver.
func New(d driver.Driver, opts Options) *Store {
	if opts.UploadTTL <= 0 {
		opts.UploadTTL = 24 * time.Hour
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.ReferenceHold <= 0 {
		opts.ReferenceHold = time.Minute
	}
	return &Store{d: d, opts: opts, log: opts.Logger}
}

func (s *Store) lockRepo(repo string) func() {
	h := fnv.New32a()
	h.Write([]byte(repo))
	m := &s.repoLocks[h.Sum32()%uint32(len(s.repoLocks))]
	m.Lock()
	return m.Unlock
}

// Driver is the underlying storage driver.
func (s *Store) Driver() driver.Driver { return s.d }

// OnEvent registers a listener for manifest and tag changes.
func (s *Store) OnEvent(fn func(Event)) {
	s.listenMu.Lock()
	defer s.listenMu.Unlock()
	s.listeners = append(s.listeners, fn)
}

func (s *Store) emit(ev Event) {
	s.listenMu.RLock()
	ls := s.listeners
	s.listenMu.RUnlock()
	for _, fn := range ls {
		fn(ev)
	}
}

// checkRepo validates a repository name, including the driver's reserved marker.
func checkRepo(name string) error {
	if err := names.CheckName(name); err != nil {
		return err
	}
	if strings.Contains(name, driver.Reserved) {
		return fmt.Errorf("%w: %q uses a reserved name", names.ErrName, name)
	}
	return nil
}

func checkTag(tag string) error {
	if !names.ValidTag(tag) || strings.Contains(tag, driver.Reserved) {
		return fmt.Errorf("%w: %q", names.ErrTag, tag)
	}
	return nil
}

func blobDir(d digest.Digest) string {
	hex := d.Encoded()
	return path.Join("blobs", d.Algorithm().String(), hex[:2], hex)
}

func blobPath(d digest.Digest) string { return blobDir(d) + "/data" }

func repoPath(name string) string { return "repositories/" + name }

func layerLink(name string, d digest.Digest) string {
	return path.Join(repoPath(name), "_layers", d.Algorithm().String(), d.Encoded(), "link")
}

func revisionLink(name string, d digest.Digest) string {
	return path.Join(repoPath(name), "_manifests/revisions", d.Algorithm().String(), d.Encoded(), "link")
}

func tagsDir(name string) string { return repoPath(name) + "/_manifests/tags" }

func tagLink(name, tag string) string { return path.Join(tagsDir(name), tag, "current/link") }

func referrersDir(name string, subject digest.Digest) string {
	return path.Join(repoPath(name), "_referrers", subject.Algorithm().String(), subject.Encoded())
}

func referrerLink(name string, subject, d digest.Digest) string {
	return path.Join(referrersDir(name, subject), d.Algorithm().String(), d.Encoded())
}

func isNotFound(err error) bool { return errors.Is(err, driver.ErrNotFound) }

// exists reports whether a file exists; errors other than not-found are returned.
func (s *Store) exists(ctx context.Context, p string) (bool, error) {
	_, err := s.d.Stat(ctx, p)
	if err == nil {
		return true, nil
	}
	if isNotFound(err) {
		return false, nil
	}
	return false, fmt.Errorf("stat %s: %w", p, err)
}

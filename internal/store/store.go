// Package store is the local package store: an OCI image layout (oras-go
// content/oci) at the root of $AXON_HOME, holding every blob once by digest.
// Package references (hf/bert@latest, localhost:5000/team/bert:1.0) are tags in
// its index.json, so `oci-layout://$AXON_HOME@sha256:...` works for any OCI tool.
//
// Several axon processes may use one store at a time: index changes happen under
// an exclusive file lock on a freshly loaded index, and writers (pack, pull) hold a
// shared "lease" lock that rm and prune wait for, so that garbage collection never
// removes blobs a running pack or pull counts on.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/content/oci"
	"oras.land/oras-go/v2/errdef"

	"github.com/mlos-foundation/axon/internal/artifact"
	"github.com/mlos-foundation/axon/internal/fsutil"
	"github.com/mlos-foundation/axon/internal/reference"
	"github.com/mlos-foundation/axon/schemas"
)

// ErrNotFound is returned (wrapped) for references the store does not hold;
// errors.Is also matches oras-go's errdef.ErrNotFound.
var ErrNotFound error = notFound{}

type notFound struct{}

func (notFound) Error() string        { return "no such package in the local store (see axon ls)" }
func (notFound) Is(target error) bool { return target == errdef.ErrNotFound }

// Store is a local package store. Its methods are safe for concurrent use,
// also across processes.
type Store struct {
	root    string
	blobs   *oci.Storage
	lockTTL time.Duration
}

// The store is an oras-go content store and target: oras.Copy and
// oras.CopyGraph read from and write into it, verified on the way in (Push,
// Writer) and on the way out (Fetch).
var (
	_ content.Storage = (*Store)(nil)
	_ oras.Target     = (*Store)(nil)
)

// DefaultHome is $AXON_HOME, or ~/.axon.
func DefaultHome() string {
	if h := os.Getenv("AXON_HOME"); h != "" {
		return h
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return ".axon"
	}
	return filepath.Join(home, ".axon")
}

// Open opens (creating when needed) the store at home; "" means DefaultHome().
func Open(home string) (*Store, error) {
	if home == "" {
		home = DefaultHome()
	}
	root, err := filepath.Abs(home)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", home, err)
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	s := &Store{root: root, lockTTL: 2 * time.Minute}
	// Creating the layout (oci-layout, index.json) happens once, under the lock.
	if err := s.withIndex(context.Background(), func(*oci.Store) error { return nil }); err != nil {
		return nil, fmt.Errorf("open store %s: %w", root, err)
	}
	s.blobs, err = oci.NewStorage(root)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", root, err)
	}
	return s, nil
}

// Path is the root of the OCI image layout.
func (s *Store) Path() string { return s.root }

// ingest is the store's scratch area (same file system as the blobs, so a
// finished blob is renamed into place); partial downloads wait in
// ingest/partial to be resumed. Prune empties it.
func (s *Store) ingest() string { return filepath.Join(s.root, "ingest") }

// TempDir is a scratch directory inside the store (same file system, so
// exported and converted files can be linked without copies); prune empties it.
func (s *Store) TempDir() (string, error) {
	d := s.ingest()
	return d, os.MkdirAll(d, 0o755)
}

func (s *Store) blobPath(d digest.Digest) string {
	return filepath.Join(s.root, "blobs", d.Algorithm().String(), d.Encoded())
}

// flock takes a file lock on name under the root, waiting up to the store's
// lock timeout or until ctx ends; the returned func releases it.
func (s *Store) flock(ctx context.Context, name string, shared bool) (func(), error) {
	wctx, cancel := context.WithTimeout(ctx, s.lockTTL)
	defer cancel()
	lock := fsutil.Lock
	if shared {
		lock = fsutil.LockShared
	}
	unlock, err := lock(wctx, filepath.Join(s.root, name))
	if err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
		return nil, fmt.Errorf("the store %s is busy (another axon command holds it); try again", s.root)
	}
	if err != nil {
		return nil, fmt.Errorf("lock store: %w", err)
	}
	return unlock, nil
}

// Lease keeps garbage collection (rm, prune) away while a pack or pull writes
// blobs that no tag references yet. Release it when the package is tagged.
func (s *Store) Lease(ctx context.Context) (release func(), err error) {
	return s.flock(ctx, ".gc.lock", true)
}

// withIndex runs fn on a freshly loaded index under the index lock.
func (s *Store) withIndex(ctx context.Context, fn func(o *oci.Store) error) error {
	unlock, err := s.flock(ctx, ".index.lock", false)
	if err != nil {
		return err
	}
	defer unlock()
	o, err := oci.NewWithContext(ctx, s.root)
	if err != nil {
		return err
	}
	return fn(o)
}

// readIndex loads the index for reading, under a shared lock because oras-go
// rewrites index.json in place.
func (s *Store) readIndex(ctx context.Context) (*oci.ReadOnlyStore, error) {
	unlock, err := s.flock(ctx, ".index.lock", true)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return oci.NewFromFS(ctx, os.DirFS(s.root))
}

// Fetch returns a blob's content; the reader fails at EOF when the content
// does not match desc (size and digest are verified).
func (s *Store) Fetch(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	rc, err := s.blobs.Fetch(ctx, desc)
	if errors.Is(err, errdef.ErrNotFound) {
		return nil, &MissingError{Digest: desc.Digest, Err: err}
	}
	if err != nil {
		return nil, err
	}
	return &verifyingReadCloser{VerifyReader: content.NewVerifyReader(rc, desc), c: rc, desc: desc}, nil
}

// Send opens a stored blob to be sent to a receiver that checks its digest
// itself (a registry verifies every blob it is given: PUT ?digest=): the
// content is not hashed on the way out, only its size is checked, and the
// reader is the blob's *os.File, so the kernel can send it (sendfile) without
// copying it through the process. Anything axon reads itself goes through
// Fetch, which verifies.
func (s *Store) Send(desc ocispec.Descriptor) (*os.File, error) {
	if err := desc.Digest.Validate(); err != nil {
		return nil, fmt.Errorf("blob %s: %w", desc.Digest, err)
	}
	f, err := os.Open(s.blobPath(desc.Digest))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &MissingError{Digest: desc.Digest, Err: errdef.ErrNotFound}
	}
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil && (!fi.Mode().IsRegular() || fi.Size() != desc.Size) {
		err = &CorruptError{Digest: desc.Digest, Err: fmt.Errorf("%d bytes, want %d", fi.Size(), desc.Size)}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// MissingError: a blob a package needs is not in the store (deleted by hand,
// or a store copied in part). It is still errdef.ErrNotFound for callers that
// test for that, and says how to get the package whole again.
type MissingError struct {
	Digest digest.Digest
	Err    error
}

func (e *MissingError) Error() string {
	return fmt.Sprintf("blob %s is missing from the local store; axon rm the package and pull or pack it again", e.Digest)
}

func (e *MissingError) Unwrap() error { return e.Err }

type verifyingReadCloser struct {
	*content.VerifyReader
	c    io.Closer
	desc ocispec.Descriptor
	eof  bool
}

func (v *verifyingReadCloser) Read(p []byte) (int, error) {
	n, err := v.VerifyReader.Read(p)
	if err == io.EOF && !v.eof {
		v.eof = true
		if verr := v.Verify(); verr != nil {
			return n, &CorruptError{Digest: v.desc.Digest, Err: verr}
		}
	}
	return n, err
}

// CorruptError: a blob in the store no longer matches its digest (a damaged
// disk, a hand-edited file). It says how to get a good copy back.
type CorruptError struct {
	Digest digest.Digest
	Err    error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("blob %s in the local store is damaged (%v); axon rm the package and pull or pack it again", e.Digest, e.Err)
}

func (e *CorruptError) Unwrap() error { return e.Err }

func (v *verifyingReadCloser) Close() error { return v.c.Close() }

// Exists reports whether the store holds the blob.
func (s *Store) Exists(ctx context.Context, desc ocispec.Descriptor) (bool, error) {
	return s.blobs.Exists(ctx, desc)
}

// Push stores a blob, verifying its size and digest; manifests are also
// recorded in the index (untagged until Tag). Content already present is
// ErrAlreadyExists-free: pushing it again is a no-op.
func (s *Store) Push(ctx context.Context, desc ocispec.Descriptor, r io.Reader) error {
	if IsManifest(desc.MediaType) {
		return s.withIndex(ctx, func(o *oci.Store) error {
			err := o.Push(ctx, desc, r)
			if errors.Is(err, errdef.ErrAlreadyExists) {
				// Known blob but maybe not in the index (a half-finished earlier run).
				return o.Tag(ctx, desc, desc.Digest.String())
			}
			return err
		})
	}
	err := s.blobs.Push(ctx, desc, r)
	if errors.Is(err, errdef.ErrAlreadyExists) {
		return nil
	}
	return err
}

// Writer opens a writer for one blob whose digest the store computes: Commit
// checks it against what the caller expects and only then makes it visible.
// key "" is a one-off writer (a file being packed); any other key names a
// partial file in the store's ingest area that a later Writer with the same
// key continues (a download cut off), one writer per key at a time, also
// across processes. Use it under a Lease; abandoned partials go at prune.
func (s *Store) Writer(ctx context.Context, key string) (*fsutil.Writer, error) {
	dir := s.ingest()
	if key != "" {
		dir = filepath.Join(dir, "partial")
	}
	w, err := fsutil.NewWriter(ctx, dir, key, s.blobPath)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return w, nil
}

// Stat reports the size of a stored blob; false when it is absent.
func (s *Store) Stat(d digest.Digest) (int64, bool) {
	if d.Validate() != nil {
		return 0, false
	}
	fi, err := os.Stat(s.blobPath(d))
	if err != nil || !fi.Mode().IsRegular() {
		return 0, false
	}
	return fi.Size(), true
}

// Place puts the content of a stored blob at dst: a hard link where it can
// (blobs are read-only files, shared by every link), else a copy.
func (s *Store) Place(ctx context.Context, d digest.Digest, dst string) error {
	if _, ok := s.Stat(d); !ok {
		return &MissingError{Digest: d, Err: errdef.ErrNotFound}
	}
	return fsutil.Place(ctx, s.blobPath(d), dst)
}

// IsManifest reports whether mt is an image manifest or index media type
// (OCI or Docker): a node the store also records in its index.
func IsManifest(mt string) bool {
	switch mt {
	case ocispec.MediaTypeImageManifest, ocispec.MediaTypeImageIndex,
		"application/vnd.docker.distribution.manifest.v2+json", "application/vnd.docker.distribution.manifest.list.v2+json":
		return true
	}
	return false
}

// Resolve finds a package by reference: a tag in the store (axon or registry
// style), or a digest (sha256:..., or NAME@sha256:...).
func (s *Store) Resolve(ctx context.Context, ref string) (ocispec.Descriptor, error) {
	key, err := tagKey(ref)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	o, err := s.readIndex(ctx)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("read store: %w", err)
	}
	desc, err := o.Resolve(ctx, key)
	if err != nil || !IsManifest(desc.MediaType) {
		if err == nil || errors.Is(err, errdef.ErrNotFound) {
			return ocispec.Descriptor{}, fmt.Errorf("%s: %w", ref, ErrNotFound)
		}
		return ocispec.Descriptor{}, fmt.Errorf("resolve %s: %w", ref, err)
	}
	return desc, nil
}

// tagKey turns a user reference into the tag string the index uses: the
// reference's canonical form, or the bare digest for references by digest.
func tagKey(ref string) (string, error) {
	if d, err := digest.Parse(ref); err == nil {
		return d.String(), nil
	}
	r, err := reference.Parse(ref)
	if err != nil {
		return "", err
	}
	if r.Digest != "" {
		return r.Digest.String(), nil
	}
	return r.String(), nil
}

// Tag gives a stored manifest another reference (axon or registry style).
func (s *Store) Tag(ctx context.Context, desc ocispec.Descriptor, ref string) error {
	r, err := reference.Parse(ref)
	if err != nil {
		return err
	}
	if r.Digest != "" && r.Tag == "" && !r.IsRemote() {
		return fmt.Errorf("tag %s: a tag needs a version, not only a digest", ref)
	}
	return s.withIndex(ctx, func(o *oci.Store) error {
		if err := o.Tag(ctx, descPlain(desc), r.String()); err != nil {
			return fmt.Errorf("tag %s: %w", ref, err)
		}
		return nil
	})
}

func descPlain(d ocispec.Descriptor) ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: d.MediaType, Digest: d.Digest, Size: d.Size, ArtifactType: d.ArtifactType}
}

// Entry is one tagged package.
type Entry struct {
	Ref        string            `json:"ref"`
	Repository string            `json:"repository"` // ns/name, or host/repo
	Tag        string            `json:"tag"`
	Digest     digest.Digest     `json:"digest"`
	Size       int64             `json:"size"` // manifest + config + layers
	Created    string            `json:"created,omitempty"`
	Manifest   *schemas.Manifest `json:"manifest,omitempty"` // nil for an artifact that is not an axon package
	Artifact   string            `json:"artifactType,omitempty"`
}

// List returns every tagged package, sorted by reference.
func (s *Store) List(ctx context.Context) ([]Entry, error) {
	o, err := s.readIndex(ctx)
	if err != nil {
		return nil, fmt.Errorf("read store: %w", err)
	}
	var tags []string
	if err := o.Tags(ctx, "", func(t []string) error { tags = append(tags, t...); return nil }); err != nil {
		return nil, err
	}
	var out []Entry
	for _, tag := range tags {
		desc, err := o.Resolve(ctx, tag)
		if err != nil {
			continue
		}
		e := Entry{Ref: tag, Digest: desc.Digest}
		if r, err := reference.Parse(tag); err == nil {
			e.Repository, e.Tag = r.RepositoryURL(), r.Tag
		} else {
			e.Repository = tag
		}
		if m, err := s.readManifest(ctx, desc); err == nil {
			e.Size = desc.Size + m.Config.Size
			for _, l := range m.Layers {
				e.Size += l.Size
			}
			e.Created = m.Annotations[schemas.AnnotationCreated]
			e.Artifact = m.ArtifactType
			if m.Config.MediaType == schemas.MediaTypeManifest {
				if pm, err := s.readPackageManifest(ctx, m); err == nil {
					e.Manifest = pm
				}
			} else if pkg, err := artifact.Read(ctx, s, desc); err == nil {
				e.Manifest = pkg.Manifest // ModelPack, ModelKit, Docker model: what it says of itself
			}
		}
		out = append(out, e)
	}
	return out, nil
}

// readManifest reads an OCI image manifest from the store.
func (s *Store) readManifest(ctx context.Context, desc ocispec.Descriptor) (*ocispec.Manifest, error) {
	if desc.MediaType != ocispec.MediaTypeImageManifest {
		return nil, fmt.Errorf("%s is a %s, not an OCI image manifest", desc.Digest, desc.MediaType)
	}
	b, err := content.FetchAll(ctx, s, desc)
	if err != nil {
		return nil, fmt.Errorf("read manifest %s: %w", desc.Digest, err)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("read manifest %s: %w", desc.Digest, err)
	}
	return &m, nil
}

// readPackageManifest reads and validates the manifest.yaml (config) of a package.
func (s *Store) readPackageManifest(ctx context.Context, m *ocispec.Manifest) (*schemas.Manifest, error) {
	if m.Config.MediaType != schemas.MediaTypeManifest {
		return nil, fmt.Errorf("not an axon package (config is %s)", m.Config.MediaType)
	}
	b, err := content.FetchAll(ctx, s, m.Config)
	if err != nil {
		return nil, fmt.Errorf("read manifest.yaml: %w", err)
	}
	return schemas.Parse(b)
}

// Remove drops a reference; when no other reference names the same package,
// the package and the blobs no other package uses are deleted.
func (s *Store) Remove(ctx context.Context, ref string) error {
	key, err := tagKey(ref)
	if err != nil {
		return err
	}
	release, err := s.flock(ctx, ".gc.lock", false)
	if err != nil {
		return err
	}
	defer release()
	return s.withIndex(ctx, func(o *oci.Store) error {
		desc, err := o.Resolve(ctx, key)
		if err != nil || !IsManifest(desc.MediaType) {
			return fmt.Errorf("rm %s: %w", ref, ErrNotFound)
		}
		if key != desc.Digest.String() {
			if err := o.Untag(ctx, key); err != nil {
				return fmt.Errorf("rm %s: %w", ref, err)
			}
		}
		others := 0
		if err := o.Tags(ctx, "", func(tags []string) error {
			for _, t := range tags {
				if d, err := o.Resolve(ctx, t); err == nil && d.Digest == desc.Digest {
					others++
				}
			}
			return nil
		}); err != nil {
			return err
		}
		if others > 0 && key != desc.Digest.String() {
			return nil
		}
		// Delete also removes every tag of the manifest and, with AutoGC, the
		// blobs that only this manifest used.
		if err := o.Delete(ctx, descPlain(desc)); err != nil && !errors.Is(err, errdef.ErrNotFound) {
			return fmt.Errorf("rm %s: %w", ref, err)
		}
		return nil
	})
}

// PruneReport says what Prune removed.
type PruneReport struct {
	Blobs int   `json:"blobs"`
	Bytes int64 `json:"bytes"`
}

// Prune deletes untagged manifests, blobs no tagged package uses, and
// abandoned partial downloads.
func (s *Store) Prune(ctx context.Context) (PruneReport, error) {
	var rep PruneReport
	release, err := s.flock(ctx, ".gc.lock", false)
	if err != nil {
		return rep, err
	}
	defer release()
	before := s.blobSizes()
	err = s.withIndex(ctx, func(o *oci.Store) error {
		if err := o.GC(ctx); err != nil {
			return err
		}
		return o.SaveIndex()
	})
	if err != nil {
		return rep, fmt.Errorf("prune: %w", err)
	}
	after := s.blobSizes()
	for d, n := range before {
		if _, ok := after[d]; !ok {
			rep.Blobs++
			rep.Bytes += n
		}
	}
	ingest := s.ingest()
	entries, _ := os.ReadDir(filepath.Join(ingest, "partial"))
	for _, e := range entries {
		if fi, err := e.Info(); err == nil {
			rep.Bytes += fi.Size()
		}
	}
	if err := os.RemoveAll(ingest); err != nil {
		return rep, fmt.Errorf("prune: %w", err)
	}
	return rep, nil
}

func (s *Store) blobSizes() map[string]int64 {
	out := map[string]int64{}
	dir := filepath.Join(s.root, "blobs")
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				out[p] = fi.Size()
			}
		}
		return nil
	})
	return out
}

// remotes.json maps a manifest digest to the registry repositories
// ("localhost:5000/hf/bert") it was pushed to or pulled from.
const remotesFile = "remotes.json"

// Remotes lists the registry repositories known to hold the manifest dgst,
// most recent first.
func (s *Store) Remotes(dgst digest.Digest) []string {
	m, _ := s.readRemotes()
	return slices.Clone(m[dgst.String()])
}

// AddRemote records that repo (HOST/REPOSITORY) holds the manifest dgst.
func (s *Store) AddRemote(ctx context.Context, dgst digest.Digest, repo string) error {
	return s.withIndex(ctx, func(*oci.Store) error {
		m, err := s.readRemotes()
		if err != nil {
			return err
		}
		list := slices.DeleteFunc(m[dgst.String()], func(r string) bool { return r == repo })
		m[dgst.String()] = append([]string{repo}, list...)
		b, err := json.MarshalIndent(m, "", "  ")
		if err != nil {
			return err
		}
		return writeFileAtomic(filepath.Join(s.root, remotesFile), b)
	})
}

func (s *Store) readRemotes() (map[string][]string, error) {
	m := map[string][]string{}
	b, err := os.ReadFile(filepath.Join(s.root, remotesFile))
	if errors.Is(err, fs.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return map[string][]string{}, fmt.Errorf("%s: %w", remotesFile, err)
	}
	return m, nil
}

func writeFileAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// IsNotFound reports whether err means the store lacks a reference.
func IsNotFound(err error) bool {
	return errors.Is(err, ErrNotFound) || strings.Contains(fmt.Sprint(err), "not found")
}

// Packed is the result of Pack.
type Packed struct {
	Ref        string
	Descriptor ocispec.Descriptor
	Manifest   *schemas.Manifest
}

// Pack packs dir into the store (artifact.Pack) and tags it NAMESPACE/NAME@VERSION.
// A failed pack leaves no tag; its blobs go at the next prune.
func (s *Store) Pack(ctx context.Context, dir string, opts ...artifact.Option) (*Packed, error) {
	release, err := s.Lease(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	desc, err := artifact.Pack(ctx, dir, s, opts...)
	if err != nil {
		return nil, err
	}
	pkg, err := artifact.Read(ctx, s, desc)
	if err != nil {
		return nil, fmt.Errorf("pack %s: read back: %w", dir, err)
	}
	ref := pkg.Manifest.Namespace + "/" + pkg.Manifest.Name + "@" + pkg.Manifest.Version
	if err := s.Tag(ctx, desc, ref); err != nil {
		return nil, err
	}
	return &Packed{Ref: ref, Descriptor: desc, Manifest: pkg.Manifest}, nil
}

// Export writes the files of the package ref under dir.
func (s *Store) Export(ctx context.Context, ref, dir string) error {
	desc, err := s.Resolve(ctx, ref)
	if err != nil {
		return err
	}
	return artifact.Export(ctx, s, desc, dir)
}

// Read reads the package ref.
func (s *Store) Read(ctx context.Context, ref string) (*artifact.Package, error) {
	desc, err := s.Resolve(ctx, ref)
	if err != nil {
		return nil, err
	}
	return artifact.Read(ctx, s, desc)
}

package transfer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"

	"github.com/mlos-foundation/axon/internal/artifact"
	"github.com/mlos-foundation/axon/internal/progress"
	"github.com/mlos-foundation/axon/internal/reference"
	"github.com/mlos-foundation/axon/internal/store"
	"github.com/mlos-foundation/axon/schemas"
)

// PushTarget works out where `axon push SRC [TARGET]` goes: TARGET as given
// (its tag defaulting to the package version), a bare HOST[:PORT] meaning that
// registry under the package's own name, or DefaultTarget() when empty.
func PushTarget(target string, m *schemas.Manifest) (reference.Ref, error) {
	repo := m.Namespace + "/" + m.Name
	if target == "" {
		target = DefaultTarget()
	}
	if !strings.Contains(target, "/") {
		target = strings.TrimSuffix(target, "/") + "/" + repo + ":" + m.Version
	}
	r, err := reference.ParseRemote(target)
	if err != nil {
		return r, err
	}
	last := target[strings.LastIndex(target, "/")+1:]
	if !strings.ContainsAny(last, ":@") {
		r.Tag = m.Version
	}
	if r.Tag == "" {
		return r, fmt.Errorf("push target %s: name a tag (HOST/REPOSITORY:TAG), not only a digest", target)
	}
	r.Digest = ""
	return r, nil
}

// Push copies the package src from the store to a registry and records the
// registry repository in the store (store.Remotes).
func Push(ctx context.Context, st *store.Store, src, target string, opts ...Option) (*Result, error) {
	o, err := build(opts)
	if err != nil {
		return nil, err
	}
	desc, err := st.Resolve(ctx, src)
	if err != nil {
		return nil, fmt.Errorf("push %s: %w", src, err)
	}
	return pushDesc(ctx, st, src, desc, target, o)
}

// pushDigest pushes the stored manifest desc (src names it for messages and
// the default target).
func pushDigest(ctx context.Context, st *store.Store, src string, desc ocispec.Descriptor, target string, opts ...Option) (*Result, error) {
	o, err := build(opts)
	if err != nil {
		return nil, err
	}
	return pushDesc(ctx, st, src, desc, target, o)
}

func pushDesc(ctx context.Context, st *store.Store, src string, desc ocispec.Descriptor, target string, o *Options) (*Result, error) {
	start := time.Now()
	pkg, err := artifact.Read(ctx, st, desc)
	if err != nil {
		return nil, fmt.Errorf("push %s: %w", src, err)
	}
	if target == "" {
		// Like docker: a package tagged with a registry reference goes there.
		if r, err := reference.Parse(src); err == nil && r.IsRemote() && r.Tag != "" {
			target = r.Registry + "/" + r.Repository + ":" + r.Tag
		}
	}
	defaulted := target == ""
	dst, err := PushTarget(target, pkg.Manifest)
	if err != nil {
		return nil, fmt.Errorf("push %s: %w", src, err)
	}
	repo, err := repository(dst, o)
	if err != nil {
		return nil, fmt.Errorf("push %s: %w", src, err)
	}
	tr := newTracker(o.Progress, pkg.OCI)
	srcT := &storeSource{st: st, root: desc, tr: tr}
	copyOpts := oras.CopyOptions{CopyGraphOptions: oras.CopyGraphOptions{
		Concurrency:   o.Concurrency,
		PreCopy:       tr.pre,
		PostCopy:      tr.post("pushed"),
		OnCopySkipped: tr.skipped,
	}}
	_, err = oras.Copy(ctx, srcT, desc.Digest.String(), repo, dst.Tag, copyOpts)
	o.Progress.Wait()
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("push %s to %s: %w", src, dst, &explained{"interrupted; push again to finish (blobs already sent are skipped)", ctx.Err()})
		}
		var oe *net.OpError
		if defaulted && errors.As(err, &oe) && oe.Op == "dial" {
			return nil, fmt.Errorf("push %s to %s: %w (without TARGET, packages go to $AXON_REGISTRY, now %s; set it to your registry, or give TARGET)", src, dst, explain(err), DefaultTarget())
		}
		return nil, fmt.Errorf("push %s to %s: %w", src, dst, explain(err))
	}
	if err := st.AddRemote(ctx, desc.Digest, dst.RepositoryURL()); err != nil {
		return nil, fmt.Errorf("push %s: record remote: %w", src, err)
	}
	res := tr.result()
	res.Ref, res.Descriptor, res.Elapsed = dst.String(), desc, time.Since(start)
	return res, nil
}

// storeSource is the store as an oras source: reads count toward progress.
type storeSource struct {
	st   *store.Store
	root ocispec.Descriptor
	tr   *tracker
}

// Fetch reads what oras-go walks (manifests, configs: small, and read by the
// copy itself) through the store's verifying Fetch; a file layer of
// sendThreshold or more goes to the registry as the stored file, unhashed
// here: the registry checks its digest (PUT ?digest=) and refuses a damaged
// copy, which explain() then names as the local store's problem.
func (s *storeSource) Fetch(ctx context.Context, d ocispec.Descriptor) (io.ReadCloser, error) {
	var rc io.ReadCloser
	var err error
	if d.Size >= sendThreshold && !store.IsManifest(d.MediaType) {
		rc, err = s.st.Send(d)
	} else {
		rc, err = s.st.Fetch(ctx, d)
	}
	if err != nil {
		return nil, err
	}
	return s.tr.wrap(d, rc), nil
}

// sendThreshold: smaller blobs are hashed on the way out (a damaged one is
// caught before any request); bigger ones are left to the registry's check.
const sendThreshold = 1 << 20

func (s *storeSource) Exists(ctx context.Context, d ocispec.Descriptor) (bool, error) {
	return s.st.Exists(ctx, d)
}

func (s *storeSource) Resolve(ctx context.Context, ref string) (ocispec.Descriptor, error) {
	if ref == s.root.Digest.String() {
		return s.root, nil
	}
	return s.st.Resolve(ctx, ref)
}

// tracker maps blobs to progress bars and counts what moved.
type tracker struct {
	rep   progress.Reporter
	names map[string]string
	mu    sync.Mutex
	bars  map[string]progress.Bar
	res   Result
	// fetched are blobs moved before the copy began (a pull's manifest.yaml):
	// when the copy finds them present they count as moved.
	fetched map[string]bool
}

func newTracker(rep progress.Reporter, m *ocispec.Manifest) *tracker {
	t := &tracker{rep: rep, names: map[string]string{}, bars: map[string]progress.Bar{}}
	if m != nil {
		t.names[m.Config.Digest.String()] = schemas.ManifestFile
		if m.Config.MediaType != schemas.MediaTypeManifest {
			t.names[m.Config.Digest.String()] = "model config" // ModelPack, Kitfile, Docker model config
		}
		for _, l := range m.Layers {
			if n := artifact.LayerPath(l); n != "" {
				t.names[l.Digest.String()] = n
			}
		}
	}
	return t
}

func (t *tracker) name(d ocispec.Descriptor) (string, bool) {
	n, ok := t.names[d.Digest.String()]
	return n, ok
}

func (t *tracker) bar(d ocispec.Descriptor) progress.Bar {
	t.mu.Lock()
	defer t.mu.Unlock()
	if b, ok := t.bars[d.Digest.String()]; ok {
		return b
	}
	n, ok := t.name(d)
	if !ok {
		return nil
	}
	b := t.rep.Start(n, d.Size)
	t.bars[d.Digest.String()] = b
	return b
}

func (t *tracker) pre(_ context.Context, d ocispec.Descriptor) error {
	t.bar(d)
	return nil
}

func (t *tracker) post(status string) func(context.Context, ocispec.Descriptor) error {
	return func(_ context.Context, d ocispec.Descriptor) error {
		t.mu.Lock()
		t.res.Blobs++
		t.res.Bytes += d.Size
		t.mu.Unlock()
		if b := t.bar(d); b != nil {
			b.Done(status)
		}
		return nil
	}
}

func (t *tracker) skipped(ctx context.Context, d ocispec.Descriptor) error {
	if t.fetched[d.Digest.String()] {
		return t.post("pulled")(ctx, d)
	}
	t.mu.Lock()
	t.res.Skipped++
	t.mu.Unlock()
	if b := t.bar(d); b != nil {
		b.Done("exists")
	}
	return nil
}

func (t *tracker) result() *Result {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.res
	return &r
}

// wrap counts the bytes read from rc for d's bar. Without a live display rc
// goes out as it is: a blob file of the store then reaches the socket by
// sendfile. The registry checks each blob's digest on upload (PUT ?digest=),
// so pushing needs no second hashing pass here.
func (t *tracker) wrap(d ocispec.Descriptor, rc io.ReadCloser) io.ReadCloser {
	b := t.bar(d)
	if b == nil || !t.rep.Live() {
		return rc
	}
	return &countingRC{ReadCloser: rc, bar: b}
}

type countingRC struct {
	io.ReadCloser
	bar progress.Bar
}

func (c *countingRC) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	if n > 0 {
		c.bar.Add(int64(n))
	}
	return n, err
}

// Seek keeps the underlying reader's seeking (for ranged resumes).
func (c *countingRC) Seek(off int64, whence int) (int64, error) {
	s, ok := c.ReadCloser.(io.Seeker)
	if !ok {
		return 0, errors.New("not seekable")
	}
	return s.Seek(off, whence)
}

var _ content.ReadOnlyStorage = (*storeSource)(nil)

package transfer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/mlos-foundation/axon/internal/artifact"
	"github.com/mlos-foundation/axon/internal/fsutil"
	"github.com/mlos-foundation/axon/internal/progress"
	"github.com/mlos-foundation/axon/internal/reference"
	"github.com/mlos-foundation/axon/internal/store"
	"github.com/mlos-foundation/axon/schemas"
)

// digestRE finds the digest oras names in a blob's "not found".
var digestRE = regexp.MustCompile(`sha256:[0-9a-f]{64}`)

// resumeThreshold: blobs at least this big are downloaded through a partial
// file in the store's ingest area that a later pull continues with a Range request.
const resumeThreshold = 1 << 20

// copyBuf is the size of the reads a download makes. Each chunk is copied
// from the socket, hashed and copied into the page cache while it is still
// in the core's cache (L2 is 1 MiB a core here, shared with the socket's and
// the page cache's lines): 1 MiB chunks made the kernel's copy into the page
// cache read them back from memory, costing up to twice the system time of
// 128 KiB ones when other processes used the memory too, for 8x fewer syscalls
// that cost far less.
const copyBuf = 128 << 10

// Pull copies a package from a registry into the store and tags it with the
// registry reference. An artifact that is not an axon package is refused with
// an *artifact.NotPackageError that lists its files.
func Pull(ctx context.Context, st *store.Store, target string, opts ...Option) (*Result, error) {
	o, err := build(opts)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	ref, local, err := pullRef(target)
	if err != nil {
		return nil, err
	}
	if local != "" {
		target = fmt.Sprintf("%s (%s)", target, ref)
	}
	repo, err := repository(ref, o)
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", target, err)
	}
	desc, raw, man, format, err := packageManifest(ctx, repo, ref)
	if err != nil {
		var oe *net.OpError
		if local != "" && errors.As(err, &oe) && oe.Op == "dial" {
			// The user named no registry: say where the name was looked for.
			return nil, fmt.Errorf("pull %s: %w (a package name is pulled from $AXON_REGISTRY, now %s; set it to your registry, or give HOST/REPOSITORY:TAG)", target, err, DefaultTarget())
		}
		return nil, fmt.Errorf("pull %s: %w", target, err)
	}
	release, err := st.Lease(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	// Validate manifest.yaml before moving gigabytes; keep it so the copy
	// below does not fetch it twice.
	if format != artifact.FormatAxon && man.Config.Size > 4<<20 {
		return nil, fmt.Errorf("pull %s: its %s config is %d bytes; refusing more than 4 MiB", target, artifact.FormatTitle(format), man.Config.Size)
	}
	var src content.Fetcher = repo
	haveCfg, _ := st.Exists(ctx, man.Config)
	if haveCfg {
		src = st
	}
	cfgRC, err := src.Fetch(ctx, man.Config)
	if err != nil {
		return nil, fmt.Errorf("pull %s: manifest.yaml: %w", target, explain(err))
	}
	cfg, err := content.ReadAll(cfgRC, man.Config)
	cfgRC.Close()
	if err != nil {
		return nil, fmt.Errorf("pull %s: manifest.yaml: %w", target, err)
	}
	var foreign *artifact.Foreign
	if format != artifact.FormatAxon {
		// Another tool's model artifact: its config and layer paths are checked
		// before its files move.
		if foreign, err = artifact.DescribeForeign(format, man, cfg); err != nil {
			return nil, fmt.Errorf("pull %s: %w", target, err)
		}
	} else {
		pm, err := schemas.Parse(cfg)
		if err != nil {
			return nil, fmt.Errorf("pull %s: not a valid axon package: manifest.yaml: %w", target, err)
		}
		if err := artifact.CheckFileDigests(man.Layers, pm); err != nil {
			return nil, fmt.Errorf("pull %s: not a valid axon package: %w", target, err)
		}
	}
	if err := st.Push(ctx, man.Config, bytes.NewReader(cfg)); err != nil {
		return nil, fmt.Errorf("pull %s: store manifest.yaml: %w", target, err)
	}
	tr := newTracker(o.Progress, man)
	if !haveCfg {
		// Fetched above, so the copy finds it present: it was pulled, not already here.
		tr.fetched = map[string]bool{man.Config.Digest.String(): true}
	}
	dst := &pullTarget{st: st, tr: tr}
	err = oras.CopyGraph(ctx, &knownRoot{ReadOnlyStorage: repo, desc: desc, raw: raw}, dst, desc, oras.CopyGraphOptions{
		Concurrency:   o.Concurrency,
		PreCopy:       tr.pre,
		PostCopy:      tr.post("pulled"),
		OnCopySkipped: tr.skipped,
	})
	o.Progress.Wait()
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("pull %s: %w", target, &explained{"interrupted; run the same pull again to resume", ctx.Err()})
		}
		var missing *store.MissingError
		if errors.Is(err, errdef.ErrNotFound) && !errors.As(err, &missing) {
			// The manifest was there; what is not is one of its blobs.
			blob := "a blob"
			if d := digestRE.FindString(err.Error()); d != "" {
				blob = "blob " + d
			}
			return nil, fmt.Errorf("pull %s: %w", target, &explained{"the registry lacks " + blob +
				" of this package: it was pushed incompletely or garbage-collected; push it again", err})
		}
		return nil, fmt.Errorf("pull %s: %w", target, explain(err))
	}
	if foreign != nil {
		// Compressed layers against the DiffIDs the config lists, before the
		// artifact gets a name in the store (untagged, its blobs are collected).
		if err := artifact.VerifyDiffIDs(ctx, st, foreign); err != nil {
			return nil, fmt.Errorf("pull %s: %w", target, err)
		}
	}
	if err := st.Tag(ctx, desc, ref.String()); err != nil {
		return nil, fmt.Errorf("pull %s: %w", target, err)
	}
	if local != "" {
		if err := st.Tag(ctx, desc, local); err != nil {
			return nil, fmt.Errorf("pull %s: %w", target, err)
		}
	}
	if err := st.AddRemote(ctx, desc.Digest, ref.RepositoryURL()); err != nil {
		return nil, fmt.Errorf("pull %s: %w", target, err)
	}
	res := tr.result()
	res.Ref, res.Descriptor, res.Elapsed = ref.String(), desc, time.Since(start)
	return res, nil
}

// pullRef resolves what `axon pull` was given: a registry reference as it is,
// or a package name (NAMESPACE/NAME@VERSION), which is looked for in
// DefaultTarget() and also keeps that name in the store.
func pullRef(target string) (ref reference.Ref, local string, err error) {
	r, err := reference.Parse(target)
	if err != nil {
		return r, "", err
	}
	if r.IsRemote() {
		return r, "", nil
	}
	remote := DefaultTarget() + "/" + r.Repository
	if r.Digest != "" {
		remote += "@" + r.Digest.String()
	} else {
		remote += ":" + r.Tag
		local = r.String()
	}
	ref, err = reference.ParseRemote(remote)
	return ref, local, err
}

// knownRoot serves the manifest already fetched (and verified) from memory,
// sparing the copy a second request for it.
type knownRoot struct {
	content.ReadOnlyStorage
	desc ocispec.Descriptor
	raw  []byte
}

func (k *knownRoot) Fetch(ctx context.Context, d ocispec.Descriptor) (io.ReadCloser, error) {
	if d.Digest == k.desc.Digest {
		return io.NopCloser(bytes.NewReader(k.raw)), nil
	}
	return k.ReadOnlyStorage.Fetch(ctx, d)
}

// pullTarget is the store as an oras destination whose big blobs are written
// resumably and verified before they enter the layout.
type pullTarget struct {
	st *store.Store
	tr *tracker
}

func (p *pullTarget) Fetch(ctx context.Context, d ocispec.Descriptor) (io.ReadCloser, error) {
	return p.st.Fetch(ctx, d)
}

func (p *pullTarget) Exists(ctx context.Context, d ocispec.Descriptor) (bool, error) {
	return p.st.Exists(ctx, d)
}

func (p *pullTarget) Push(ctx context.Context, d ocispec.Descriptor, r io.Reader) error {
	bar := p.tr.bar(d)
	if d.Size < resumeThreshold || d.MediaType == ocispec.MediaTypeImageManifest || d.MediaType == ocispec.MediaTypeImageIndex {
		if bar != nil {
			r = &countingCtxReader{ctx: ctx, r: r, bar: bar}
		}
		return p.st.Push(ctx, d, r)
	}
	return p.resumable(ctx, d, r, bar)
}

// resumable downloads through the store's resumable writer (partial file
// <alg>-<hex>), continuing what an interrupted pull left (Range request
// through the reader's Seek); the store checks size and digest before the
// blob enters the layout.
func (p *pullTarget) resumable(ctx context.Context, d ocispec.Descriptor, r io.Reader, bar progress.Bar) error {
	if err := d.Digest.Validate(); err != nil || d.Digest.Algorithm() != digest.SHA256 {
		return fmt.Errorf("%s: unsupported digest", d.Digest)
	}
	// One writer per partial file, also across processes; waiting for
	// another pull's ends with ctx (ctrl-C).
	w, err := p.st.Writer(ctx, d.Digest.Algorithm().String()+"-"+d.Digest.Encoded())
	if err != nil {
		return fmt.Errorf("download %s: %w", d.Digest, err)
	}
	defer w.Close()
	if ok, _ := p.st.Exists(ctx, d); ok {
		w.Truncate()
		return nil
	}
	have := w.Offset()
	if have > d.Size {
		have = 0
	}
	if have > 0 {
		if s, ok := r.(io.Seeker); !ok || seekTo(s, have) != nil {
			have = 0
		}
	}
	if have == 0 && w.Offset() > 0 {
		if err := w.Truncate(); err != nil {
			return err
		}
	}
	if bar != nil {
		bar.SetCurrent(have)
	}
	off := have
	buf := make([]byte, copyBuf)
	for attempt := 0; ; attempt++ {
		n, err := io.CopyBuffer(w, &countingCtxReader{ctx: ctx, r: io.LimitReader(r, d.Size-off), bar: bar}, buf)
		off += n
		if err == nil {
			break
		}
		// A dropped connection mid-blob: continue from where it stopped.
		s, ok := r.(io.Seeker)
		if ctx.Err() != nil || !ok || attempt >= 3 || seekTo(s, off) != nil {
			return fmt.Errorf("download %s: %w (the partial download is kept; pull again to resume)", d.Digest, err)
		}
	}
	if off != d.Size {
		return fmt.Errorf("download %s: got %d bytes, want %d (the partial download is kept; pull again to resume)", d.Digest, off, d.Size)
	}
	if _, err := w.Commit(ctx, d.Size, d.Digest); err != nil {
		if errors.Is(err, fsutil.ErrMismatch) {
			return fmt.Errorf("download %s: %w; discarded", d.Digest, err)
		}
		return fmt.Errorf("download %s: %w", d.Digest, err)
	}
	return nil
}

func seekTo(s io.Seeker, off int64) error {
	got, err := s.Seek(off, io.SeekStart)
	if err != nil {
		return err
	}
	if got != off {
		return errors.New("short seek")
	}
	return nil
}

// countingCtxReader counts what r gives into bar (when not nil) and stops
// reading once ctx ends.
type countingCtxReader struct {
	ctx context.Context
	r   io.Reader
	bar progress.Bar
}

func (c *countingCtxReader) Read(b []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.r.Read(b)
	if n > 0 && c.bar != nil {
		c.bar.Add(int64(n))
	}
	return n, err
}

// Inspect reads a package's manifest and manifest.yaml from a registry
// without pulling its files.
func Inspect(ctx context.Context, target string, opts ...Option) (*artifact.Package, error) {
	ref, repo, err := openTarget("inspect", target, opts)
	if err != nil {
		return nil, err
	}
	desc, raw, man, format, err := packageManifest(ctx, repo, ref)
	if err != nil {
		return nil, fmt.Errorf("inspect %s: %w", target, err)
	}
	if format != artifact.FormatAxon {
		pkg, err := artifact.Read(ctx, &knownRoot{ReadOnlyStorage: repo, desc: desc, raw: raw}, desc)
		if err != nil {
			return nil, fmt.Errorf("inspect %s: %w", target, explain(err))
		}
		return pkg, nil
	}
	cfg, err := content.FetchAll(ctx, repo, man.Config)
	if err != nil {
		return nil, fmt.Errorf("inspect %s: manifest.yaml: %w", target, explain(err))
	}
	pm, err := schemas.Parse(cfg)
	if err != nil {
		return nil, fmt.Errorf("inspect %s: manifest.yaml: %w", target, err)
	}
	return &artifact.Package{Descriptor: desc, OCI: man, Manifest: pm, RawOCI: raw, RawConfig: cfg, Format: artifact.FormatAxon}, nil
}

// packageManifest fetches the manifest ref names (checked against ref's digest
// when it has one) and checks that it is an axon package's or a model
// artifact of a format axon reads (ModelPack, ModelKit, Docker Model Runner).
func packageManifest(ctx context.Context, repo *remote.Repository, ref reference.Ref) (ocispec.Descriptor, []byte, *ocispec.Manifest, string, error) {
	desc, rc, err := repo.FetchReference(ctx, ref.Reference())
	if err != nil {
		return desc, nil, nil, "", explain(err)
	}
	raw, err := content.ReadAll(rc, desc)
	rc.Close()
	if err != nil {
		return desc, nil, nil, "", fmt.Errorf("manifest: %w", err)
	}
	if ref.Digest != "" && desc.Digest != ref.Digest {
		return desc, nil, nil, "", fmt.Errorf("the registry answered with %s", desc.Digest)
	}
	man, format, err := artifact.CheckAny(raw, desc)
	if err != nil {
		// Say what does fetch it, so the answer is not a dead end.
		return desc, nil, nil, "", fmt.Errorf("%w (oras pull fetches any artifact's files)", err)
	}
	return desc, raw, man, format, nil
}

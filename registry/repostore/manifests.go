package repostore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"sort"
	"strings"

	"github.com/mlos-foundation/axon/registry/names"
	"github.com/mlos-foundation/axon/registry/storage/driver"
	"github.com/mlos-foundation/axon/schemas"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Docker manifest media types the registry understands structurally; others are stored as given.
const (
	mtDockerManifest = schemas.MediaTypeDockerManifest
	mtDockerList     = schemas.MediaTypeDockerManifestList
)

// ManifestMediaType reports whether mt is one of the manifest media types the
// registry accepts (OCI image manifest and index, Docker schema 2 manifest and list).
func ManifestMediaType(mt string) bool { return schemas.IsManifestMediaType(mt) }

// manifestDoc is the union of image manifest and index fields the registry reads.
type manifestDoc struct {
	SchemaVersion *int                 `json:"schemaVersion"`
	MediaType     string               `json:"mediaType"`
	ArtifactType  string               `json:"artifactType"`
	Config        *ocispec.Descriptor  `json:"config"`
	Layers        []ocispec.Descriptor `json:"layers"`
	Manifests     []ocispec.Descriptor `json:"manifests"`
	Subject       *ocispec.Descriptor  `json:"subject"`
	Annotations   map[string]string    `json:"annotations"`
}

// ParseManifest validates a manifest body and returns its document and media type.
// contentType is the request's Content-Type (may be empty).
func ParseManifest(contentType string, body []byte) (*manifestDoc, string, error) {
	var doc manifestDoc
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&doc); err != nil {
		return nil, "", fmt.Errorf("%w: not a JSON manifest: %v", ErrManifestInvalid, err)
	}
	if dec.More() {
		return nil, "", fmt.Errorf("%w: trailing data after the JSON document", ErrManifestInvalid)
	}
	if doc.SchemaVersion == nil || *doc.SchemaVersion != 2 {
		return nil, "", fmt.Errorf("%w: schemaVersion must be 2", ErrManifestInvalid)
	}
	mt := ""
	if contentType != "" {
		if parsed, _, err := mime.ParseMediaType(contentType); err == nil {
			mt = parsed
		}
	}
	if doc.MediaType != "" {
		if mt != "" && mt != doc.MediaType && mt != "application/octet-stream" && mt != "application/json" {
			return nil, "", fmt.Errorf("%w: Content-Type %q differs from the manifest's mediaType %q", ErrManifestInvalid, mt, doc.MediaType)
		}
		mt = doc.MediaType
	}
	if mt == "" {
		return nil, "", fmt.Errorf("%w: no media type (set Content-Type or mediaType)", ErrManifestInvalid)
	}
	if !ManifestMediaType(mt) {
		// whatever is stored is served back with its media type: only manifest
		// types, never one a browser would render (text/html and the like)
		return nil, "", fmt.Errorf("%w: media type %q is not an OCI or Docker manifest type", ErrManifestInvalid, mt)
	}
	isIndex := mt == ocispec.MediaTypeImageIndex || mt == mtDockerList
	isImage := mt == ocispec.MediaTypeImageManifest || mt == mtDockerManifest
	switch {
	case isImage:
		if doc.Config == nil {
			return nil, "", fmt.Errorf("%w: image manifest without config", ErrManifestInvalid)
		}
		if doc.Manifests != nil {
			return nil, "", fmt.Errorf("%w: image manifest with a manifests list", ErrManifestInvalid)
		}
	case isIndex:
		if doc.Config != nil || doc.Layers != nil {
			return nil, "", fmt.Errorf("%w: index with config or layers", ErrManifestInvalid)
		}
	}
	check := func(what string, d ocispec.Descriptor) error {
		if _, err := names.ParseDigest(d.Digest.String()); err != nil {
			return fmt.Errorf("%w: %s: %v", ErrManifestInvalid, what, err)
		}
		if d.Size < 0 {
			return fmt.Errorf("%w: %s: negative size", ErrManifestInvalid, what)
		}
		if d.MediaType == "" && (isImage || isIndex) {
			return fmt.Errorf("%w: %s: no mediaType", ErrManifestInvalid, what)
		}
		return nil
	}
	if doc.Config != nil {
		if err := check("config", *doc.Config); err != nil {
			return nil, "", err
		}
	}
	for i, l := range doc.Layers {
		if err := check(fmt.Sprintf("layers[%d]", i), l); err != nil {
			return nil, "", err
		}
	}
	for i, m := range doc.Manifests {
		if err := check(fmt.Sprintf("manifests[%d]", i), m); err != nil {
			return nil, "", err
		}
	}
	if doc.Subject != nil {
		if err := check("subject", *doc.Subject); err != nil {
			return nil, "", err
		}
	}
	return &doc, mt, nil
}

// references lists every digest a manifest keeps alive.
func (doc *manifestDoc) references() []digest.Digest {
	var ds []digest.Digest
	if doc.Config != nil {
		ds = append(ds, doc.Config.Digest)
	}
	for _, l := range doc.Layers {
		if len(l.URLs) == 0 {
			ds = append(ds, l.Digest)
		}
	}
	for _, m := range doc.Manifests {
		ds = append(ds, m.Digest)
	}
	if doc.Subject != nil {
		ds = append(ds, doc.Subject.Digest)
	}
	return ds
}

// artifactType is what the referrers API reports for a manifest.
func (doc *manifestDoc) artifactType() string {
	if doc.ArtifactType != "" {
		return doc.ArtifactType
	}
	if doc.Config != nil {
		return doc.Config.MediaType
	}
	return ""
}

// PutResult is what a manifest push stored.
type PutResult struct {
	Descriptor ocispec.Descriptor
	Subject    *ocispec.Descriptor
}

// PutManifest verifies and stores a manifest under ref (tag or digest).
func (s *Store) PutManifest(ctx context.Context, repo string, ref names.Reference, contentType string, body []byte) (PutResult, error) {
	if err := checkRepo(repo); err != nil {
		return PutResult{}, err
	}
	if ref.Tag != "" {
		if err := checkTag(ref.Tag); err != nil {
			return PutResult{}, err
		}
	}
	doc, mt, err := ParseManifest(contentType, body)
	if err != nil {
		return PutResult{}, err
	}
	alg := digest.Canonical
	if ref.Digest != "" {
		alg = ref.Digest.Algorithm()
	}
	dgst := alg.FromBytes(body)
	if ref.Digest != "" && ref.Digest != dgst {
		return PutResult{}, fmt.Errorf("%w: manifest digest is %s", ErrDigestMismatch, dgst)
	}
	desc := ocispec.Descriptor{MediaType: mt, Digest: dgst, Size: int64(len(body)), ArtifactType: doc.artifactType()}

	unlock := s.lockRepo(repo)
	defer unlock()

	// GC safety: record every digest we rely on before checking it exists (gc.go).
	refs := doc.references()
	done := s.use(append(refs, dgst)...)
	defer done()
	since, err := s.protect(ctx, append(refs, dgst)...)
	if err != nil {
		return PutResult{}, err
	}

	// every blob must already belong to this repository (pushed or mounted
	// into it): a manifest cannot link in another repository's blob by naming
	// its digest, which with auth on would read past that repository's access
	need := func(d digest.Digest) error {
		err := s.linked(ctx, repo, d)
		if err == nil {
			_, err = s.statBlob(ctx, d)
		}
		if errors.Is(err, ErrBlobUnknown) {
			return &BlobUnknownError{Digest: d}
		}
		return err
	}
	if doc.Config != nil {
		if err := need(doc.Config.Digest); err != nil {
			return PutResult{}, err
		}
	}
	for _, l := range doc.Layers {
		if len(l.URLs) > 0 {
			continue // non-distributable: lives elsewhere
		}
		if err := need(l.Digest); err != nil {
			return PutResult{}, err
		}
	}
	for _, m := range doc.Manifests {
		if err := need(m.Digest); err != nil {
			return PutResult{}, err
		}
	}

	// bytes first, then the links that make them reachable; all of it, even if the
	// client hangs up meanwhile
	ctx = context.WithoutCancel(ctx)
	if ok, err := s.exists(ctx, blobPath(dgst)); err != nil {
		return PutResult{}, err
	} else if !ok {
		if err := s.d.PutContent(ctx, blobPath(dgst), body); err != nil {
			return PutResult{}, fmt.Errorf("store manifest %s: %w", dgst, err)
		}
	}
	if doc.Config != nil {
		if err := s.link(ctx, repo, doc.Config.Digest); err != nil {
			return PutResult{}, err
		}
	}
	for _, l := range doc.Layers {
		if len(l.URLs) == 0 {
			if err := s.link(ctx, repo, l.Digest); err != nil {
				return PutResult{}, err
			}
		}
	}
	descJSON, _ := json.Marshal(ocispec.Descriptor{MediaType: mt, Digest: dgst, Size: desc.Size})
	if err := s.holdOK(since); err != nil {
		return PutResult{}, err
	}
	if err := s.d.PutContent(ctx, revisionLink(repo, dgst), descJSON); err != nil {
		return PutResult{}, fmt.Errorf("link manifest %s: %w", dgst, err)
	}
	res := PutResult{Descriptor: desc}
	if doc.Subject != nil {
		rd := ocispec.Descriptor{MediaType: mt, Digest: dgst, Size: desc.Size, ArtifactType: doc.artifactType(), Annotations: doc.Annotations}
		b, _ := json.Marshal(rd)
		if err := s.d.PutContent(ctx, referrerLink(repo, doc.Subject.Digest, dgst), b); err != nil {
			return PutResult{}, fmt.Errorf("index referrer %s: %w", dgst, err)
		}
		subj := *doc.Subject
		res.Subject = &subj
	}
	if ref.Tag != "" {
		if err := s.d.PutContent(ctx, tagLink(repo, ref.Tag), descJSON); err != nil {
			return PutResult{}, fmt.Errorf("tag %s:%s: %w", repo, ref.Tag, err)
		}
	}
	s.emit(Event{Action: "push", Repository: repo, Tag: ref.Tag, Digest: dgst})
	return res, nil
}

func (s *Store) readLink(ctx context.Context, p string, notFound error) (ocispec.Descriptor, error) {
	b, err := s.d.GetContent(ctx, p)
	if err != nil {
		if isNotFound(err) {
			return ocispec.Descriptor{}, notFound
		}
		return ocispec.Descriptor{}, fmt.Errorf("read %s: %w", p, err)
	}
	var d ocispec.Descriptor
	if err := json.Unmarshal(b, &d); err != nil || d.Digest.Validate() != nil {
		return ocispec.Descriptor{}, fmt.Errorf("corrupt link %s", p)
	}
	return d, nil
}

// ResolveRef finds the descriptor of a manifest by tag or digest.
func (s *Store) ResolveRef(ctx context.Context, repo string, ref names.Reference) (ocispec.Descriptor, error) {
	if err := checkRepo(repo); err != nil {
		return ocispec.Descriptor{}, err
	}
	if ref.Digest != "" {
		return s.readLink(ctx, revisionLink(repo, ref.Digest), ErrManifestUnknown)
	}
	if err := checkTag(ref.Tag); err != nil {
		return ocispec.Descriptor{}, err
	}
	desc, err := s.readLink(ctx, tagLink(repo, ref.Tag), ErrManifestUnknown)
	if err != nil {
		return desc, err
	}
	// a tag answers only while its manifest does: never a tag whose by-digest GET is 404
	if ok, err := s.exists(ctx, revisionLink(repo, desc.Digest)); err != nil {
		return ocispec.Descriptor{}, err
	} else if !ok {
		return ocispec.Descriptor{}, ErrManifestUnknown
	}
	return desc, nil
}

// GetManifest returns a manifest's descriptor and bytes.
func (s *Store) GetManifest(ctx context.Context, repo string, ref names.Reference) (ocispec.Descriptor, []byte, error) {
	desc, err := s.ResolveRef(ctx, repo, ref)
	if err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	b, err := s.d.GetContent(ctx, blobPath(desc.Digest))
	if err != nil {
		if isNotFound(err) {
			return ocispec.Descriptor{}, nil, ErrManifestUnknown
		}
		return ocispec.Descriptor{}, nil, fmt.Errorf("read manifest %s: %w", desc.Digest, err)
	}
	return desc, b, nil
}

// DeleteManifest deletes a tag (ref.Tag) or a manifest and every tag pointing at it (ref.Digest).
func (s *Store) DeleteManifest(ctx context.Context, repo string, ref names.Reference) error {
	if err := checkRepo(repo); err != nil {
		return err
	}
	unlock := s.lockRepo(repo)
	defer unlock()
	if ref.Tag != "" {
		if err := checkTag(ref.Tag); err != nil {
			return err
		}
		desc, err := s.readLink(ctx, tagLink(repo, ref.Tag), ErrManifestUnknown)
		if err != nil {
			return err
		}
		// the link only, not its directory: a concurrent write of the same tag
		// keeps its file there, and an emptied directory is pruned by the driver
		if err := s.d.Delete(ctx, tagLink(repo, ref.Tag)); err != nil && !isNotFound(err) {
			return fmt.Errorf("delete tag %s: %w", ref.Tag, err)
		}
		s.emit(Event{Action: "delete", Repository: repo, Tag: ref.Tag, Digest: desc.Digest})
		return nil
	}
	d := ref.Digest
	if _, err := s.readLink(ctx, revisionLink(repo, d), ErrManifestUnknown); err != nil {
		return err
	}
	// drop the referrers entry this manifest made
	if b, err := s.d.GetContent(ctx, blobPath(d)); err == nil {
		if doc, _, err := ParseManifest("", b); err == nil && doc.Subject != nil {
			if err := s.d.Delete(ctx, referrerLink(repo, doc.Subject.Digest, d)); err != nil && !isNotFound(err) {
				return fmt.Errorf("remove referrer %s: %w", d, err)
			}
		}
	}
	tags, err := s.allTags(ctx, repo)
	if err != nil {
		return err
	}
	for _, t := range tags {
		desc, err := s.readLink(ctx, tagLink(repo, t), ErrManifestUnknown)
		if err == nil && desc.Digest == d {
			if err := s.d.Delete(ctx, tagLink(repo, t)); err != nil && !isNotFound(err) {
				return fmt.Errorf("delete tag %s: %w", t, err)
			}
			s.emit(Event{Action: "delete", Repository: repo, Tag: t, Digest: d})
		}
	}
	if err := s.d.Delete(ctx, revisionLink(repo, d)); err != nil && !isNotFound(err) {
		return fmt.Errorf("delete manifest %s: %w", d, err)
	}
	s.emit(Event{Action: "delete", Repository: repo, Digest: d})
	return nil
}

func (s *Store) allTags(ctx context.Context, repo string) ([]string, error) {
	dir := tagsDir(repo)
	ps, err := s.d.List(ctx, dir)
	if err != nil {
		if isNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("list tags of %s: %w", repo, err)
	}
	tags := make([]string, 0, len(ps))
	for _, p := range ps {
		tags = append(tags, strings.TrimPrefix(p, dir+"/"))
	}
	sort.Strings(tags)
	return tags, nil
}

// repoExists reports whether anything was ever pushed to repo.
func (s *Store) repoExists(ctx context.Context, repo string) (bool, error) {
	ok, err := s.exists(ctx, repoPath(repo)+"/_manifests")
	if err != nil || ok {
		return ok, err
	}
	return s.exists(ctx, repoPath(repo)+"/_layers")
}

// ListTags lists tags in lexical order after last, at most n (n < 0: all).
func (s *Store) ListTags(ctx context.Context, repo string, n int, last string) ([]string, error) {
	if err := checkRepo(repo); err != nil {
		return nil, err
	}
	tags, err := s.allTags(ctx, repo)
	if err != nil {
		return nil, err
	}
	if len(tags) == 0 {
		ok, err := s.repoExists(ctx, repo)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, ErrNameUnknown
		}
	}
	return page(tags, n, last), nil
}

func page(all []string, n int, last string) []string {
	if last != "" {
		i := sort.SearchStrings(all, last)
		if i < len(all) && all[i] == last {
			i++
		}
		all = all[i:]
	}
	if n >= 0 && len(all) > n {
		all = all[:n]
	}
	return all
}

// ListRepositories lists repository names in lexical order after last, at most n (n < 0: all).
// The walk skips the subtrees that cannot hold a name of the page: those wholly at
// or before last, and, once n names are found, those wholly after the n-th. So a
// client paging through the catalog (the web UI's seed among them) walks the tree
// about once in all, not once per page.
func (s *Store) ListRepositories(ctx context.Context, n int, last string) ([]string, error) {
	if n == 0 {
		return []string{}, nil
	}
	var repos []string // names after last; sorted and cut to n whenever it grows past n
	bound := ""        // with n names found: the largest of them
	add := func(name string) {
		repos = append(repos, name)
		if n > 0 && len(repos) >= n {
			sort.Strings(repos)
			repos = repos[:n]
			bound = repos[n-1]
		}
	}
	var walk func(dir string) error
	walk = func(dir string) error {
		ps, err := s.d.List(ctx, dir)
		if err != nil {
			if isNotFound(err) {
				return nil
			}
			return err // the driver's error names the operation and the path
		}
		isRepo := false
		for _, p := range ps {
			base := p[strings.LastIndex(p, "/")+1:]
			if base == "_manifests" || base == "_layers" {
				isRepo = true
			}
			if strings.HasPrefix(base, "_") {
				continue
			}
			// every name under p is p itself or starts with p+"/"
			name := strings.TrimPrefix(p, "repositories/")
			if last != "" && last > name+"/" && !strings.HasPrefix(last, name+"/") {
				continue
			}
			if bound != "" && name > bound {
				continue
			}
			if err := walk(p); err != nil {
				return err
			}
		}
		if name := strings.TrimPrefix(dir, "repositories/"); isRepo && name > last && (bound == "" || name < bound) {
			add(name)
		}
		return nil
	}
	if err := walk("repositories"); err != nil {
		return nil, err
	}
	sort.Strings(repos)
	return page(repos, n, last), nil
}

// ListReferrers returns the descriptors of manifests whose subject is d, filtered
// by artifactType when it is not empty.
func (s *Store) ListReferrers(ctx context.Context, repo string, d digest.Digest, artifactType string) ([]ocispec.Descriptor, error) {
	if err := checkRepo(repo); err != nil {
		return nil, err
	}
	dir := referrersDir(repo, d)
	out := []ocispec.Descriptor{}
	err := s.d.Walk(ctx, dir, func(fi driver.FileInfo) error {
		b, err := s.d.GetContent(ctx, fi.Path)
		if err != nil {
			if isNotFound(err) {
				return nil
			}
			return err
		}
		var rd ocispec.Descriptor
		if json.Unmarshal(b, &rd) != nil {
			return nil
		}
		if artifactType == "" || rd.ArtifactType == artifactType {
			out = append(out, rd)
		}
		return nil
	})
	if err != nil && !isNotFound(err) {
		return nil, fmt.Errorf("list referrers of %s: %w", d, err)
	}
	return out, nil
}

// Tag points tag at a manifest already stored in repo.
func (s *Store) Tag(ctx context.Context, repo, tag string, desc ocispec.Descriptor) error {
	if err := checkRepo(repo); err != nil {
		return err
	}
	if err := checkTag(tag); err != nil {
		return err
	}
	unlock := s.lockRepo(repo)
	defer unlock()
	if _, err := s.readLink(ctx, revisionLink(repo, desc.Digest), ErrManifestUnknown); err != nil {
		return err
	}
	b, _ := json.Marshal(ocispec.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size})
	if err := s.d.PutContent(ctx, tagLink(repo, tag), b); err != nil {
		return fmt.Errorf("tag %s:%s: %w", repo, tag, err)
	}
	s.emit(Event{Action: "push", Repository: repo, Tag: tag, Digest: desc.Digest})
	return nil
}

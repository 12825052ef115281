package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"gopkg.in/yaml.v3"

	"github.com/mlos-foundation/axon/schemas"
)

// Kinds of manifests, as shown on cards.
const (
	KindModel    = "model"    // an axon package
	KindImage    = "image"    // a container image
	KindIndex    = "index"    // an image index (multi-platform)
	KindArtifact = "artifact" // any other OCI artifact
)

// Limits on what the index reads, so a hostile push cannot make it hold or parse
// unbounded data.
const (
	maxManifestBytes = 4 << 20
	maxConfigBytes   = 1 << 20
	listPage         = 1000
)

// manifestInfo is what the index keeps of one manifest. It is immutable once
// built (a digest names fixed content), so it is shared freely between snapshots.
type manifestInfo struct {
	Digest       digest.Digest
	MediaType    string
	ArtifactType string
	Kind         string
	ManifestSize int64
	Size         int64 // manifest + config + layers (or + child manifests for an index)
	Config       ocispec.Descriptor
	Layers       []ocispec.Descriptor
	Manifests    []ocispec.Descriptor
	Subject      *ocispec.Descriptor
	Annotations  map[string]string
	Created      time.Time
	Model        *schemas.Manifest // parsed manifest.yaml of an axon package
	ModelErr     string            // why manifest.yaml could not be read
}

// TagInfo is one tag of a repository.
type TagInfo struct {
	Name      string        `json:"name"`
	Digest    digest.Digest `json:"digest"`
	MediaType string        `json:"mediaType"`
	Kind      string        `json:"kind"`
	Size      int64         `json:"size"`
	Created   time.Time     `json:"created,omitzero"` // org.opencontainers.image.created
	Updated   time.Time     `json:"updated,omitzero"` // last push seen, or Created
}

// Card is a repository as listed on the home page and by /api/repositories.
type Card struct {
	Name        string        `json:"name"`
	Latest      string        `json:"latest"`
	Digest      digest.Digest `json:"digest"`
	Kind        string        `json:"kind"`
	Task        string        `json:"task,omitempty"`
	Framework   string        `json:"framework,omitempty"`
	Format      string        `json:"format,omitempty"`
	Description string        `json:"description,omitempty"`
	Size        int64         `json:"size"`
	Updated     time.Time     `json:"updated,omitzero"`
	Tags        int           `json:"tags"`

	search string // lower-case name, task, framework, format: what q matches
}

type repoInfo struct {
	name      string
	tags      []TagInfo // by name
	manifests map[digest.Digest]*manifestInfo
	referrers map[digest.Digest][]ocispec.Descriptor
	card      *Card
}

// snapshot is a read-only view of all cards, rebuilt when the index changes.
type snapshot struct {
	byName    []*Card
	byUpdated []*Card
	bySize    []*Card
	stats     Stats
}

// Stats is what /api/stats returns.
type Stats struct {
	Ready        bool           `json:"ready"`
	Repositories int            `json:"repositories"`
	Tags         int            `json:"tags"`
	Bytes        int64          `json:"bytes"`
	Kinds        map[string]int `json:"kinds"`
	Tasks        map[string]int `json:"tasks"`
	Frameworks   map[string]int `json:"frameworks"`
	Formats      map[string]int `json:"formats"`
}

type index struct {
	src Source
	log *slog.Logger
	now func() time.Time

	mu    sync.RWMutex
	repos map[string]*repoInfo
	dirty bool
	snap  *snapshot
	ready atomic.Bool
}

func newIndex(src Source, log *slog.Logger) *index {
	return &index{src: src, log: log, now: time.Now, repos: map[string]*repoInfo{}, dirty: true}
}

// snapshot returns the current view, rebuilding it first when something changed.
func (x *index) snapshot() *snapshot {
	x.mu.RLock()
	s, dirty := x.snap, x.dirty
	x.mu.RUnlock()
	if !dirty && s != nil {
		return s
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.dirty || x.snap == nil {
		x.snap = x.build()
		x.dirty = false
	}
	return x.snap
}

// The three orders are total (ties broken by name) so that a card's place can be
// found by binary search when one repository changes.
func byName(a, b *Card) bool { return a.Name < b.Name }

func byUpdated(a, b *Card) bool {
	if !a.Updated.Equal(b.Updated) {
		return a.Updated.After(b.Updated)
	}
	return a.Name < b.Name
}

func bySize(a, b *Card) bool {
	if a.Size != b.Size {
		return a.Size > b.Size
	}
	return a.Name < b.Name
}

func newStats() Stats {
	return Stats{Kinds: map[string]int{}, Tasks: map[string]int{}, Frameworks: map[string]int{}, Formats: map[string]int{}}
}

// count adds (n = 1) or takes away (n = -1) a card from the totals.
func (st *Stats) count(c *Card, n int) {
	st.Repositories += n
	st.Tags += n * c.Tags
	st.Bytes += int64(n) * c.Size
	for _, f := range []struct {
		m map[string]int
		k string
	}{{st.Kinds, c.Kind}, {st.Tasks, c.Task}, {st.Frameworks, c.Framework}, {st.Formats, c.Format}} {
		if f.k == "" {
			continue
		}
		if f.m[f.k] += n; f.m[f.k] <= 0 {
			delete(f.m, f.k)
		}
	}
}

func (st Stats) clone() Stats {
	cp := func(m map[string]int) map[string]int {
		out := make(map[string]int, len(m))
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	st.Kinds, st.Tasks, st.Frameworks, st.Formats = cp(st.Kinds), cp(st.Tasks), cp(st.Frameworks), cp(st.Formats)
	return st
}

// build sorts all cards: used once the seed is done (and while it runs, when a
// page is asked for). Called with x.mu held.
func (x *index) build() *snapshot {
	s := &snapshot{stats: newStats()}
	s.byName = make([]*Card, 0, len(x.repos))
	for _, r := range x.repos {
		s.byName = append(s.byName, r.card)
		s.stats.count(r.card, 1)
	}
	sort.Slice(s.byName, func(i, j int) bool { return byName(s.byName[i], s.byName[j]) })
	s.byUpdated = append([]*Card(nil), s.byName...)
	sort.Slice(s.byUpdated, func(i, j int) bool { return byUpdated(s.byUpdated[i], s.byUpdated[j]) })
	s.bySize = append([]*Card(nil), s.byName...)
	sort.Slice(s.bySize, func(i, j int) bool { return bySize(s.bySize[i], s.bySize[j]) })
	return s
}

// replace gives the snapshot with old taken out and new put in (either may be
// nil): a copy of each sorted slice with one card moved, O(n) pointer copies
// instead of a sort, so a push is listed at once even with many repositories.
func (s *snapshot) replace(old, new *Card) *snapshot {
	ns := &snapshot{stats: s.stats.clone()}
	if old != nil {
		ns.stats.count(old, -1)
	}
	if new != nil {
		ns.stats.count(new, 1)
	}
	ns.byName = move(s.byName, old, new, byName)
	ns.byUpdated = move(s.byUpdated, old, new, byUpdated)
	ns.bySize = move(s.bySize, old, new, bySize)
	return ns
}

func move(cards []*Card, old, new *Card, less func(a, b *Card) bool) []*Card {
	out := make([]*Card, 0, len(cards)+1)
	rest := cards
	if old != nil {
		i := sort.Search(len(rest), func(i int) bool { return !less(rest[i], old) })
		if i >= len(rest) || rest[i] != old {
			i = slices.Index(rest, old) // not where its order says: never expected
		}
		if i >= 0 {
			rest = append(append(make([]*Card, 0, len(rest)), rest[:i]...), rest[i+1:]...)
		}
	}
	if new == nil {
		return append(out, rest...)
	}
	j := sort.Search(len(rest), func(i int) bool { return less(new, rest[i]) })
	out = append(out, rest[:j]...)
	out = append(out, new)
	return append(out, rest[j:]...)
}

// put records a repository's new state (r nil: gone). Called with x.mu held.
func (x *index) put(name string, r *repoInfo) {
	var oldCard, newCard *Card
	if old, ok := x.repos[name]; ok {
		oldCard = old.card
	}
	if r != nil {
		x.repos[name] = r
		newCard = r.card
	} else {
		delete(x.repos, name)
	}
	if oldCard == nil && newCard == nil {
		return
	}
	if x.dirty || x.snap == nil || !x.ready.Load() {
		// While seeding, one sort at the end is cheaper than a move per repository.
		x.dirty = true
		return
	}
	x.snap = x.snap.replace(oldCard, newCard)
}

// Query selects and orders cards.
type Query struct {
	Q         string // words that must all appear in name, task, framework or format
	Task      string // exact (case-insensitive) filters
	Framework string
	Format    string
	Sort      string // name | updated | size
	Page      int    // 1-based
	PerPage   int
}

// Result is one page of cards.
type Result struct {
	Repositories []*Card `json:"repositories"`
	Total        int     `json:"total"`
	Page         int     `json:"page"`
	PerPage      int     `json:"per_page"`
	Pages        int     `json:"pages"`
	Sort         string  `json:"sort"`
	Ready        bool    `json:"ready"`
}

// Sort orders.
const (
	SortName    = "name"
	SortUpdated = "updated"
	SortSize    = "size"
)

func validSort(s string) bool { return s == SortName || s == SortUpdated || s == SortSize }

func (x *index) list(q Query) Result {
	s := x.snapshot()
	cards := s.byName
	switch q.Sort {
	case SortUpdated:
		cards = s.byUpdated
	case SortSize:
		cards = s.bySize
	default:
		q.Sort = SortName
	}
	words := strings.Fields(strings.ToLower(q.Q))
	task, fw, format := strings.ToLower(q.Task), strings.ToLower(q.Framework), strings.ToLower(q.Format)
	filtered := len(words) > 0 || task != "" || fw != "" || format != ""
	if q.PerPage <= 0 {
		q.PerPage = 24
	}
	if q.Page <= 0 {
		q.Page = 1
	}
	from := (q.Page - 1) * q.PerPage
	res := Result{Page: q.Page, PerPage: q.PerPage, Sort: q.Sort, Ready: x.ready.Load(), Repositories: []*Card{}}
	if !filtered {
		res.Total = len(cards)
		if from < len(cards) {
			res.Repositories = cards[from:min(from+q.PerPage, len(cards))]
		}
	} else {
		// One pass: count every match, keep only the requested page.
		for _, c := range cards {
			if !matches(c, words, task, fw, format) {
				continue
			}
			if res.Total >= from && res.Total < from+q.PerPage {
				res.Repositories = append(res.Repositories, c)
			}
			res.Total++
		}
	}
	res.Pages = (res.Total + q.PerPage - 1) / q.PerPage
	return res
}

func matches(c *Card, words []string, task, fw, format string) bool {
	if task != "" && !strings.EqualFold(c.Task, task) {
		return false
	}
	if fw != "" && !strings.EqualFold(c.Framework, fw) {
		return false
	}
	if format != "" && !strings.EqualFold(c.Format, format) {
		return false
	}
	for _, w := range words {
		if !strings.Contains(c.search, w) {
			return false
		}
	}
	return true
}

func (x *index) stats() Stats {
	st := x.snapshot().stats
	st.Ready = x.ready.Load()
	return st
}

// repo returns a copy-safe view of one repository (the tag slice and maps are
// replaced, never mutated, by refresh).
func (x *index) repo(name string) (*repoInfo, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	r, ok := x.repos[name]
	return r, ok
}

// seed fills the index from the whole catalog, a few repositories at a time. Only
// a failure to list the catalog is an error; a repository that cannot be read is
// logged and skipped.
func (x *index) seed(ctx context.Context, workers int, prune bool) error {
	repos := make(chan string)
	errc := make(chan error, 1)
	seen := map[string]bool{}
	go func() {
		defer close(repos)
		last := ""
		for {
			page, err := x.src.Catalog(ctx, listPage, last)
			if err != nil {
				errc <- fmt.Errorf("catalog: %w", err) // the driver names the path
				return
			}
			for _, r := range page {
				seen[r] = true
				select {
				case repos <- r:
				case <-ctx.Done():
					return
				}
			}
			if len(page) < listPage {
				return
			}
			last = page[len(page)-1]
		}
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for r := range repos {
				if err := x.refresh(ctx, r, time.Time{}, true, false); err != nil && ctx.Err() == nil {
					x.log.Warn("index: repository partly read", "repository", r, "err", err)
				}
			}
		})
	}
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if prune {
		// Repositories deleted behind the index's back (another replica).
		x.mu.Lock()
		for name := range x.repos {
			if !seen[name] {
				x.put(name, nil)
			}
		}
		x.mu.Unlock()
	}
	return nil
}

// refresh re-reads one repository from the source: its tags, the manifests they
// point at (cached by digest) and their referrers. pushed, when set, is the time a
// push was seen; it marks the tags whose digest changed. allReferrers re-reads the
// referrers of every tagged manifest (a manifest pushed or deleted by digest may be
// a signature); otherwise only new manifests' referrers are read. deleted says the
// change was a delete, so a repository that cannot be listed is gone.
func (x *index) refresh(ctx context.Context, repo string, pushed time.Time, allReferrers, deleted bool) error {
	old, _ := x.repo(repo)
	tags, err := allTags(ctx, x.src, repo)
	if err != nil {
		// After a delete, "not found" means the repository is gone. Otherwise the
		// error may be passing (storage away): keep what is known.
		if deleted {
			x.remove(repo)
			return nil
		}
		return fmt.Errorf("list tags of %s: %w", repo, err)
	}
	r := &repoInfo{
		name:      repo,
		manifests: map[digest.Digest]*manifestInfo{},
		referrers: map[digest.Digest][]ocispec.Descriptor{},
	}
	oldTags := map[string]TagInfo{}
	if old != nil {
		for _, t := range old.tags {
			oldTags[t.Name] = t
		}
	}
	// Without a push seen (a seed or a resync), a new tag's best "updated" is when
	// storage last wrote its link (one listing, read only if needed); the created
	// annotation is only the fallback.
	var linked map[string]time.Time
	linkTime := func(tag string) time.Time {
		if tt, ok := x.src.(tagTimer); ok && linked == nil {
			if linked, _ = tt.TagTimes(ctx, repo); linked == nil {
				linked = map[string]time.Time{}
			}
		}
		return linked[tag]
	}
	var firstErr error
	for _, tag := range tags {
		desc, err := x.src.Resolve(ctx, repo, tag)
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("resolve %s:%s: %w", repo, tag, err)
			}
			continue // deleted between listing and resolving, or storage away
		}
		mi, err := x.manifest(ctx, repo, desc.Digest, old, r)
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("%s:%s: %w", repo, tag, err)
			}
			continue
		}
		t := TagInfo{Name: tag, Digest: mi.Digest, MediaType: mi.MediaType, Kind: mi.Kind, Size: mi.Size, Created: mi.Created, Updated: mi.Created}
		if prev, ok := oldTags[tag]; ok && prev.Digest == mi.Digest {
			t.Updated = prev.Updated
		} else if !pushed.IsZero() {
			t.Updated = pushed
		} else if lt := linkTime(tag); !lt.IsZero() {
			t.Updated = lt
		}
		r.tags = append(r.tags, t)
	}
	if len(r.tags) == 0 {
		if len(tags) > 0 && old != nil && !deleted {
			return firstErr // tags listed but none readable: keep the last good state
		}
		x.remove(repo)
		return firstErr
	}
	sort.Slice(r.tags, func(i, j int) bool { return r.tags[i].Name < r.tags[j].Name })
	for d := range r.manifests {
		if old != nil && !allReferrers {
			if _, known := old.manifests[d]; known {
				if refs, ok := old.referrers[d]; ok {
					r.referrers[d] = refs
				}
				continue
			}
		}
		refs, err := x.src.Referrers(ctx, repo, d)
		if err == nil && len(refs) > 0 {
			r.referrers[d] = refs
		}
	}
	r.card = makeCard(r)
	x.mu.Lock()
	x.put(repo, r)
	x.mu.Unlock()
	return firstErr
}

func (x *index) remove(repo string) {
	x.mu.Lock()
	x.put(repo, nil)
	x.mu.Unlock()
}

// manifest returns a manifest's info from the previous state of the repository or
// reads it, and records it in r.
func (x *index) manifest(ctx context.Context, repo string, d digest.Digest, old, r *repoInfo) (*manifestInfo, error) {
	if mi, ok := r.manifests[d]; ok {
		return mi, nil
	}
	if old != nil {
		if mi, ok := old.manifests[d]; ok {
			r.manifests[d] = mi
			return mi, nil
		}
	}
	mi, err := loadManifest(ctx, x.src, repo, d)
	if err != nil {
		return nil, err
	}
	r.manifests[d] = mi
	return mi, nil
}

// tagTimer is implemented by sources that know when each tag was last written
// (the registry's store).
type tagTimer interface {
	TagTimes(ctx context.Context, repo string) (map[string]time.Time, error)
}

// ociManifest holds the fields of both an image manifest and an image index.
type ociManifest struct {
	MediaType    string               `json:"mediaType"`
	ArtifactType string               `json:"artifactType"`
	Config       ocispec.Descriptor   `json:"config"`
	Layers       []ocispec.Descriptor `json:"layers"`
	Manifests    []ocispec.Descriptor `json:"manifests"`
	Subject      *ocispec.Descriptor  `json:"subject"`
	Annotations  map[string]string    `json:"annotations"`
}

// Docker media types, recognised so images pushed by docker show as images.
const (
	dockerManifest     = schemas.MediaTypeDockerManifest
	dockerManifestList = schemas.MediaTypeDockerManifestList
	dockerConfig       = schemas.MediaTypeDockerImageConfig
)

func loadManifest(ctx context.Context, src Source, repo string, d digest.Digest) (*manifestInfo, error) {
	raw, err := src.Manifest(ctx, repo, d)
	if err != nil {
		return nil, fmt.Errorf("read manifest %s: %w", d, err)
	}
	if len(raw) > maxManifestBytes {
		return nil, fmt.Errorf("manifest %s is larger than %d bytes", d, maxManifestBytes)
	}
	var m ociManifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("manifest %s is not JSON: %w", d, err)
	}
	mi := &manifestInfo{
		Digest: d, MediaType: m.MediaType, ArtifactType: m.ArtifactType, ManifestSize: int64(len(raw)),
		Config: m.Config, Layers: m.Layers, Manifests: m.Manifests, Subject: m.Subject, Annotations: m.Annotations,
	}
	mi.Size = mi.ManifestSize + m.Config.Size
	for _, l := range m.Layers {
		mi.Size += l.Size
	}
	for _, c := range m.Manifests {
		mi.Size += c.Size
	}
	if t, err := time.Parse(time.RFC3339, m.Annotations[schemas.AnnotationCreated]); err == nil && t.Unix() > 0 {
		// the Unix epoch is what reproducible builds write when they know no date: unknown, not 1970
		mi.Created = t
	}
	switch {
	case m.MediaType == ocispec.MediaTypeImageIndex || m.MediaType == dockerManifestList || len(m.Manifests) > 0:
		mi.Kind = KindIndex
		// an index weighs what its manifests carry, not their few hundred bytes each
		for i, c := range m.Manifests {
			if i == maxIndexChildren {
				break
			}
			if n, err := contentSize(ctx, src, repo, c.Digest); err == nil {
				mi.Size += n - c.Size
			}
		}
	case m.ArtifactType == schemas.ArtifactType || m.Config.MediaType == schemas.MediaTypeManifest:
		mi.Kind = KindModel
		model, err := readModel(ctx, src, m.Config)
		if err != nil {
			mi.ModelErr = err.Error()
		} else {
			mi.Model = model
			if mi.Created.IsZero() && model.Source != nil {
				if t, err := time.Parse(time.RFC3339, model.Source.Created); err == nil && t.Unix() > 0 {
					mi.Created = t
				}
			}
		}
	case foreignFormat(&m) != "": // ModelPack, ModelKit, Docker model (foreign.go)
		mi.Kind = KindModel
		if model, err := readForeignModel(ctx, src, &m, foreignFormat(&m)); err != nil {
			mi.ModelErr = err.Error()
		} else {
			mi.Model = model
		}
	case m.Config.MediaType == ocispec.MediaTypeImageConfig || m.Config.MediaType == dockerConfig || m.MediaType == dockerManifest:
		if m.ArtifactType == "" {
			mi.Kind = KindImage
		} else {
			mi.Kind = KindArtifact
		}
	default:
		mi.Kind = KindArtifact
	}
	return mi, nil
}

// maxIndexChildren bounds the manifests read to size an index.
const maxIndexChildren = 64

// contentSize is a manifest's size with its config and layers (a nested index:
// with its manifests' descriptors only).
func contentSize(ctx context.Context, src Source, repo string, d digest.Digest) (int64, error) {
	raw, err := src.Manifest(ctx, repo, d)
	if err != nil {
		return 0, err
	}
	var m ociManifest
	if len(raw) > maxManifestBytes || json.Unmarshal(raw, &m) != nil {
		return 0, fmt.Errorf("manifest %s unreadable", d)
	}
	n := int64(len(raw)) + m.Config.Size
	for _, l := range m.Layers {
		n += l.Size
	}
	for _, c := range m.Manifests {
		n += c.Size
	}
	return n, nil
}

// readModel reads and parses an axon package's manifest.yaml (its config blob).
func readModel(ctx context.Context, src Source, config ocispec.Descriptor) (*schemas.Manifest, error) {
	raw, err := readBlob(ctx, src, config, maxConfigBytes)
	if err != nil {
		return nil, err
	}
	var m schemas.Manifest
	if err := yaml.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("manifest.yaml: %w", err)
	}
	return &m, nil
}

// readBlob reads a small blob whole, checking its size and digest.
func readBlob(ctx context.Context, src Source, desc ocispec.Descriptor, limit int64) ([]byte, error) {
	if desc.Size > limit {
		return nil, fmt.Errorf("blob %s is %d bytes, more than the %d the UI reads", desc.Digest, desc.Size, limit)
	}
	if err := desc.Digest.Validate(); err != nil {
		return nil, fmt.Errorf("blob digest %q: %w", desc.Digest, err)
	}
	rc, err := src.Blob(ctx, desc.Digest)
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", desc.Digest, err)
	}
	defer rc.Close()
	raw, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", desc.Digest, err)
	}
	if int64(len(raw)) > limit {
		return nil, fmt.Errorf("blob %s is larger than %d bytes", desc.Digest, limit)
	}
	if desc.Digest.Algorithm().Available() && desc.Digest.Algorithm().FromBytes(raw) != desc.Digest {
		return nil, fmt.Errorf("blob %s: content does not match its digest", desc.Digest)
	}
	return raw, nil
}

func allTags(ctx context.Context, src Source, repo string) ([]string, error) {
	var all []string
	last := ""
	for {
		page, err := src.Tags(ctx, repo, listPage, last)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if len(page) < listPage {
			return all, nil
		}
		last = page[len(page)-1]
	}
}

// latestTag picks the tag a card shows: "latest" when there is one, otherwise the
// most recently updated (ties: the greatest name).
func latestTag(tags []TagInfo) *TagInfo {
	var best *TagInfo
	for i := range tags {
		t := &tags[i]
		if t.Name == "latest" {
			return t
		}
		if best == nil || t.Updated.After(best.Updated) || (t.Updated.Equal(best.Updated) && t.Name > best.Name) {
			best = t
		}
	}
	return best
}

func makeCard(r *repoInfo) *Card {
	t := latestTag(r.tags)
	c := &Card{Name: r.name, Latest: t.Name, Digest: t.Digest, Kind: t.Kind, Size: t.Size, Tags: len(r.tags)}
	for _, tg := range r.tags {
		if tg.Updated.After(c.Updated) {
			c.Updated = tg.Updated
		}
	}
	if mi := r.manifests[t.Digest]; mi != nil {
		if m := mi.Model; m != nil {
			c.Task = m.Task
			c.Framework = m.Framework.Name
			c.Format = m.Format.Name
			c.Description = m.Description
		} else {
			c.Description = mi.Annotations[schemas.AnnotationDescription]
		}
	}
	c.Description = truncate(c.Description, 200)
	c.search = strings.ToLower(strings.Join([]string{c.Name, c.Task, c.Framework, c.Format}, "\x00"))
	return c
}

func truncate(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

var errNotFound = errors.New("not found")

// isYAMLish reports whether b looks like text we can show raw.
func isText(b []byte) bool { return !bytes.ContainsRune(b, 0) }

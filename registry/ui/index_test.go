package ui

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/mlos-foundation/axon/registry/ui/uitest"
	"github.com/mlos-foundation/axon/schemas"
)

func names(cards []*Card) string {
	var n []string
	for _, c := range cards {
		n = append(n, c.Name)
	}
	return strings.Join(n, ",")
}

func TestIndexSeedSearchSortPage(t *testing.T) {
	e := newEnv(t)
	bert, _ := e.seedTwo()
	u := e.start(Options{})
	if !u.Ready() {
		t.Fatal("not ready after Sync")
	}
	all := u.idx.list(Query{Sort: SortName})
	if got := names(all.Repositories); got != "hf/bert-tiny,library/alpine,pytorch/resnet18" {
		t.Fatalf("by name: %s", got)
	}
	c := all.Repositories[0]
	if c.Latest != "v1" || c.Digest != bert.Digest || c.Kind != KindModel || c.Task != "text-classification" ||
		c.Framework != "onnx" || c.Format != "onnx" || c.Size <= bert.Size || c.Updated.IsZero() {
		t.Fatalf("bert card: %+v", c)
	}
	if img := all.Repositories[1]; img.Kind != KindImage || img.Task != "" {
		t.Fatalf("image card: %+v", img)
	}
	for _, tc := range []struct {
		q    Query
		want string
	}{
		{Query{Q: "BERT"}, "hf/bert-tiny"},
		{Query{Q: "image-class"}, "pytorch/resnet18"},
		{Query{Q: "onnx classification"}, "hf/bert-tiny,pytorch/resnet18"},
		{Query{Q: "nothing-like-this"}, ""},
		{Query{Task: "Text-Classification"}, "hf/bert-tiny"},
		{Query{Framework: "onnx", Q: "resnet"}, "pytorch/resnet18"},
		{Query{Format: "onnx"}, "hf/bert-tiny,pytorch/resnet18"},
		{Query{Sort: SortUpdated}, "pytorch/resnet18,hf/bert-tiny,library/alpine"},
		{Query{Sort: SortSize}, "hf/bert-tiny,pytorch/resnet18,library/alpine"},
	} {
		res := u.idx.list(tc.q)
		if got := names(res.Repositories); got != tc.want {
			t.Errorf("%+v: got %q, want %q", tc.q, got, tc.want)
		}
	}
	p2 := u.idx.list(Query{Sort: SortName, PerPage: 2, Page: 2})
	if names(p2.Repositories) != "pytorch/resnet18" || p2.Total != 3 || p2.Pages != 2 {
		t.Fatalf("page 2: %+v", p2)
	}
	if p9 := u.idx.list(Query{PerPage: 2, Page: 9}); len(p9.Repositories) != 0 || p9.Total != 3 {
		t.Fatalf("page past the end: %+v", p9)
	}
	if f := u.idx.list(Query{Q: "onnx", PerPage: 1, Page: 2}); names(f.Repositories) != "pytorch/resnet18" || f.Total != 2 {
		t.Fatalf("filtered page 2: %+v", f)
	}
	st := u.idx.stats()
	if st.Repositories != 3 || st.Tags != 3 || st.Kinds[KindModel] != 2 || st.Tasks["text-classification"] != 1 || !st.Ready {
		t.Fatalf("stats: %+v", st)
	}
}

func TestIndexNotify(t *testing.T) {
	e := newEnv(t)
	bert, _ := e.seedTwo()
	u := e.start(Options{})
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	u.idx.now = func() time.Time { return now }

	// A new repository, pushed after the seed.
	e.model("acme/sentiment", "v1", uitest.Model{Namespace: "acme", Name: "sentiment", Task: "text-classification", Seed: 3})
	e.sync()
	res := u.idx.list(Query{Sort: SortUpdated})
	if names(res.Repositories[:1]) != "acme/sentiment" || !res.Repositories[0].Updated.Equal(now) {
		t.Fatalf("pushed repository not first by update: %s %v", names(res.Repositories), res.Repositories[0].Updated)
	}

	// A second tag: "latest" wins the card.
	e.tag(bert, "hf/bert-tiny", "latest")
	e.sync()
	r, _ := u.idx.repo("hf/bert-tiny")
	if r.card.Latest != "latest" || r.card.Tags != 2 || len(r.tags) != 2 {
		t.Fatalf("after a second tag: %+v", r.card)
	}

	// A signature pushed by digest shows as a referrer.
	sig, err := uitest.BuildSignature(e.ctx, e.src.Store, bert)
	if err != nil {
		t.Fatal(err)
	}
	u.Notify(Event{Action: ActionPush, Repository: "hf/bert-tiny", Digest: sig.Digest})
	e.sync()
	r, _ = u.idx.repo("hf/bert-tiny")
	if refs := r.referrers[bert.Digest]; len(refs) != 1 || refs[0].Digest != sig.Digest || refs[0].ArtifactType != uitest.SignatureType {
		t.Fatalf("referrers: %+v", refs)
	}

	// Deleting one tag keeps the repository; deleting the last removes it.
	for _, tag := range []string{"latest", "v1"} {
		if err := e.src.Untag(e.ctx, "hf/bert-tiny", tag); err != nil {
			t.Fatal(err)
		}
		u.Notify(Event{Action: ActionDelete, Repository: "hf/bert-tiny", Tag: tag})
		e.sync()
		r, ok := u.idx.repo("hf/bert-tiny")
		if tag == "latest" && (!ok || r.card.Latest != "v1" || r.card.Tags != 1) {
			t.Fatalf("after deleting latest: %v %+v", ok, r)
		}
		if tag == "v1" && ok {
			t.Fatal("repository still listed after its last tag was deleted")
		}
	}
	if got := names(u.idx.list(Query{}).Repositories); got != "acme/sentiment,library/alpine,pytorch/resnet18" {
		t.Fatalf("after delete: %s", got)
	}
	// Events for unknown repositories and empty events change nothing.
	u.Notify(Event{Action: ActionDelete, Repository: "no/such"})
	u.Notify(Event{})
	e.sync()
	if st := u.idx.stats(); st.Repositories != 3 {
		t.Fatalf("stats after noise: %+v", st)
	}
}

// A manifest.yaml that is not YAML, or a config that is too big, is shown as an
// error on the package, never a failure of the index.
func TestIndexBadManifestYAML(t *testing.T) {
	e := newEnv(t)
	bad, err := uitest.Push(e.ctx, e.src.Store, schemas.MediaTypeManifest, []byte("name: [unclosed\n\t:"), nil)
	if err != nil {
		t.Fatal(err)
	}
	layer, _ := uitest.Push(e.ctx, e.src.Store, schemas.MediaTypeWeight, []byte("x"), nil)
	raw := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"` + schemas.ArtifactType +
		`","config":{"mediaType":"` + schemas.MediaTypeManifest + `","digest":"` + bad.Digest.String() + `","size":` + itoa(bad.Size) +
		`},"layers":[{"mediaType":"` + schemas.MediaTypeWeight + `","digest":"` + layer.Digest.String() + `","size":1}]}`
	m, err := uitest.Push(e.ctx, e.src.Store, "application/vnd.oci.image.manifest.v1+json", []byte(raw), nil)
	if err != nil {
		t.Fatal(err)
	}
	e.tag(m, "bad/yaml", "v1")
	u := e.start(Options{})
	r, ok := u.idx.repo("bad/yaml")
	if !ok {
		t.Fatal("package with a broken manifest.yaml not indexed")
	}
	mi := r.manifests[m.Digest]
	if mi.Kind != KindModel || mi.Model != nil || mi.ModelErr == "" {
		t.Fatalf("broken manifest.yaml: %+v", mi)
	}
	if _, err := readBlob(context.Background(), e.src, bad, 4); err == nil {
		t.Fatal("readBlob ignored its limit")
	}
	if _, err := readBlob(context.Background(), e.src, bad, maxConfigBytes); err != nil {
		t.Fatal(err)
	}
	wrong := bad
	wrong.Digest = digest.FromString("other")
	if _, err := readBlob(context.Background(), e.src, wrong, maxConfigBytes); err == nil {
		t.Fatal("readBlob read a blob that is not there")
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Moving cards one at a time gives the same orders and totals as sorting them all.
func TestSnapshotMoveMatchesSort(t *testing.T) {
	x := newIndex(nil, nil)
	x.ready.Store(true)
	rnd := rand.New(rand.NewPCG(1, 2))
	card := func(name string) *Card {
		return &Card{Name: name, Kind: KindModel, Task: []string{"a", "b", ""}[rnd.IntN(3)], Tags: 1 + rnd.IntN(3),
			Updated: time.Unix(int64(rnd.IntN(20)), 0), Size: int64(rnd.IntN(10))}
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.snap = x.build()
	x.dirty = false
	for i := range 3000 {
		name := "r" + strconv.Itoa(rnd.IntN(300))
		if rnd.IntN(4) == 0 {
			x.put(name, nil)
		} else {
			x.put(name, &repoInfo{name: name, card: card(name)})
		}
		if i%100 != 99 {
			continue
		}
		want := x.build()
		for _, pair := range [][2][]*Card{{x.snap.byName, want.byName}, {x.snap.byUpdated, want.byUpdated}, {x.snap.bySize, want.bySize}} {
			if !slices.Equal(pair[0], pair[1]) {
				t.Fatalf("step %d: moved order differs from sorted order", i)
			}
		}
		if fmt.Sprint(x.snap.stats) != fmt.Sprint(want.stats) {
			t.Fatalf("step %d: stats %+v, want %+v", i, x.snap.stats, want.stats)
		}
	}
}

// A second registry replica on the same storage never gets this one's Notify; its
// periodic resync finds new and deleted repositories.
func TestResyncSeesOtherReplicas(t *testing.T) {
	e := newEnv(t)
	e.seedTwo()
	other, err := New(e.src, Options{ResyncInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	e.start(Options{})
	e.model("acme/new", "v1", uitest.Model{Seed: 5})
	if err := e.src.Untag(e.ctx, "library/alpine", "3.20"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := names(other.idx.list(Query{}).Repositories)
		if got == "acme/new,hf/bert-tiny,pytorch/resnet18" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the other replica lists %s", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// failingTags is a real source whose tag listing fails while storage is "away".
type failingTags struct {
	Source
	away atomic.Bool
}

func (f *failingTags) Tags(ctx context.Context, repo string, n int, last string) ([]string, error) {
	if f.away.Load() {
		return nil, errors.New("connection reset by peer")
	}
	return f.Source.Tags(ctx, repo, n, last)
}

func TestRefreshKeepsStateWhenStorageIsAway(t *testing.T) {
	e := newEnv(t)
	bert, _ := e.seedTwo()
	src := &failingTags{Source: e.src}
	u, err := New(src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	e.ui = u
	e.sync()
	src.away.Store(true)
	u.Notify(Event{Action: ActionPush, Repository: "hf/bert-tiny", Tag: "v2", Digest: bert.Digest})
	e.sync()
	if _, ok := u.idx.repo("hf/bert-tiny"); !ok {
		t.Fatal("a push refresh that could not list tags dropped the repository")
	}
	// A delete that cannot be listed any more means the repository is gone.
	u.Notify(Event{Action: ActionDelete, Repository: "hf/bert-tiny", Tag: "v1"})
	e.sync()
	if _, ok := u.idx.repo("hf/bert-tiny"); ok {
		t.Fatal("repository kept after a delete left it unlistable")
	}
}

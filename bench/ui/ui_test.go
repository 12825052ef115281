// Package ui benchmarks the registry web UI with 10,000 repositories: the home page
// and the JSON API (p50/p99 over many requests through real HTTP), against the
// peer way of building a page, a walk over storage per request (catalog, tags,
// manifest and manifest.yaml of each repository shown), which is what registry UIs
// without an index do.
//
//	AXON_BENCH=1 go test -count=1 -v -timeout 30m ./bench/ui
package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"gopkg.in/yaml.v3"

	"github.com/mlos-foundation/axon/registry/ui"
	"github.com/mlos-foundation/axon/registry/ui/uitest"
	"github.com/mlos-foundation/axon/schemas"
)

const (
	repos    = 10000
	requests = 2000
	perPage  = 24
)

var tasks = []string{"text-classification", "image-classification", "token-classification", "feature-extraction", "object-detection"}

// seed builds repos packages into an OCI layout through the Source's store.
func seed(t *testing.T, ctx context.Context) *ui.LayoutSource {
	t.Helper()
	src, err := ui.NewLayoutSource(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	src.Store.AutoSaveIndex = false
	model, err := uitest.TinyONNX(2, 1)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for i := range repos {
		ns := fmt.Sprintf("org%03d", i%500)
		name := fmt.Sprintf("model-%05d", i)
		desc, _, err := uitest.BuildModel(ctx, src.Store, uitest.Model{
			Namespace: ns, Name: name, Version: "v1", ONNX: model,
			Task:        tasks[i%len(tasks)],
			Description: fmt.Sprintf("Benchmark model %d, a %s model.", i, tasks[i%len(tasks)]),
			Created:     time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute).Format(time.RFC3339),
			Hub:         "hf", ID: ns + "/" + name, Revision: "main",
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := src.Tag(ctx, desc, ns+"/"+name, "v1"); err != nil {
			t.Fatal(err)
		}
	}
	if err := src.Store.SaveIndex(); err != nil {
		t.Fatal(err)
	}
	t.Logf("built %d packages in an OCI layout in %s", repos, time.Since(start).Round(time.Millisecond))
	return src
}

type stat struct {
	name     string
	n        int
	p50, p99 time.Duration
	bytes    int
}

func measure(name string, n int, f func() int) stat {
	d := make([]time.Duration, n)
	size := 0
	for i := range n {
		start := time.Now()
		size = f()
		d[i] = time.Since(start)
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return stat{name: name, n: n, p50: d[n/2], p99: d[n*99/100], bytes: size}
}

func get(t *testing.T, c *http.Client, url string) int {
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
	return len(b)
}

// walkPage is the peer: the data of one home page read from storage per request.
func walkPage(ctx context.Context, src ui.Source) (int, error) {
	names, err := src.Catalog(ctx, perPage, "")
	if err != nil {
		return 0, err
	}
	var cards []map[string]string
	for _, repo := range names {
		tags, err := src.Tags(ctx, repo, 0, "")
		if err != nil || len(tags) == 0 {
			continue
		}
		desc, err := src.Resolve(ctx, repo, tags[len(tags)-1])
		if err != nil {
			return 0, err
		}
		raw, err := src.Manifest(ctx, repo, desc.Digest)
		if err != nil {
			return 0, err
		}
		var m ocispec.Manifest
		if err := json.Unmarshal(raw, &m); err != nil {
			return 0, err
		}
		rc, err := src.Blob(ctx, m.Config.Digest)
		if err != nil {
			return 0, err
		}
		cfg, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return 0, err
		}
		var mf schemas.Manifest
		if err := yaml.Unmarshal(cfg, &mf); err != nil {
			return 0, err
		}
		cards = append(cards, map[string]string{"name": repo, "task": mf.Task, "framework": mf.Framework.Name})
	}
	b, _ := json.Marshal(cards)
	return len(b), nil
}

func TestUIBench(t *testing.T) {
	if os.Getenv("AXON_BENCH") != "1" {
		t.Skip("set AXON_BENCH=1 to run benchmarks")
	}
	ctx := context.Background()
	src := seed(t, ctx)

	start := time.Now()
	u, err := ui.New(src, ui.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	if err := u.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	seedTime := time.Since(start)

	e := echo.New()
	u.Register(e, nil)
	srv := httptest.NewServer(e)
	defer srv.Close()
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	var st ui.Stats
	resp, err := c.Get(srv.URL + "/api/stats")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if st.Repositories != repos {
		t.Fatalf("index holds %d repositories, want %d", st.Repositories, repos)
	}
	// Warm up connections and caches.
	for range 50 {
		get(t, c, srv.URL+"/ui/")
	}

	walk := measure("peer: walk storage for one page (no render)", 200, func() int {
		n, err := walkPage(ctx, src)
		if err != nil {
			t.Fatal(err)
		}
		return n
	})
	stats := []stat{
		measure("home /ui/ (first page, by name)", requests, func() int { return get(t, c, srv.URL+"/ui/") }),
		measure("home /ui/?sort=updated", requests, func() int { return get(t, c, srv.URL+"/ui/?sort=updated") }),
		measure("home /ui/?sort=size&page=200", requests, func() int { return get(t, c, srv.URL+"/ui/?sort=size&page=200") }),
		measure("home /ui/?q=model-0999 (search)", requests, func() int { return get(t, c, srv.URL+"/ui/?q=model-0999") }),
		measure("api /api/repositories", requests, func() int { return get(t, c, srv.URL+"/api/repositories") }),
		measure("api ?q=org042&task=text-classification", requests, func() int {
			return get(t, c, srv.URL+"/api/repositories?q=org042&task=text-classification&sort=updated")
		}),
		measure("api /api/repositories/{repo}", requests, func() int { return get(t, c, srv.URL+"/api/repositories/org007/model-04507") }),
		measure("model page /ui/models/{repo}", requests, func() int { return get(t, c, srv.URL+"/ui/models/org007/model-04507") }),
		measure("api /api/stats", requests, func() int { return get(t, c, srv.URL+"/api/stats") }),
	}

	// Notify: from the registry's event to the card being listed (the package is
	// pushed to storage before the clock starts).
	model, _ := uitest.TinyONNX(2, 1)
	const fresh = 50
	events := make([]ui.Event, fresh)
	for i := range fresh {
		repo := fmt.Sprintf("fresh/model-%d", i)
		desc, _, err := uitest.BuildModel(ctx, src.Store, uitest.Model{Namespace: "fresh", Name: fmt.Sprintf("model-%d", i), ONNX: model})
		if err != nil {
			t.Fatal(err)
		}
		if err := src.Tag(ctx, desc, repo, "v1"); err != nil {
			t.Fatal(err)
		}
		events[i] = ui.Event{Action: ui.ActionPush, Repository: repo, Tag: "v1", Digest: desc.Digest}
	}
	i := 0
	notify := measure("notify → listed by the API", fresh, func() int {
		ev := events[i]
		i++
		u.Notify(ev)
		if err := u.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		n := get(t, c, srv.URL+"/api/repositories?q="+ev.Repository)
		if n < 100 {
			t.Fatalf("%s not listed after Notify", ev.Repository)
		}
		return n
	})

	var b strings.Builder
	fmt.Fprintf(&b, "\nregistry web UI, %d repositories (index seeded from the Source in %s)\n\n", repos, seedTime.Round(time.Millisecond))
	fmt.Fprintf(&b, "| %-44s | %6s | %10s | %10s | %9s | %14s |\n", "request", "n", "p50", "p99", "bytes", "p50 vs walk")
	fmt.Fprintf(&b, "|%s|%s|%s|%s|%s|%s|\n", strings.Repeat("-", 46), strings.Repeat("-", 8), strings.Repeat("-", 12), strings.Repeat("-", 12), strings.Repeat("-", 11), strings.Repeat("-", 16))
	row := func(s stat, ratio string) {
		fmt.Fprintf(&b, "| %-44s | %6d | %10s | %10s | %9d | %14s |\n", s.name, s.n, s.p50.Round(time.Microsecond), s.p99.Round(time.Microsecond), s.bytes, ratio)
	}
	for _, s := range stats {
		row(s, fmt.Sprintf("%.1fx faster", float64(walk.p50)/float64(s.p50)))
	}
	row(walk, "1.0x")
	row(notify, "")
	home := stats[0]
	fmt.Fprintf(&b, "\nfirst page with %d repositories: p99 %s (target < 200ms: %v)\n", repos, home.p99.Round(time.Microsecond), home.p99 < 200*time.Millisecond)
	t.Log(b.String())
	fmt.Print(b.String())
}

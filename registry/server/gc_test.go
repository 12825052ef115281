package server

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlos-foundation/axon/registry/names"
	"github.com/mlos-foundation/axon/registry/repostore"
	"github.com/mlos-foundation/axon/registry/storage/driver"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func randBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func pushBlob(t *testing.T, base, repo string, b []byte) digest.Digest {
	d := digest.FromBytes(b)
	resp, body := do(t, "POST", base+"/v2/"+repo+"/blobs/uploads/?digest="+d.String(), b, nil)
	if resp.StatusCode != 201 {
		t.Errorf("push blob to %s: %d %s", repo, resp.StatusCode, body)
	}
	return d
}

// pushImage pushes config + layers + manifest; when GC collected a blob between the
// upload and the manifest (it was unreferenced then), the registry refuses the
// manifest with MANIFEST_BLOB_UNKNOWN and the client uploads again, as real clients do.
func pushImage(t *testing.T, base, repo, tag string) (ocispec.Manifest, digest.Digest) {
	cfg := randBytes(64)
	layers := [][]byte{randBytes(3000), randBytes(10000)}
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest,
		Config: ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: digest.FromBytes(cfg), Size: int64(len(cfg))}}
	m.SchemaVersion = 2
	for _, l := range layers {
		m.Layers = append(m.Layers, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: digest.FromBytes(l), Size: int64(len(l))})
	}
	body, _ := json.Marshal(m)
	for attempt := 0; attempt < 200; attempt++ {
		pushBlob(t, base, repo, cfg)
		for _, l := range layers {
			pushBlob(t, base, repo, l)
		}
		resp, b := do(t, "PUT", base+"/v2/"+repo+"/manifests/"+tag, body, map[string]string{"Content-Type": ocispec.MediaTypeImageManifest})
		if resp.StatusCode == 201 {
			return m, digest.FromBytes(body)
		}
		if codeOf(b) != codeManifestBlobUnknown {
			t.Fatalf("push manifest %s:%s: %d %s", repo, tag, resp.StatusCode, b)
		}
	}
	t.Fatalf("push %s:%s: gave up after repeated MANIFEST_BLOB_UNKNOWN", repo, tag)
	return m, ""
}

// GC with no grace period, running over and over while 20 clients push: nothing a
// stored manifest references may disappear, and orphans do get collected.
func TestGCDuringConcurrentPushes(t *testing.T) {
	ts := startServer(t, fsDriver(t), Config{})
	ctx := context.Background()

	// orphans from before: collected by the first GC
	var orphans []digest.Digest
	for i := 0; i < 5; i++ {
		orphans = append(orphans, pushBlob(t, ts.URL, "old/orphans", randBytes(500)))
	}

	var stop atomic.Bool
	var gcRuns, collected atomic.Int64
	gcDone := make(chan error, 1)
	go func() {
		for !stop.Load() {
			rep, err := ts.Store.GC(ctx, repostore.GCOptions{GracePeriod: 0})
			if err != nil {
				gcDone <- err
				return
			}
			gcRuns.Add(1)
			collected.Add(int64(rep.BlobsDeleted))
			time.Sleep(5 * time.Millisecond) // leave pushes a window: starving them proves nothing
		}
		gcDone <- nil
	}()

	type pushed struct {
		repo, tag string
		m         ocispec.Manifest
		d         digest.Digest
	}
	var mu sync.Mutex
	var all []pushed
	var wg sync.WaitGroup
	for w := 0; w < 20; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			repo := fmt.Sprintf("team/app%d", w%5)
			for i := 0; i < 3; i++ {
				tag := fmt.Sprintf("w%d-%d", w, i)
				m, d := pushImage(t, ts.URL, repo, tag)
				mu.Lock()
				all = append(all, pushed{repo, tag, m, d})
				mu.Unlock()
				// an orphan each round keeps the sweeper busy
				pushBlob(t, ts.URL, repo, randBytes(100))
			}
		}()
	}
	wg.Wait()
	stop.Store(true)
	if err := <-gcDone; err != nil {
		t.Fatalf("gc: %v", err)
	}
	// one more pass after the pushes: everything is settled
	rep, err := ts.Store.GC(ctx, repostore.GCOptions{GracePeriod: 0})
	if err != nil {
		t.Fatal(err)
	}
	collected.Add(int64(rep.BlobsDeleted))
	t.Logf("%d GC runs during %d pushes, %d blobs collected", gcRuns.Load(), len(all), collected.Load())
	if gcRuns.Load() < 2 {
		t.Fatalf("GC ran only %d times during the pushes", gcRuns.Load())
	}
	for _, o := range orphans {
		if resp, _ := do(t, "HEAD", ts.URL+"/v2/old/orphans/blobs/"+o.String(), nil, nil); resp.StatusCode != 404 {
			t.Fatalf("orphan %s survived GC: %d", o, resp.StatusCode)
		}
	}
	for _, p := range all {
		desc, body, err := ts.Store.GetManifest(ctx, p.repo, names.Reference{Tag: p.tag})
		if err != nil || desc.Digest != p.d {
			t.Fatalf("%s:%s lost: %v", p.repo, p.tag, err)
		}
		var m ocispec.Manifest
		json.Unmarshal(body, &m)
		for _, l := range append([]ocispec.Descriptor{m.Config}, m.Layers...) {
			resp, err := http.Get(ts.URL + "/v2/" + p.repo + "/blobs/" + l.Digest.String())
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || digest.FromBytes(b) != l.Digest {
				t.Fatalf("%s:%s references %s, which GC collected (status %d)", p.repo, p.tag, l.Digest, resp.StatusCode)
			}
		}
	}
}

func TestGCDryRunAndGrace(t *testing.T) {
	t.Run("filesystem", func(t *testing.T) { testGCDryRunAndGrace(t, fsDriver(t)) })
	t.Run("s3", func(t *testing.T) { testGCDryRunAndGrace(t, s3Driver(t)) })
}

func testGCDryRunAndGrace(t *testing.T, d driver.Driver) {
	ts := startServer(t, d, Config{})
	ctx := context.Background()
	orphan := pushBlob(t, ts.URL, "x/y", randBytes(1234))
	_, md := pushImage(t, ts.URL, "x/y", "v1")

	rep, err := ts.Store.GC(ctx, repostore.GCOptions{GracePeriod: time.Hour})
	if err != nil || rep.BlobsDeleted != 0 {
		t.Fatalf("grace period: deleted %d (%v)", rep.BlobsDeleted, err)
	}
	rep, err = ts.Store.GC(ctx, repostore.GCOptions{DryRun: true})
	if err != nil || rep.BlobsDeleted != 1 || rep.BytesFreed != 1234 || rep.Deleted[0] != orphan {
		t.Fatalf("dry run: %+v (%v)", rep, err)
	}
	if resp, _ := do(t, "HEAD", ts.URL+"/v2/x/y/blobs/"+orphan.String(), nil, nil); resp.StatusCode != 200 {
		t.Fatalf("dry run deleted the orphan")
	}
	// through the admin endpoint
	// a browser sent here by another site is refused; the registry's own origin is not
	if resp, b := do(t, "POST", ts.URL+"/admin/gc?grace=0s", nil, map[string]string{"Origin": "http://evil.example"}); resp.StatusCode != 403 || codeOf(b) != codeDenied {
		t.Fatalf("cross-site GC: %d %s", resp.StatusCode, b)
	}
	if resp, b := do(t, "POST", ts.URL+"/admin/gc?dry-run=true", nil, map[string]string{"Origin": ts.URL}); resp.StatusCode != 200 {
		t.Fatalf("same-origin GC: %d %s", resp.StatusCode, b)
	}
	resp, b := do(t, "POST", ts.URL+"/admin/gc?grace=0s", nil, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("admin gc: %d %s", resp.StatusCode, b)
	}
	json.Unmarshal(b, &rep)
	if rep.BlobsDeleted != 1 || rep.BytesFreed != 1234 {
		t.Fatalf("admin gc report: %s", b)
	}
	if resp, _ := do(t, "HEAD", ts.URL+"/v2/x/y/blobs/"+orphan.String(), nil, nil); resp.StatusCode != 404 {
		t.Fatalf("orphan survived")
	}
	if resp, _ := do(t, "HEAD", ts.URL+"/v2/x/y/manifests/"+md.String(), nil, nil); resp.StatusCode != 200 {
		t.Fatalf("manifest collected")
	}
	_, mb := do(t, "GET", ts.URL+"/metrics", nil, nil)
	if !strings.Contains(string(mb), "axon_registry_gc_bytes_freed_total 1234") {
		t.Fatalf("gc metrics missing")
	}
}

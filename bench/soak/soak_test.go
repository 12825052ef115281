// Package soak runs two axon-registry replicas on one S3 bucket (versitygw)
// under concurrent pushes, pulls, tag moves, deletes and garbage collection
// with a short grace period, then checks that every manifest the registry
// acknowledged (and did not delete since) is fully pullable from both
// replicas, and that every blob matches its digest:
//
//	AXON_BENCH=1 AXON_SOAK_DURATION=1m go test -count=1 -v -timeout 30m ./bench/soak
//
// or `go tool task bench:soak` (10 minutes unless AXON_SOAK_DURATION says otherwise).
package soak

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlos-foundation/axon/internal/testutil"
	"github.com/opencontainers/go-digest"
)

func TestMain(m *testing.M) { testutil.Main(m) }

var client = &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

type counts struct {
	blobPushes, chunkedPushes, manifestPushes, pushRetries, pulls, tagMoves, deletes atomic.Int64
	gcRuns, gcBusy, gcDeleted, busyUploads, orphans, reused                          atomic.Int64
}

func call(method, url, ct string, body []byte, hdr ...string) (int, http.Header, []byte, error) {
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b, err
}

type manifest struct {
	digest digest.Digest
	body   []byte
	blobs  map[digest.Digest][]byte
}

type worker struct {
	t        *testing.T
	id       int
	replicas []string
	r        *rand.Rand
	c        *counts
	shared   [][]byte             // base layers every worker references (dedupe across repositories)
	live     map[string]*manifest // tag → manifest, in this worker's repository
	deleted  []digest.Digest
	orphans  [][]byte // blobs uploaded but not referenced yet: fair game for GC until a manifest names them
	errs     *errList
}

type errList struct {
	mu   sync.Mutex
	list []string
}

func (e *errList) add(format string, args ...any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.list) < 50 {
		e.list = append(e.list, fmt.Sprintf(format, args...))
	}
}

func (w *worker) repo() string { return fmt.Sprintf("soak/w%d", w.id) }

func (w *worker) any() string { return w.replicas[w.r.IntN(len(w.replicas))] }

// pushBlob uploads monolithically, or in two chunks whose requests go to different replicas.
func (w *worker) pushBlob(b []byte) error {
	d := digest.FromBytes(b)
	if w.r.IntN(3) > 0 || len(b) < 2 {
		code, _, body, err := call("POST", w.any()+"/v2/"+w.repo()+"/blobs/uploads/?digest="+d.String(), "application/octet-stream", b)
		if err != nil || code != 201 {
			return fmt.Errorf("push blob: %d %s %v", code, body, err)
		}
		w.c.blobPushes.Add(1)
		return nil
	}
	code, h, _, err := call("POST", w.any()+"/v2/"+w.repo()+"/blobs/uploads/", "", nil)
	if err != nil || code != 202 {
		return fmt.Errorf("start upload: %d %v", code, err)
	}
	loc := h.Get("Location")
	half := len(b) / 2
	code, _, body, err := call("PATCH", w.any()+loc, "application/octet-stream", b[:half], "Content-Range", fmt.Sprintf("0-%d", half-1))
	if err != nil || code != 202 {
		return fmt.Errorf("patch: %d %s %v", code, body, err)
	}
	sep := "?"
	if strings.Contains(loc, "?") {
		sep = "&"
	}
	code, _, body, err = call("PUT", w.any()+loc+sep+"digest="+d.String(), "application/octet-stream", b[half:],
		"Content-Range", fmt.Sprintf("%d-%d", half, len(b)-1))
	if err != nil || code != 201 {
		return fmt.Errorf("finish upload: %d %s %v", code, body, err)
	}
	w.c.chunkedPushes.Add(1)
	return nil
}

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// push uploads a new image (config, a shared base layer, one or two own layers)
// under tag, as a client does: on MANIFEST_BLOB_UNKNOWN (GC took an unreferenced
// blob meanwhile) it uploads again.
func (w *worker) push(tag string) error {
	m := &manifest{blobs: map[digest.Digest][]byte{}}
	cfg := randBytes(w.r, 64+w.r.IntN(200))
	layers := [][]byte{w.shared[w.r.IntN(len(w.shared))]}
	for range 1 + w.r.IntN(2) {
		layers = append(layers, randBytes(w.r, 1000+w.r.IntN(300_000)))
	}
	// an orphan uploaded a while ago, older than the grace period: referenced now
	// without uploading it again when HEAD finds it, as clients do
	reuse := map[digest.Digest]bool{}
	if n := len(w.orphans); n > 0 && w.r.IntN(2) == 0 {
		o := w.orphans[n-1]
		w.orphans = w.orphans[:n-1]
		layers = append(layers, o)
		reuse[digest.FromBytes(o)] = true
	}
	desc := func(mt string, b []byte) map[string]any {
		d := digest.FromBytes(b)
		m.blobs[d] = b
		return map[string]any{"mediaType": mt, "digest": d, "size": len(b)}
	}
	doc := map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": desc("application/vnd.oci.image.config.v1+json", cfg)}
	var ls []any
	for _, l := range layers {
		ls = append(ls, desc("application/vnd.oci.image.layer.v1.tar", l))
	}
	doc["layers"] = ls
	m.body, _ = json.Marshal(doc)
	m.digest = digest.FromBytes(m.body)
	for attempt := 0; ; attempt++ {
		for d, b := range m.blobs {
			if reuse[d] {
				if code, _, _, err := call("HEAD", w.any()+"/v2/"+w.repo()+"/blobs/"+d.String(), "", nil); err == nil && code == 200 {
					w.c.reused.Add(1)
					continue
				}
			}
			if err := w.pushBlob(b); err != nil {
				if strings.Contains(err.Error(), " 416 ") { // upload busy on another replica: start over
					w.c.busyUploads.Add(1)
				} else {
					return err
				}
			}
		}
		code, _, body, err := call("PUT", w.any()+"/v2/"+w.repo()+"/manifests/"+tag, "application/vnd.oci.image.manifest.v1+json", m.body)
		if err != nil {
			return err
		}
		if code == 201 {
			w.c.manifestPushes.Add(1)
			w.live[tag] = m
			return nil
		}
		if attempt < 20 && (strings.Contains(string(body), "MANIFEST_BLOB_UNKNOWN") || code == 503) {
			w.c.pushRetries.Add(1)
			continue
		}
		return fmt.Errorf("push manifest: %d %s", code, body)
	}
}

// pull fetches a live manifest by tag from a random replica and every blob, checking digests.
func (w *worker) pull(tag string, m *manifest, base string) error {
	code, _, body, err := call("GET", base+"/v2/"+w.repo()+"/manifests/"+tag, "", nil,
		"Accept", "application/vnd.oci.image.manifest.v1+json")
	if err != nil || code != 200 || digest.FromBytes(body) != m.digest {
		return fmt.Errorf("pull %s:%s from %s: %d (want %s) %v", w.repo(), tag, base, code, m.digest, err)
	}
	for d := range m.blobs {
		code, _, b, err := call("GET", base+"/v2/"+w.repo()+"/blobs/"+d.String(), "", nil)
		if err != nil || code != 200 || digest.FromBytes(b) != d {
			return fmt.Errorf("pull blob %s of %s:%s from %s: %d, %d bytes %v", d, w.repo(), tag, base, code, len(b), err)
		}
	}
	w.c.pulls.Add(1)
	return nil
}

func (w *worker) step() error {
	tags := make([]string, 0, len(w.live))
	for t := range w.live {
		tags = append(tags, t)
	}
	pick := func() string { return tags[w.r.IntN(len(tags))] }
	switch op := w.r.IntN(10); {
	case len(tags) < 3 || op < 3:
		return w.push(fmt.Sprintf("v%d", w.r.IntN(1_000_000)))
	case op < 6:
		t := pick()
		return w.pull(t, w.live[t], w.any())
	case op < 7: // move a tag onto another live manifest
		from, to := pick(), pick()
		m := w.live[from]
		code, _, body, err := call("PUT", w.any()+"/v2/"+w.repo()+"/manifests/"+to, "application/vnd.oci.image.manifest.v1+json", m.body)
		if err != nil || code != 201 {
			return fmt.Errorf("move tag %s: %d %s %v", to, code, body, err)
		}
		w.live[to] = m
		w.c.tagMoves.Add(1)
	case op == 8: // upload a blob no manifest references (yet)
		b := randBytes(w.r, 500+w.r.IntN(50_000))
		if err := w.pushBlob(b); err != nil {
			return err
		}
		w.orphans = append(w.orphans, b)
		w.c.orphans.Add(1)
	default: // delete a manifest by digest: every tag on it goes
		m := w.live[pick()]
		code, _, body, err := call("DELETE", w.any()+"/v2/"+w.repo()+"/manifests/"+m.digest.String(), "", nil)
		if err != nil || code != 202 {
			return fmt.Errorf("delete %s: %d %s %v", m.digest, code, body, err)
		}
		for t, lm := range w.live {
			if lm.digest == m.digest {
				delete(w.live, t)
			}
		}
		w.deleted = append(w.deleted, m.digest)
		w.c.deletes.Add(1)
	}
	return nil
}

func gc(base string, c *counts) error {
	code, _, body, err := call("POST", base+"/admin/gc?grace=1s", "", nil)
	if err != nil {
		return err
	}
	switch code {
	case 200:
		var rep struct{ BlobsDeleted int64 }
		json.Unmarshal(body, &rep)
		c.gcRuns.Add(1)
		c.gcDeleted.Add(rep.BlobsDeleted)
	case 409:
		c.gcBusy.Add(1)
	default:
		return fmt.Errorf("gc on %s: %d %s", base, code, body)
	}
	return nil
}

func TestSoak(t *testing.T) {
	if os.Getenv("AXON_BENCH") != "1" {
		t.Skip("benchmark: set AXON_BENCH=1")
	}
	dur := 10 * time.Minute
	if v := os.Getenv("AXON_SOAK_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("AXON_SOAK_DURATION=%q: %v", v, err)
		}
		dur = d
	}
	s3 := testutil.StartS3(t)
	bin := testutil.Build(t, "github.com/mlos-foundation/axon/cmd/axon-registry")
	var replicas []string
	for range 2 {
		addr := testutil.FreeAddr(t)
		testutil.Start(t, s3.Env(), bin, "--addr", addr, "--storage", s3.URL(), "--ui=false", "--log-level", "warn")
		testutil.WaitHTTP(t, "http://"+addr+"/healthz", 30*time.Second)
		replicas = append(replicas, "http://"+addr)
	}
	c := &counts{}
	errs := &errList{}
	seed := rand.New(rand.NewPCG(1, 2))
	var shared [][]byte
	for range 4 {
		shared = append(shared, randBytes(seed, 200_000))
	}
	const nWorkers = 6
	workers := make([]*worker, nWorkers)
	deadline := time.Now().Add(dur)
	t.Logf("soak: %d workers, GC every 3s with a 1s grace, two replicas on one versitygw bucket, for %s", nWorkers, dur)
	var wg sync.WaitGroup
	for i := range workers {
		w := &worker{t: t, id: i, replicas: replicas, r: rand.New(rand.NewPCG(uint64(i), 99)), c: c, shared: shared, live: map[string]*manifest{}, errs: errs}
		workers[i] = w
		wg.Go(func() {
			for time.Now().Before(deadline) {
				if err := w.step(); err != nil {
					errs.add("worker %d: %v", w.id, err)
				}
			}
		})
	}
	wg.Go(func() {
		for i := 0; time.Now().Before(deadline); i++ {
			if err := gc(replicas[i%2], c); err != nil {
				errs.add("%v", err)
			}
			time.Sleep(3 * time.Second)
		}
	})
	wg.Wait()
	// collect once more on each replica, then everything acknowledged must be whole
	for _, r := range replicas {
		if err := gc(r, c); err != nil {
			errs.add("%v", err)
		}
	}
	live, blobs := 0, 0
	for _, w := range workers {
		for tag, m := range w.live {
			for _, base := range replicas {
				if err := w.pull(tag, m, base); err != nil {
					errs.add("final check: %v", err)
				}
			}
			live++
			blobs += len(m.blobs)
		}
		for _, d := range w.deleted {
			gone := true
			for _, m := range w.live {
				gone = gone && m.digest != d // pushed again since: live
			}
			if code, _, _, _ := call("GET", replicas[0]+"/v2/"+w.repo()+"/manifests/"+d.String(), "", nil); gone && code != 404 {
				errs.add("deleted manifest %s answers %d", d, code)
			}
		}
	}
	t.Logf("pushes: %d manifests (%d retried after GC took a blob first), %d monolithic and %d two-replica chunked blob uploads (%d refused as busy)",
		c.manifestPushes.Load(), c.pushRetries.Load(), c.blobPushes.Load(), c.chunkedPushes.Load(), c.busyUploads.Load())
	t.Logf("pulls: %d verified during the run; tag moves: %d; deletes: %d; orphans uploaded: %d, %d referenced later without re-upload",
		c.pulls.Load(), c.tagMoves.Load(), c.deletes.Load(), c.orphans.Load(), c.reused.Load())
	t.Logf("gc: %d runs (%d refused: another replica was collecting), %d blobs deleted", c.gcRuns.Load(), c.gcBusy.Load(), c.gcDeleted.Load())
	t.Logf("final: %d acknowledged live tags with %d blob references, all pulled from both replicas and digest-checked", live, blobs)
	if len(errs.list) > 0 {
		t.Fatalf("%d errors, first ones:\n%s", len(errs.list), strings.Join(errs.list, "\n"))
	}
}

package main

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlos-foundation/axon/internal/testutil"
	"github.com/opencontainers/go-digest"
)

// twoReplicas starts two axon-registry processes on one versitygw bucket.
func twoReplicas(t *testing.T, extra ...string) (a, b string) {
	a, b, _ = twoReplicasS3(t, extra...)
	return a, b
}

func twoReplicasS3(t *testing.T, extra ...string) (a, b string, s3 *testutil.S3) {
	s3 = testutil.StartS3(t)
	args := append([]string{"--storage", s3.URL(), "--ui=false"}, extra...)
	ra := startRegistry(t, s3.Env(), args...)
	rb := startRegistry(t, s3.Env(), args...)
	return "http://" + ra.Host, "http://" + rb.Host, s3
}

func startUpload(t *testing.T, base, repo string) string {
	t.Helper()
	resp, err := http.Post(base+"/v2/"+repo+"/blobs/uploads/", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("start upload: %s", resp.Status)
	}
	return resp.Header.Get("Location")
}

// slowBody yields data in small steps, so a request stays in flight for a while.
type slowBody struct {
	data []byte
	step int
	wait time.Duration
}

func (s *slowBody) Read(p []byte) (int, error) {
	if len(s.data) == 0 {
		return 0, io.EOF
	}
	time.Sleep(s.wait)
	n := copy(p[:min(len(p), s.step)], s.data)
	s.data = s.data[n:]
	return n, nil
}

func do(t *testing.T, method, url string, body io.Reader, length int64, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = length
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", method, url, err)
		return nil, ""
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// TestReplicasUploadExclusion: the finishing PUT of an upload reaching replica B
// while a PATCH of the same upload still streams into replica A must not commit
// a blob whose bytes differ from its digest; and two PATCHes at once on two
// replicas must not both be accepted at the same offset.
func TestReplicasUploadExclusion(t *testing.T) {
	a, b := twoReplicas(t)
	chunk1 := make([]byte, 256<<10)
	chunk2 := make([]byte, len(chunk1))
	rand.Read(chunk1)
	rand.Read(chunk2)
	for round := range 3 {
		repo := fmt.Sprintf("replica/r%d", round)
		loc := startUpload(t, a, repo)
		var wg sync.WaitGroup
		var patch *http.Response
		wg.Go(func() {
			patch, _ = do(t, http.MethodPatch, a+loc, &slowBody{data: chunk1, step: 16 << 10, wait: 60 * time.Millisecond},
				int64(len(chunk1)), map[string]string{"Content-Type": "application/octet-stream", "Content-Range": fmt.Sprintf("0-%d", len(chunk1)-1)})
		})
		time.Sleep(300 * time.Millisecond) // the PATCH is streaming into A now
		// B: a second PATCH at the same offset, then the finishing PUT
		p2, _ := do(t, http.MethodPatch, b+loc, bytes.NewReader(chunk2), int64(len(chunk2)),
			map[string]string{"Content-Type": "application/octet-stream", "Content-Range": fmt.Sprintf("0-%d", len(chunk2)-1)})
		want := digest.FromBytes(chunk2)
		sep := "?"
		if strings.Contains(loc, "?") {
			sep = "&"
		}
		put, _ := do(t, http.MethodPut, b+loc+sep+"digest="+want.String(), bytes.NewReader(chunk2), int64(len(chunk2)),
			map[string]string{"Content-Type": "application/octet-stream"})
		wg.Wait()
		if patch == nil || p2 == nil || put == nil {
			t.FailNow()
		}
		if patch.StatusCode == http.StatusAccepted && p2.StatusCode == http.StatusAccepted {
			t.Fatalf("round %d: both PATCHes at offset 0 answered 202 (Range %s and %s): one chunk is lost", round, patch.Header.Get("Range"), p2.Header.Get("Range"))
		}
		if put.StatusCode == http.StatusCreated {
			// whatever was accepted must be exactly the bytes of its digest
			for _, base := range []string{a, b} {
				resp, body := do(t, http.MethodGet, base+"/v2/"+repo+"/blobs/"+want.String(), nil, 0, nil)
				if resp != nil && resp.StatusCode == http.StatusOK && digest.FromString(body) != want {
					t.Fatalf("round %d: blob %s holds %d bytes that do not match its digest (PATCH %s, PUT %s)", round, want, len(body), patch.Status, put.Status)
				}
			}
		}
		if put.StatusCode != http.StatusCreated && put.StatusCode != http.StatusRequestedRangeNotSatisfiable && put.StatusCode != http.StatusBadRequest {
			t.Fatalf("round %d: finishing PUT on the other replica: %s", round, put.Status)
		}
		t.Logf("round %d: PATCH on A %s, PATCH on B %s, PUT on B %s", round, patch.Status, p2.Status, put.Status)
	}
}

// TestReplicasGCSparesNewReferences: blobs that no manifest references (old
// enough for a grace period of 0) are referenced by a manifest pushed to
// replica A while replica B collects garbage over and over. Every manifest A
// acknowledged must stay whole.
func TestReplicasGCSparesNewReferences(t *testing.T) {
	a, b, s3 := twoReplicasS3(t)
	stop := make(chan struct{})
	var gcs, gcBusy int
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			resp, body := do(t, http.MethodPost, b+"/admin/gc?grace=0s", nil, 0, nil)
			if resp == nil {
				return
			}
			switch resp.StatusCode {
			case http.StatusOK:
				gcs++
				time.Sleep(5 * time.Millisecond) // sweeps back to back, with gaps a push can fall into
			case http.StatusConflict:
				gcBusy++
			default:
				t.Errorf("gc on B: %s %s", resp.Status, body)
				return
			}
		}
	})
	acked, refused := 0, 0
	// Whether a push wins its race against a sweep depends on scheduling: a
	// loaded machine can lose every one of a few rounds (each refusal is
	// correct), so rounds go on until a few pushes were acknowledged.
	deadline := time.Now().Add(60 * time.Second)
	for round := 0; round < 12 || (acked < 3 && time.Now().Before(deadline)); round++ {
		repo := fmt.Sprintf("gcrace/r%d", round)
		m := map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json"}
		var layers []map[string]any
		var blobs [][]byte
		for i := range 9 {
			blob := make([]byte, 2048+i)
			rand.Read(blob)
			d := digest.FromBytes(blob)
			resp, body := do(t, http.MethodPost, a+"/v2/"+repo+"/blobs/uploads/?digest="+d.String(), bytes.NewReader(blob), int64(len(blob)), nil)
			if resp == nil || resp.StatusCode != http.StatusCreated {
				t.Fatalf("push blob: %v %s", resp, body)
			}
			blobs = append(blobs, blob)
			desc := map[string]any{"mediaType": "application/octet-stream", "digest": d.String(), "size": len(blob)}
			if i == 0 {
				m["config"] = desc
			} else {
				layers = append(layers, desc)
			}
		}
		m["layers"] = layers
		mb, _ := json.Marshal(m)
		// orphaned long ago: the "recently referenced" markers their upload left are gone
		// (versitygw's posix backend keeps each object as a file under DIR/BUCKET/KEY)
		for _, blob := range blobs {
			d := digest.FromBytes(blob)
			os.Remove(filepath.Join(s3.Dir, s3.Bucket, "_gc/refs/sha256", d.Encoded()))
		}
		resp, body := do(t, http.MethodPut, a+"/v2/"+repo+"/manifests/v1", bytes.NewReader(mb), int64(len(mb)),
			map[string]string{"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
		if resp == nil {
			t.FailNow()
		}
		if resp.StatusCode != http.StatusCreated {
			if !strings.Contains(body, "MANIFEST_BLOB_UNKNOWN") && resp.StatusCode != http.StatusServiceUnavailable {
				t.Fatalf("manifest push: %s %s", resp.Status, body)
			}
			refused++ // collected before the push: the client uploads again
			continue
		}
		acked++
		time.Sleep(150 * time.Millisecond) // a few more sweeps
		for _, blob := range blobs {
			d := digest.FromBytes(blob)
			for _, base := range []string{a, b} {
				resp, got := do(t, http.MethodGet, base+"/v2/"+repo+"/blobs/"+d.String(), nil, 0, nil)
				if resp == nil || resp.StatusCode != http.StatusOK || got != string(blob) {
					t.Fatalf("round %d: manifest acknowledged by A, but its blob %s answers %v on %s after GC on B", round, d, resp.Status, base)
				}
			}
		}
	}
	close(stop)
	wg.Wait()
	t.Logf("%d manifests acknowledged and whole, %d refused (blobs collected first); %d collections on B, %d refused as busy", acked, refused, gcs, gcBusy)
	if acked == 0 {
		t.Fatal("no manifest was acknowledged: the test proved nothing")
	}
}

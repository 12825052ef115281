package main

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlos-foundation/axon/internal/testutil"
	"github.com/opencontainers/go-digest"
)

// twoReplicas starts two axon-registry processes on one versitygw bucket.
func twoReplicas(t *testing.T, extra ...string) (a, b string) {
	s3 := testutil.StartS3(t)
	args := append([]string{"--storage", s3.URL(), "--ui=false"}, extra...)
	ra := startRegistry(t, s3.Env(), args...)
	rb := startRegistry(t, s3.Env(), args...)
	return "http://" + ra.Host, "http://" + rb.Host
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

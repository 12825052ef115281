package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/mlos-foundation/axon/registry/storage/driver"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// req is do() for goroutines: errors are reported, not fatal.
func req(method, url string, body []byte, ct string) (int, []byte, error) {
	r, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if ct != "" {
		r.Header.Set("Content-Type", ct)
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, nil
}

// TestConcurrentManifestTagDelete: manifest PUTs, tag moves and deletes (by tag
// and by digest) at once on the filesystem backend: no 5xx, and afterwards every
// listed tag answers, and so does its manifest by digest.
func TestConcurrentManifestTagDelete(t *testing.T) {
	t.Run("filesystem", func(t *testing.T) { testConcurrentManifestTagDelete(t, fsDriver(t)) })
	t.Run("s3", func(t *testing.T) { testConcurrentManifestTagDelete(t, s3Driver(t)) })
}

func testConcurrentManifestTagDelete(t *testing.T, d driver.Driver) {
	ts := startServer(t, d, Config{})
	base, repo := ts.URL, "conc/app"
	cfg := randBytes(100)
	pushBlob(t, base, repo, cfg)
	var bodies [][]byte
	for i := range 3 {
		layer := randBytes(500 + i)
		ld := pushBlob(t, base, repo, layer)
		m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest,
			Config: ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: digest.FromBytes(cfg), Size: int64(len(cfg))},
			Layers: []ocispec.Descriptor{{MediaType: ocispec.MediaTypeImageLayer, Digest: ld, Size: int64(len(layer))}}}
		m.SchemaVersion = 2
		b, _ := json.Marshal(m)
		bodies = append(bodies, b)
	}
	var fiveXX, ops atomic.Int64
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for range 100 {
				m := bodies[r.IntN(len(bodies))]
				tag := fmt.Sprintf("t%d", r.IntN(4))
				var code int
				var body []byte
				var err error
				switch r.IntN(5) {
				case 0, 1:
					code, body, err = req("PUT", base+"/v2/"+repo+"/manifests/"+tag, m, ocispec.MediaTypeImageManifest)
				case 2:
					code, body, err = req("DELETE", base+"/v2/"+repo+"/manifests/"+tag, nil, "")
				case 3:
					code, body, err = req("DELETE", base+"/v2/"+repo+"/manifests/"+digest.FromBytes(m).String(), nil, "")
				case 4:
					code, body, err = req("GET", base+"/v2/"+repo+"/manifests/"+tag, nil, "")
				}
				ops.Add(1)
				if err != nil {
					t.Error(err)
					return
				}
				if code >= 500 {
					fiveXX.Add(1)
					t.Errorf("%d %s", code, body)
				}
			}
		})
	}
	wg.Wait()
	if fiveXX.Load() > 0 {
		t.Fatalf("%d of %d requests answered 5xx", fiveXX.Load(), ops.Load())
	}
	_, b, err := req("GET", base+"/v2/"+repo+"/tags/list", nil, "")
	if err != nil {
		t.Fatal(err)
	}
	var tl struct{ Tags []string }
	json.Unmarshal(b, &tl)
	for _, tag := range tl.Tags {
		code, body, _ := req("GET", base+"/v2/"+repo+"/manifests/"+tag, nil, "")
		if code != 200 {
			t.Errorf("tag %s is listed but answers %d", tag, code)
			continue
		}
		if code, _, _ := req("GET", base+"/v2/"+repo+"/manifests/"+digest.FromBytes(body).String(), nil, ""); code != 200 {
			t.Errorf("tag %s answers, but its manifest by digest answers %d", tag, code)
		}
	}
	t.Logf("%d operations, tags left: %v", ops.Load(), tl.Tags)
}

package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
)

type errResp struct {
	Errors []struct {
		Code string `json:"code"`
	} `json:"errors"`
}

func do(t *testing.T, method, url string, body []byte, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func codeOf(b []byte) string {
	var e errResp
	if json.Unmarshal(b, &e) != nil || len(e.Errors) == 0 {
		return ""
	}
	return e.Errors[0].Code
}

// Client mistakes get their spec error code, never a 500.
func TestClientErrors(t *testing.T) {
	ts := startServer(t, fsDriver(t), Config{MaxManifestSize: 1024})
	u := ts.URL
	blob := []byte("hello blob")
	good := digest.FromBytes(blob)
	resp, _ := do(t, "POST", u+"/v2/team/model/blobs/uploads/?digest="+good.String(), blob, nil)
	if resp.StatusCode != 201 {
		t.Fatalf("monolithic push: %d", resp.StatusCode)
	}
	zero := "sha256:" + strings.Repeat("0", 64)
	bigManifest := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","annotations":{"a":"` + strings.Repeat("x", 2000) + `"}}`

	cases := []struct {
		name, method, path string
		body               string
		hdr                map[string]string
		status             int
		code               string
	}{
		{"upper-case name", "GET", "/v2/Team/Model/tags/list", "", nil, 400, codeNameInvalid},
		{"name with ..", "GET", "/v2/team/../x/tags/list", "", nil, 0, ""},
		{"name with reserved marker", "GET", "/v2/a.axon-b/tags/list", "", nil, 400, codeNameInvalid},
		{"name too long", "GET", "/v2/" + strings.Repeat("a", 300) + "/tags/list", "", nil, 400, codeNameInvalid},
		{"unknown repo tags", "GET", "/v2/nobody/here/tags/list", "", nil, 404, codeNameUnknown},
		{"bad n", "GET", "/v2/team/model/tags/list?n=-3", "", nil, 400, codeUnsupported},
		{"bad digest algo", "GET", "/v2/team/model/blobs/md5:abcd", "", nil, 400, codeDigestInvalid},
		{"bad digest hex", "GET", "/v2/team/model/blobs/sha256:xyz", "", nil, 400, codeDigestInvalid},
		{"short digest", "HEAD", "/v2/team/model/blobs/sha256:abcd", "", nil, 400, ""},
		{"unknown blob", "GET", "/v2/team/model/blobs/" + zero, "", nil, 404, codeBlobUnknown},
		{"blob of other repo", "GET", "/v2/other/repo/blobs/" + good.String(), "", nil, 404, codeBlobUnknown},
		{"range past end", "GET", "/v2/team/model/blobs/" + good.String(), "", map[string]string{"Range": "bytes=100-200"}, 416, codeSizeInvalid},
		{"range reversed", "GET", "/v2/team/model/blobs/" + good.String(), "", map[string]string{"Range": "bytes=5-1"}, 416, codeSizeInvalid},
		{"range garbage ignored", "GET", "/v2/team/model/blobs/" + good.String(), "", map[string]string{"Range": "pages=1-2"}, 200, ""},
		{"range ok", "GET", "/v2/team/model/blobs/" + good.String(), "", map[string]string{"Range": "bytes=1-3"}, 206, ""},
		{"bad tag", "GET", "/v2/team/model/manifests/-bad", "", nil, 400, codeManifestInvalid},
		{"tag too long", "PUT", "/v2/team/model/manifests/" + strings.Repeat("t", 129), "{}", nil, 400, codeManifestInvalid},
		{"unknown manifest", "GET", "/v2/team/model/manifests/nope", "", nil, 404, codeManifestUnknown},
		{"unknown manifest digest", "DELETE", "/v2/team/model/manifests/" + zero, "", nil, 404, codeManifestUnknown},
		{"manifest not json", "PUT", "/v2/team/model/manifests/v1", "not json", map[string]string{"Content-Type": "application/vnd.oci.image.manifest.v1+json"}, 400, codeManifestInvalid},
		{"manifest no schemaVersion", "PUT", "/v2/team/model/manifests/v1", `{"mediaType":"application/vnd.oci.image.manifest.v1+json"}`, nil, 400, codeManifestInvalid},
		{"manifest bad layer digest", "PUT", "/v2/team/model/manifests/v1", `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"a/b","digest":"sha256:zz","size":1},"layers":[]}`, nil, 400, codeManifestInvalid},
		{"manifest unknown blob", "PUT", "/v2/team/model/manifests/v1", `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"a/b","digest":"` + zero + `","size":1},"layers":[]}`, nil, 400, codeManifestBlobUnknown},
		{"manifest digest mismatch", "PUT", "/v2/team/model/manifests/" + zero, `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`, nil, 400, codeDigestInvalid},
		{"manifest too large", "PUT", "/v2/team/model/manifests/big", bigManifest, nil, 413, codeSizeInvalid},
		{"upload unknown", "PATCH", "/v2/team/model/blobs/uploads/5b3a1a3e-2a7c-4a57-9b55-0d1b4a1c8f00", "x", nil, 404, codeBlobUploadUnknown},
		{"upload id garbage", "GET", "/v2/team/model/blobs/uploads/..%2f..%2fetc", "", nil, 0, ""},
		{"upload put no digest", "PUT", "/v2/team/model/blobs/uploads/5b3a1a3e-2a7c-4a57-9b55-0d1b4a1c8f00", "", nil, 400, codeDigestInvalid},
		{"monolithic wrong digest", "POST", "/v2/team/model/blobs/uploads/?digest=" + zero, "abc", nil, 400, codeDigestInvalid},
		{"monolithic bad digest", "POST", "/v2/team/model/blobs/uploads/?digest=sha256:nothex", "abc", nil, 400, codeDigestInvalid},
		{"unsupported algorithm hint", "POST", "/v2/team/model/blobs/uploads/?digest-algorithm=md5", "", nil, 400, codeDigestInvalid},
		{"method not allowed", "PATCH", "/v2/team/model/manifests/v1", "", nil, 405, codeUnsupported},
		{"unknown endpoint", "GET", "/v2/team/model/whatever", "", nil, 404, ""},
		{"referrers bad digest", "GET", "/v2/team/model/referrers/latest", "", nil, 400, codeDigestInvalid},
		{"referrers unknown subject", "GET", "/v2/team/model/referrers/" + zero, "", nil, 200, ""},
		{"delete blob twice", "DELETE", "/v2/team/model/blobs/" + zero, "", nil, 404, codeBlobUnknown},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, b := do(t, c.method, u+c.path, []byte(c.body), c.hdr)
			if resp.StatusCode >= 500 {
				t.Fatalf("%s %s: got %d: %s", c.method, c.path, resp.StatusCode, b)
			}
			if c.status != 0 && resp.StatusCode != c.status {
				t.Fatalf("%s %s: status %d, want %d: %s", c.method, c.path, resp.StatusCode, c.status, b)
			}
			if c.code != "" && c.method != "HEAD" && codeOf(b) != c.code {
				t.Fatalf("%s %s: code %q, want %q: %s", c.method, c.path, codeOf(b), c.code, b)
			}
			// a JSON error body is labelled as JSON, even where a blob's headers were already set
			if ct := resp.Header.Get("Content-Type"); codeOf(b) != "" && ct != "application/json" {
				t.Fatalf("%s %s: error body with Content-Type %q", c.method, c.path, ct)
			}
		})
	}
}

// Chunked uploads: out-of-order chunks get 416 with the current range, the
// upload survives and completes; a wrong final digest stores nothing.
func TestChunkedUploadRanges(t *testing.T) {
	ts := startServer(t, fsDriver(t), Config{})
	data := bytes.Repeat([]byte("0123456789"), 1000)
	dg := digest.FromBytes(data)
	resp, _ := do(t, "POST", ts.URL+"/v2/a/b/blobs/uploads/", nil, nil)
	if resp.StatusCode != 202 {
		t.Fatalf("start: %d", resp.StatusCode)
	}
	loc := ts.URL + resp.Header.Get("Location")
	resp, _ = do(t, "PATCH", loc, data[:4000], map[string]string{"Content-Range": "0-3999"})
	if resp.StatusCode != 202 || resp.Header.Get("Range") != "0-3999" {
		t.Fatalf("chunk 1: %d range %q", resp.StatusCode, resp.Header.Get("Range"))
	}
	resp, _ = do(t, "PATCH", loc, data[5000:6000], map[string]string{"Content-Range": "5000-5999"})
	if resp.StatusCode != 416 || resp.Header.Get("Range") != "0-3999" {
		t.Fatalf("gap chunk: %d range %q", resp.StatusCode, resp.Header.Get("Range"))
	}
	resp, _ = do(t, "PATCH", loc, data[0:100], map[string]string{"Content-Range": "0-99"})
	if resp.StatusCode != 416 {
		t.Fatalf("overlapping chunk: %d", resp.StatusCode)
	}
	resp, _ = do(t, "PATCH", loc, data[4000:5000], map[string]string{"Content-Range": "garbage"})
	if resp.StatusCode != 416 {
		t.Fatalf("malformed range: %d", resp.StatusCode)
	}
	resp, _ = do(t, "GET", loc, nil, nil)
	if resp.StatusCode != 204 || resp.Header.Get("Range") != "0-3999" {
		t.Fatalf("status: %d %q", resp.StatusCode, resp.Header.Get("Range"))
	}
	// streamed (no Content-Range) rest, then a wrong digest: nothing stored
	resp, _ = do(t, "PATCH", loc, data[4000:], nil)
	if resp.StatusCode != 202 {
		t.Fatalf("stream rest: %d", resp.StatusCode)
	}
	wrong := digest.FromString("something else")
	resp, b := do(t, "PUT", loc+"?digest="+wrong.String(), nil, nil)
	if resp.StatusCode != 400 || codeOf(b) != codeDigestInvalid {
		t.Fatalf("wrong digest: %d %s", resp.StatusCode, b)
	}
	for _, d := range []digest.Digest{wrong, dg} {
		if resp, _ := do(t, "HEAD", ts.URL+"/v2/a/b/blobs/"+d.String(), nil, nil); resp.StatusCode != 404 {
			t.Fatalf("blob %s visible after a failed upload: %d", d, resp.StatusCode)
		}
	}
	// the failed upload is gone
	if resp, _ := do(t, "GET", loc, nil, nil); resp.StatusCode != 404 {
		t.Fatalf("upload still there after a digest mismatch: %d", resp.StatusCode)
	}
	// and a correct chunked upload in sha512 (no algorithm announced) works
	d512 := digest.SHA512.FromBytes(data)
	resp, _ = do(t, "POST", ts.URL+"/v2/a/b/blobs/uploads/", nil, nil)
	loc = ts.URL + resp.Header.Get("Location")
	do(t, "PATCH", loc, data[:5000], map[string]string{"Content-Range": "0-4999"})
	resp, b = do(t, "PUT", loc+"?digest="+d512.String(), data[5000:], map[string]string{"Content-Range": "5000-9999"})
	if resp.StatusCode != 201 {
		t.Fatalf("sha512 finish: %d %s", resp.StatusCode, b)
	}
	resp, b = do(t, "GET", ts.URL+"/v2/a/b/blobs/"+d512.String(), nil, nil)
	if resp.StatusCode != 200 || !bytes.Equal(b, data) {
		t.Fatalf("sha512 blob: %d, %d bytes", resp.StatusCode, len(b))
	}
}

type failAfter struct{}

func (failAfter) Read([]byte) (int, error) { return 0, io.ErrClosedPipe }

// A PATCH cut off mid-body keeps what arrived; the client resumes from the
// offset the status GET reports and the digest still verifies (the hash state
// persisted with the bytes).
func TestInterruptedPatchResumes(t *testing.T) {
	ts := startServer(t, fsDriver(t), Config{})
	data := randBytes(3 << 20)
	resp, _ := do(t, "POST", ts.URL+"/v2/r/s/blobs/uploads/", nil, nil)
	loc := ts.URL + resp.Header.Get("Location")
	req, _ := http.NewRequest("PATCH", loc, io.MultiReader(bytes.NewReader(data[:2<<20]), failAfter{}))
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("interrupted PATCH got %d", resp.StatusCode)
	}
	var offset int64 = -1
	for i := 0; i < 100; i++ { // the server notices the cut asynchronously
		resp, _ = do(t, "GET", loc, nil, nil)
		if resp.StatusCode != 204 {
			t.Fatalf("status after cut: %d", resp.StatusCode)
		}
		var last int64
		fmt.Sscanf(resp.Header.Get("Range"), "0-%d", &last)
		if last > 0 {
			offset = last + 1
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if offset <= 0 || offset > 2<<20 {
		t.Fatalf("offset after cut: %d", offset)
	}
	t.Logf("resuming at %d of %d bytes", offset, len(data))
	resp, b := do(t, "PATCH", loc, data[offset:], map[string]string{"Content-Range": fmt.Sprintf("%d-%d", offset, len(data)-1)})
	if resp.StatusCode != 202 {
		t.Fatalf("resume: %d %s", resp.StatusCode, b)
	}
	d := digest.FromBytes(data)
	resp, b = do(t, "PUT", loc+"?digest="+d.String(), nil, nil)
	if resp.StatusCode != 201 {
		t.Fatalf("finish: %d %s", resp.StatusCode, b)
	}
}

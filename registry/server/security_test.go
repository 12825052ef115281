package server

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// tokenFor gets an access token for scope with basic auth (the Docker token flow).
func tokenFor(t *testing.T, base, user, pass, scope string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/token?service=axon-registry&scope="+scope, nil)
	req.SetBasicAuth(user, pass)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	tok, _ := m["token"].(string)
	if resp.StatusCode != 200 || tok == "" {
		t.Fatalf("token for %s: %d %v", scope, resp.StatusCode, m)
	}
	return tok
}

// TestNoCrossRepositoryRead: a token for team/b cannot make team/a's layer its
// own by naming its digest in a team/b manifest, and so cannot read it.
func TestNoCrossRepositoryRead(t *testing.T) {
	ts := startServer(t, fsDriver(t), Config{Htpasswd: htpasswd(t, "alice", "alice-pass")})
	basic := map[string]string{"Authorization": "Basic YWxpY2U6YWxpY2UtcGFzcw=="} // alice:alice-pass
	secret := randBytes(3000)
	d := digest.FromBytes(secret)
	if resp, b := do(t, "POST", ts.URL+"/v2/team/a/blobs/uploads/?digest="+d.String(), secret, basic); resp.StatusCode != 201 {
		t.Fatalf("push to team/a: %d %s", resp.StatusCode, b)
	}
	tokB := map[string]string{"Authorization": "Bearer " + tokenFor(t, ts.URL, "alice", "alice-pass", "repository:team/b:pull,push")}
	cfg := []byte("{}")
	pushed := func(repo string, body []byte, hdr map[string]string) {
		if resp, b := do(t, "POST", ts.URL+"/v2/"+repo+"/blobs/uploads/?digest="+digest.FromBytes(body).String(), body, hdr); resp.StatusCode != 201 {
			t.Fatalf("push to %s: %d %s", repo, resp.StatusCode, b)
		}
	}
	pushed("team/b", cfg, tokB)
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest,
		Config: ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: digest.FromBytes(cfg), Size: 2},
		Layers: []ocispec.Descriptor{{MediaType: ocispec.MediaTypeImageLayer, Digest: d, Size: int64(len(secret))}}}
	m.SchemaVersion = 2
	mb, _ := json.Marshal(m)
	hdr := map[string]string{"Authorization": tokB["Authorization"], "Content-Type": ocispec.MediaTypeImageManifest}
	resp, b := do(t, "PUT", ts.URL+"/v2/team/b/manifests/v1", mb, hdr)
	if resp.StatusCode != 400 || codeOf(b) != codeManifestBlobUnknown {
		t.Fatalf("manifest in team/b naming team/a's layer: %d %s, want 400 MANIFEST_BLOB_UNKNOWN", resp.StatusCode, b)
	}
	if resp, _ := do(t, "GET", ts.URL+"/v2/team/b/blobs/"+d.String(), nil, tokB); resp.StatusCode != 404 {
		t.Fatalf("team/a's layer read through team/b: %d", resp.StatusCode)
	}
	// a mount needs pull on the source: the team/b token is asked for team/a too
	if resp, _ := do(t, "POST", ts.URL+"/v2/team/b/blobs/uploads/?mount="+d.String()+"&from=team/a", nil, tokB); resp.StatusCode != 401 {
		t.Fatalf("mount from team/a with a team/b token: %d", resp.StatusCode)
	}
	// with pull rights on team/a the mount works, and then the manifest does
	both := map[string]string{"Authorization": "Bearer " + tokenFor(t, ts.URL, "alice", "alice-pass", "repository:team/b:pull,push&scope=repository:team/a:pull")}
	if resp, b := do(t, "POST", ts.URL+"/v2/team/b/blobs/uploads/?mount="+d.String()+"&from=team/a", nil, both); resp.StatusCode != 201 {
		t.Fatalf("mount with pull on team/a: %d %s", resp.StatusCode, b)
	}
	if resp, b := do(t, "PUT", ts.URL+"/v2/team/b/manifests/v1", mb, hdr); resp.StatusCode != 201 {
		t.Fatalf("manifest after the mount: %d %s", resp.StatusCode, b)
	}
}

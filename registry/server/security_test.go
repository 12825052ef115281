package server

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

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

var hashes sync.Map // "user:pass" → bcrypt hash: an unchanged password keeps its line

func htpasswdLines(t *testing.T, path string, userPass ...string) {
	t.Helper()
	var out []byte
	for i := 0; i+1 < len(userPass); i += 2 {
		k := userPass[i] + ":" + userPass[i+1]
		h, ok := hashes.Load(k)
		if !ok {
			b, err := bcrypt.GenerateFromPassword([]byte(userPass[i+1]), bcrypt.MinCost)
			if err != nil {
				t.Fatal(err)
			}
			h, _ = hashes.LoadOrStore(k, string(b))
		}
		out = append(out, userPass[i]+":"+h.(string)+"\n"...)
	}
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
}

// postToken posts form to the token endpoint: the status and the JSON answer.
func postToken(t *testing.T, base string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(base+"/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func passwordGrant(t *testing.T, base, user, pass, scope string) (int, map[string]any) {
	t.Helper()
	return postToken(t, base, url.Values{"grant_type": {"password"}, "username": {user}, "password": {pass}, "service": {"axon-registry"}, "scope": {scope}})
}

func refreshGrant(t *testing.T, base, refresh, scope string) int {
	t.Helper()
	code, _ := postToken(t, base, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "service": {"axon-registry"}, "scope": {scope}})
	return code
}

// TestTokensBoundToCredential: a password change in the htpasswd file revokes
// the refresh and access tokens granted for the old one; removing the user too.
func TestTokensBoundToCredential(t *testing.T) {
	pw := filepath.Join(t.TempDir(), "htpasswd")
	htpasswdLines(t, pw, "bob", "old-pass", "carol", "carol-pass")
	ts := startServer(t, fsDriver(t), Config{Htpasswd: pw})
	scope := "repository:bob/repo:pull,push"
	push := func(tok string) int {
		resp, _ := do(t, "POST", ts.URL+"/v2/bob/repo/blobs/uploads/", nil, map[string]string{"Authorization": "Bearer " + tok})
		return resp.StatusCode
	}
	code, m := passwordGrant(t, ts.URL, "bob", "old-pass", scope)
	code2, mc := passwordGrant(t, ts.URL, "carol", "carol-pass", scope)
	if code != 200 || code2 != 200 {
		t.Fatalf("password grants: %d %d", code, code2)
	}
	refresh, access := m["refresh_token"].(string), m["access_token"].(string)
	if refreshGrant(t, ts.URL, refresh, scope) != 200 || push(access) != 202 {
		t.Fatal("fresh tokens refused")
	}
	time.Sleep(1100 * time.Millisecond) // the file is looked at at most once a second
	htpasswdLines(t, pw, "bob", "new-pass", "carol", "carol-pass")
	time.Sleep(1100 * time.Millisecond)
	if c := refreshGrant(t, ts.URL, refresh, scope); c != 401 {
		t.Fatalf("refresh token after the password changed: %d, want 401", c)
	}
	if c := push(access); c != 401 {
		t.Fatalf("access token after the password changed: %d, want 401", c)
	}
	if c, _ := passwordGrant(t, ts.URL, "bob", "new-pass", scope); c != 200 {
		t.Fatalf("new password: %d", c)
	}
	// carol is untouched, until she is removed
	if refreshGrant(t, ts.URL, mc["refresh_token"].(string), scope) != 200 {
		t.Fatal("another user's refresh token was revoked")
	}
	htpasswdLines(t, pw, "bob", "new-pass")
	time.Sleep(1100 * time.Millisecond)
	if c := refreshGrant(t, ts.URL, mc["refresh_token"].(string), scope); c != 401 {
		t.Fatalf("refresh token of a removed user: %d", c)
	}
}

// TestLoginThrottle: 200 concurrent bad logins are mostly answered 429 without
// a password check, while requests with a token go on being served.
func TestLoginThrottle(t *testing.T) {
	pw := filepath.Join(t.TempDir(), "htpasswd")
	htpasswdLines(t, pw, "bob", "bob-pass", "carol", "carol-pass")
	ts := startServer(t, fsDriver(t), Config{Htpasswd: pw})
	tok := tokenFor(t, ts.URL, "carol", "carol-pass", "repository:carol/x:pull")
	var n401, n429, other atomic.Int64
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			var code int
			if i%2 == 0 {
				code, _ = passwordGrant(t, ts.URL, "bob", "guess", "")
			} else {
				req, _ := http.NewRequest("GET", ts.URL+"/v2/", nil)
				req.SetBasicAuth("bob", "guess")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				code = resp.StatusCode
				if code == 429 && resp.Header.Get("Retry-After") == "" {
					t.Error("429 without Retry-After")
				}
			}
			switch code {
			case 401:
				n401.Add(1)
			case 429:
				n429.Add(1)
			default:
				other.Add(1)
			}
		})
	}
	// a normal request with a token meanwhile
	resp, _ := do(t, "GET", ts.URL+"/v2/carol/x/tags/list", nil, map[string]string{"Authorization": "Bearer " + tok})
	wg.Wait()
	if resp.StatusCode == 429 || resp.StatusCode == 401 {
		t.Fatalf("a request with a valid token during the storm: %d", resp.StatusCode)
	}
	t.Logf("200 bad logins: %d checked (401), %d throttled (429), %d other", n401.Load(), n429.Load(), other.Load())
	if n401.Load() > userFailBurst || n429.Load() < 200-userFailBurst || other.Load() != 0 {
		t.Fatalf("throttle let %d guesses be checked (burst %d)", n401.Load(), userFailBurst)
	}
	// bob himself is refused while the guessing lasts; another user from this address still logs in
	if c, _ := passwordGrant(t, ts.URL, "bob", "bob-pass", ""); c != 429 {
		t.Fatalf("bob's own login while throttled: %d", c)
	}
	if c, _ := passwordGrant(t, ts.URL, "carol", "carol-pass", ""); c != 200 {
		t.Fatalf("carol from the same address: %d", c)
	}
}

// TestAdminOnlyGCAndMetrics: with auth on, GC and /metrics need an admin
// (--admin); a pull-only token cannot start GC.
func TestAdminOnlyGCAndMetrics(t *testing.T) {
	pw := filepath.Join(t.TempDir(), "htpasswd")
	htpasswdLines(t, pw, "root", "root-pass", "dev", "dev-pass")
	ts := startServer(t, fsDriver(t), Config{Htpasswd: pw, Admins: []string{"root"}})
	basic := func(u, p string) map[string]string {
		r, _ := http.NewRequest("GET", "/", nil)
		r.SetBasicAuth(u, p)
		return map[string]string{"Authorization": r.Header.Get("Authorization")}
	}
	bearer := func(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }
	cases := []struct {
		what string
		hdr  map[string]string
		want int
	}{
		{"anonymous", nil, 401},
		{"a non-admin user", basic("dev", "dev-pass"), 403},
		{"the admin's pull-only token", bearer(tokenFor(t, ts.URL, "root", "root-pass", "repository:x/y:pull")), 403},
		{"a non-admin asking for the admin scope", bearer(tokenFor(t, ts.URL, "dev", "dev-pass", "registry:admin:*")), 403},
		{"the admin", basic("root", "root-pass"), 200},
		{"the admin's admin token", bearer(tokenFor(t, ts.URL, "root", "root-pass", "registry:admin:*")), 200},
	}
	for _, c := range cases {
		if resp, b := do(t, "POST", ts.URL+"/admin/gc?dry-run=true", nil, c.hdr); resp.StatusCode != c.want {
			t.Errorf("GC by %s: %d %s, want %d", c.what, resp.StatusCode, b, c.want)
		}
		if resp, _ := do(t, "GET", ts.URL+"/metrics", nil, c.hdr); resp.StatusCode != c.want {
			t.Errorf("/metrics by %s: %d, want %d", c.what, resp.StatusCode, c.want)
		}
	}
	if _, err := New(Config{Store: ts.Store, Htpasswd: pw, Admins: []string{"nobody"}}); err == nil {
		t.Fatal("an admin who is no user was accepted")
	}
}

// TestSessionRevocationsShared: a UI logout on one replica is refused by another
// sharing the storage.
func TestSessionRevocationsShared(t *testing.T) {
	d := fsDriver(t)
	a := startServer(t, d, Config{}).Srv.Revocations()
	b := startServer(t, d, Config{}).Srv.Revocations()
	id := "00112233445566778899aabbccddeeff"
	if b.Revoked(id) {
		t.Fatal("a live session reads as revoked")
	}
	a.Revoke(id, time.Now().Add(time.Hour))
	if !a.Revoked(id) {
		t.Fatal("revoked on A, not refused by A")
	}
	time.Sleep(liveFor + 100*time.Millisecond)
	if !b.Revoked(id) {
		t.Fatal("revoked on A, still accepted by B")
	}
	if !b.Revoked("../../etc") {
		t.Fatal("a malformed session id is accepted")
	}
}

func TestAPIResponsesNosniffAndCSP(t *testing.T) {
	ts := startServer(t, fsDriver(t), Config{})
	for _, c := range []struct{ method, path string }{
		{"GET", "/v2/"}, {"GET", "/v2/x/y/manifests/nope"}, {"GET", "/v2/x/y/blobs/sha256:" + strings.Repeat("a", 64)},
		{"GET", "/token"}, {"GET", "/healthz"}, {"GET", "/metrics"}, {"POST", "/admin/gc?dry-run=true"}, {"GET", "/v2/_catalog"},
	} {
		resp, _ := do(t, c.method, ts.URL+c.path, nil, nil)
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
			t.Errorf("%s %s (%d): nosniff %q, CSP %q", c.method, c.path, resp.StatusCode, resp.Header.Get("X-Content-Type-Options"), resp.Header.Get("Content-Security-Policy"))
		}
	}
	if isAPIPath("/ui/") || isAPIPath("/v2x") || !isAPIPath("/admin/gc") {
		t.Fatal("isAPIPath")
	}
}

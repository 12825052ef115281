package server

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestTokenEndpoint(t *testing.T) {
	ts := startServer(t, fsDriver(t), Config{Htpasswd: htpasswd(t, "bob", "builder-pass")})
	pushBlobAuth := func(tok string) int {
		resp, _ := do(t, "POST", ts.URL+"/v2/bob/repo/blobs/uploads/", nil, map[string]string{"Authorization": "Bearer " + tok})
		return resp.StatusCode
	}
	post := func(form url.Values) (int, map[string]any) { return postToken(t, ts.URL, form) }
	scope := "repository:bob/repo:pull,push"

	// OAuth2 password grant (docker, oras with stored credentials)
	code, m := post(url.Values{"grant_type": {"password"}, "username": {"bob"}, "password": {"builder-pass"}, "service": {"axon-registry"}, "scope": {scope}, "client_id": {"test"}})
	if code != 200 || m["access_token"] == nil || m["refresh_token"] == nil {
		t.Fatalf("password grant: %d %v", code, m)
	}
	if st := pushBlobAuth(m["access_token"].(string)); st != 202 {
		t.Fatalf("push with the granted token: %d", st)
	}
	// refresh grant
	code, m2 := post(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {m["refresh_token"].(string)}, "service": {"axon-registry"}, "scope": {scope}})
	if code != 200 || m2["access_token"] == nil {
		t.Fatalf("refresh grant: %d %v", code, m2)
	}
	// a refresh token is not an access token
	if st := pushBlobAuth(m["refresh_token"].(string)); st != 401 {
		t.Fatalf("refresh token used as access token: %d", st)
	}
	// wrong password, bad grant
	if code, _ := post(url.Values{"grant_type": {"password"}, "username": {"bob"}, "password": {"nope"}}); code != 401 {
		t.Fatalf("wrong password: %d", code)
	}
	if code, _ := post(url.Values{"grant_type": {"client_credentials"}}); code != 400 {
		t.Fatalf("unsupported grant: %d", code)
	}
	// GET with basic auth (docker login style); a pull-only token cannot push
	req, _ := http.NewRequest("GET", ts.URL+"/token?service=axon-registry&scope=repository:bob/repo:pull", nil)
	req.SetBasicAuth("bob", "builder-pass")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var g map[string]any
	json.NewDecoder(resp.Body).Decode(&g)
	resp.Body.Close()
	if resp.StatusCode != 200 || g["token"] == nil {
		t.Fatalf("GET token: %d %v", resp.StatusCode, g)
	}
	if st := pushBlobAuth(g["token"].(string)); st != 401 {
		t.Fatalf("push with a pull-only token: %d", st)
	}
	// anonymous token: no access without --anonymous-read
	resp, _ = http.Get(ts.URL + "/token?service=axon-registry&scope=repository:bob/repo:pull")
	json.NewDecoder(resp.Body).Decode(&g)
	resp.Body.Close()
	r, _ := do(t, "GET", ts.URL+"/v2/bob/repo/tags/list", nil, map[string]string{"Authorization": "Bearer " + g["token"].(string)})
	if r.StatusCode != 401 || !strings.Contains(r.Header.Get("WWW-Authenticate"), "insufficient_scope") {
		t.Fatalf("anonymous token read: %d %q", r.StatusCode, r.Header.Get("WWW-Authenticate"))
	}
	// basic auth straight on the API, and a forged token
	req, _ = http.NewRequest("GET", ts.URL+"/v2/", nil)
	req.SetBasicAuth("bob", "builder-pass")
	if resp, _ := http.DefaultClient.Do(req); resp.StatusCode != 200 {
		t.Fatalf("basic auth ping: %d", resp.StatusCode)
	}
	// a valid token in a cookie is not a credential: browsers send cookies cross-site
	req, _ = http.NewRequest("POST", ts.URL+"/v2/bob/repo/blobs/uploads/", nil)
	req.AddCookie(&http.Cookie{Name: "axon_token", Value: m["access_token"].(string)})
	if resp, _ := http.DefaultClient.Do(req); resp.StatusCode != 401 {
		t.Fatalf("token cookie accepted: %d", resp.StatusCode)
	}
	forged := "eyJhbGciOiJub25lIn0.eyJzdWIiOiJib2IifQ."
	if st := pushBlobAuth(forged); st != 401 {
		t.Fatalf("forged token: %d", st)
	}
}

// With --anonymous-read the catalog is readable without credentials, straight
// or through an anonymous token (oras repo ls); without it, it is not.
func TestAnonymousReadCatalog(t *testing.T) {
	for _, anon := range []bool{true, false} {
		ts := startServer(t, fsDriver(t), Config{Htpasswd: htpasswd(t, "bob", "builder-pass"), AnonymousRead: anon})
		want := 401
		if anon {
			want = 200
		}
		if r, b := do(t, "GET", ts.URL+"/v2/_catalog", nil, nil); r.StatusCode != want {
			t.Fatalf("anonymous-read=%v: catalog without credentials: %d %s", anon, r.StatusCode, b)
		}
		_, b := do(t, "GET", ts.URL+"/token?service=axon-registry&scope=registry:catalog:*", nil, nil)
		var tok map[string]any
		if err := json.Unmarshal(b, &tok); err != nil || tok["token"] == nil {
			t.Fatalf("anonymous token: %s", b)
		}
		if r, b := do(t, "GET", ts.URL+"/v2/_catalog", nil, map[string]string{"Authorization": "Bearer " + tok["token"].(string)}); r.StatusCode != want {
			t.Fatalf("anonymous-read=%v: catalog with an anonymous token: %d %s", anon, r.StatusCode, b)
		}
		// reading never lets anyone push, and the refusal says what to do
		if r, b := do(t, "POST", ts.URL+"/v2/bob/repo/blobs/uploads/", nil, nil); r.StatusCode != 401 || !strings.Contains(string(b), "log in to "+ts.Host) {
			t.Fatalf("anonymous push: %d %s", r.StatusCode, b)
		}
	}
}

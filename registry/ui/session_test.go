package ui

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestSafeNext(t *testing.T) {
	for _, evil := range []string{
		"//evil.example/x", "/\t/evil.example", "/\n/evil.example", "\\\\evil.example", "/\\evil.example",
		"/\\/evil.example", "https://evil.example/", "http:evil.example", "evil.example", " //evil.example",
		"/ /evil.example", "\x00//evil.example", "%2F%2Fevil.example", "javascript:alert(1)", "/%09/evil.example",
	} {
		got := safeNext(evil)
		u, err := url.Parse(got)
		if err != nil || u.Host != "" || u.Scheme != "" || !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.ContainsAny(got, "\\\t\n ") {
			t.Errorf("safeNext(%q) = %q: leaves the site", evil, got)
		}
	}
	for in, want := range map[string]string{
		"/ui/models/hf/bert?ref=v1": "/ui/models/hf/bert?ref=v1",
		"/ui/":                      "/ui/",
		"/%2F/evil.example":         "/evil.example", // decodes to ///evil.example: a path here
		"/ui/../ui/x":               "/ui/x",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestLogoutRevokesSession: the cookie of a session that logged out is refused
// by the server, even when replayed from elsewhere.
func TestLogoutRevokesSession(t *testing.T) {
	e := newEnv(t)
	e.seedTwo()
	e.start(Options{Authenticate: func(u, p string) bool { return u == "alice" && p == "s3cret" }})
	srv := e.server(nil)
	c := newClient(t, srv.URL)
	if resp, _ := c.login(url.Values{"user": {"alice"}, "password": {"s3cret"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	replay := newClient(t, srv.URL).setCookie(sessionCookie, c.session())
	if resp, _ := replay.get("/ui/"); resp.StatusCode != 200 {
		t.Fatalf("copied cookie before logout: %d", resp.StatusCode)
	}
	c.logout()
	if resp, _ := replay.get("/ui/"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the session's cookie still works after logout: %d", resp.StatusCode)
	}
}

func TestLoginThrottled(t *testing.T) {
	e := newEnv(t)
	e.seedTwo()
	fails := 0
	e.start(Options{
		Authenticate: func(u, p string) bool { return false },
		Login: func(u, p, remote string) (bool, time.Duration) {
			if fails >= 3 {
				return false, 30 * time.Second
			}
			fails++
			return false, 0
		},
	})
	srv := e.server(nil)
	c := newClient(t, srv.URL)
	codes := []int{}
	for range 5 {
		resp, body := c.login(url.Values{"user": {"alice"}, "password": {"guess"}})
		codes = append(codes, resp.StatusCode)
		if resp.StatusCode == 429 && (resp.Header.Get("Retry-After") != "30" || !strings.Contains(body, "Too many")) {
			t.Fatalf("429 page: %s %q", resp.Header.Get("Retry-After"), body)
		}
	}
	if codes[2] != 401 || codes[3] != 429 || codes[4] != 429 {
		t.Fatalf("login answers %v, want 401 until throttled, then 429", codes)
	}
}

package ui

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/retry"

	"github.com/mlos-foundation/axon/internal/testutil"
	"github.com/mlos-foundation/axon/registry/ui/uitest"
)

func TestMain(m *testing.M) { testutil.Main(m) }

// startRegistry builds and runs the real axon-registry with one user.
func startRegistry(t *testing.T, user, pass string, extra ...string) string {
	t.Helper()
	dir := t.TempDir()
	bin := testutil.Build(t, "github.com/mlos-foundation/axon/cmd/axon-registry")
	htpasswd := testutil.Htpasswd(t, user, pass)
	addr := testutil.FreeAddr(t)
	testutil.Start(t, nil, bin, append([]string{"--addr", addr, "--root", filepath.Join(dir, "data"), "--htpasswd", htpasswd}, extra...)...)
	testutil.WaitHTTP(t, "http://"+addr+"/healthz", 30*time.Second)
	return addr
}

func remoteRepo(t *testing.T, host, name, user, pass string) *remote.Repository {
	t.Helper()
	r, err := remote.NewRepository(host + "/" + name)
	if err != nil {
		t.Fatal(err)
	}
	r.PlainHTTP = true
	r.Client = &auth.Client{Client: retry.DefaultClient, Cache: auth.NewCache(),
		Credential: auth.StaticCredential(host, auth.Credential{Username: user, Password: pass})}
	return r
}

// waitAPI polls a JSON API path with basic auth until ok accepts the answer.
func waitAPI(t *testing.T, url, user, pass string, v any, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, _ := http.NewRequest("GET", url, nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		if resp, err := http.DefaultClient.Do(req); err == nil {
			if resp.StatusCode == 200 {
				json.NewDecoder(resp.Body).Decode(v)
			}
			resp.Body.Close()
			if resp.StatusCode == 200 && ok() {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: condition not met: %+v", url, v)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestEndToEndRegistry pushes packages with oras-go to the real axon-registry (auth
// on), then logs in with a real browser and finds them in its UI.
func TestEndToEndRegistry(t *testing.T) {
	b := newBrowser(t)
	const user, pass = "alice", "s3cret"
	host := startRegistry(t, user, pass)
	base := "http://" + host
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// Build the packages in a local OCI layout, then push them as any OCI client would.
	e := newEnv(t)
	e.seedTwo()
	for _, ref := range []struct{ repo, tag string }{{"hf/bert-tiny", "v1"}, {"pytorch/resnet18", "v2"}} {
		if _, err := oras.Copy(ctx, e.src.Store, LayoutTag(ref.repo, ref.tag), remoteRepo(t, host, ref.repo, user, pass), ref.tag, oras.DefaultCopyOptions); err != nil {
			t.Fatalf("push %s:%s: %v", ref.repo, ref.tag, err)
		}
	}
	var list Result
	waitAPI(t, base+"/api/repositories", user, pass, &list, func() bool { return list.Total == 2 })

	b.do("open the UI", chromedp.Navigate(base+"/ui/"), chromedp.WaitVisible(chromedp.CSS("#password")))
	b.do("log in", chromedp.SendKeys(chromedp.CSS("#user"), user), chromedp.SendKeys(chromedp.CSS("#password"), pass),
		chromedp.Click(chromedp.CSS("#login")), chromedp.WaitVisible(chromedp.CSS("#cards .card")))
	if n := eval[int](b, `document.querySelectorAll("#cards .card").length`); n != 2 {
		t.Fatalf("home shows %d cards, want 2", n)
	}
	b.screenshot("e2e-home")
	b.do("search", chromedp.SendKeys(chromedp.CSS("#q"), "image-classification"))
	b.waitJS("one card", `document.querySelectorAll("#cards .card").length === 1`)
	b.do("open resnet18", chromedp.Click(chromedp.CSS("#cards .card")), chromedp.WaitVisible(chromedp.CSS("#io-schema")))
	if loc := eval[string](b, `location.pathname`); loc != "/ui/models/pytorch/resnet18" {
		t.Fatalf("search led to %s", loc)
	}
	if io := eval[string](b, `document.querySelector("#io-schema").innerText`); !strings.Contains(io, "input_ids") || !strings.Contains(io, "[batch, 3]") {
		t.Fatalf("I/O schema: %s", io)
	}
	if cmds := eval[string](b, `document.querySelector("#commands").innerText`); !strings.Contains(cmds, "axon pull "+host+"/pytorch/resnet18:v2") {
		t.Fatalf("commands: %s", cmds)
	}
	b.screenshot("e2e-model")

	// The description with a script in it, served by the real registry, stays text.
	b.do("open bert", chromedp.Navigate(base+"/ui/models/hf/bert-tiny"), chromedp.WaitVisible(chromedp.CSS("#description")))
	if eval[bool](b, `document.title.includes("pwned") || window.__xss !== undefined`) {
		t.Fatal("script from manifest.yaml ran")
	}
	if d := eval[string](b, `document.querySelector("#description").textContent`); !strings.Contains(d, "<script>") {
		t.Fatalf("description: %q", d)
	}

	// A signature pushed by digest appears as a referrer (the registry notified the UI).
	bertRepo := remoteRepo(t, host, "hf/bert-tiny", user, pass)
	desc, err := bertRepo.Resolve(ctx, "v1")
	if err != nil {
		t.Fatal(err)
	}
	sig, err := uitest.BuildSignature(ctx, bertRepo, desc)
	if err != nil {
		t.Fatalf("push signature: %v", err)
	}
	var view RepositoryView
	waitAPI(t, base+"/api/repositories/hf/bert-tiny", user, pass, &view, func() bool { return len(view.Referrers) == 1 })
	b.do("reload bert", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#referrers")))
	if r := eval[string](b, `document.querySelector("#referrers").innerText`); !strings.Contains(r, uitest.SignatureType) || !strings.Contains(r, sig.Digest.Encoded()[:12]) {
		t.Fatalf("referrers: %s", r)
	}
	b.screenshot("e2e-referrers")

	// Deleting the manifest removes the card.
	if err := remoteRepo(t, host, "pytorch/resnet18", user, pass).Delete(ctx, mustResolve(t, ctx, remoteRepo(t, host, "pytorch/resnet18", user, pass), "v2")); err != nil {
		t.Fatalf("delete: %v", err)
	}
	waitAPI(t, base+"/api/repositories", user, pass, &list, func() bool { return list.Total == 1 })
	b.do("home after delete", chromedp.Navigate(base+"/ui/"), chromedp.WaitVisible(chromedp.CSS("#cards .card")))
	if n := eval[int](b, `document.querySelectorAll("#cards .card").length`); n != 1 {
		t.Fatalf("home shows %d cards after the delete, want 1", n)
	}
}

func mustResolve(t *testing.T, ctx context.Context, r *remote.Repository, ref string) ocispec.Descriptor {
	t.Helper()
	d, err := r.Resolve(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// With --anonymous-read, the UI is readable without logging in, like pulls are.
func TestEndToEndAnonymousRead(t *testing.T) {
	const user, pass = "alice", "s3cret"
	host := startRegistry(t, user, pass, "--anonymous-read")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	e := newEnv(t)
	e.model("hf/bert-tiny", "v1", uitest.Model{Seed: 1, Task: "text-classification"})
	if _, err := oras.Copy(ctx, e.src.Store, LayoutTag("hf/bert-tiny", "v1"), remoteRepo(t, host, "hf/bert-tiny", user, pass), "v1", oras.DefaultCopyOptions); err != nil {
		t.Fatalf("push: %v", err)
	}
	var list Result
	waitAPI(t, "http://"+host+"/api/repositories", "", "", &list, func() bool { return list.Total == 1 })
	c := newClient(t, "http://"+host)
	resp, body := c.get("/ui/models/hf/bert-tiny")
	if resp.StatusCode != 200 || !strings.Contains(body, `id="io-schema"`) || !strings.Contains(body, `href="/ui/login"`) {
		t.Fatalf("anonymous model page: %d", resp.StatusCode)
	}
}

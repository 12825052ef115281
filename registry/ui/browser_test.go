package ui

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mlos-foundation/axon/internal/testutil"
)

// outputDir is where screenshots go: $AXON_TEST_OUTPUT/ui, or a temp dir.
func outputDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("AXON_TEST_OUTPUT")
	if dir == "" {
		return t.TempDir()
	}
	dir = filepath.Join(dir, "ui")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Browser drives a real headless Chromium with a fresh profile.
type browser struct {
	t   *testing.T
	ctx context.Context
	out string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	bin := testutil.Chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	actx, acancel := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	if err := chromedp.Do(bctx); err != nil { // starts the browser
		t.Fatalf("start chromium: %v", err)
	}
	return &browser{t: t, ctx: bctx, out: outputDir(t)}
}

func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

func eval[T any](b *browser, js string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// waitJS waits until the expression is truthy.
func (b *browser) waitJS(what, js string) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		b.t.Fatalf("waiting for %s (%s): %v", what, js, err)
	}
}

func (b *browser) screenshot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	p := filepath.Join(b.out, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot %s", p)
}

func TestBrowser(t *testing.T) {
	b := newBrowser(t)
	e := newEnv(t)
	e.seedTwo()
	e.start(Options{PerPage: 2})
	srv := e.server(nil)
	host := strings.TrimPrefix(srv.URL, "http://")

	b.do("open the home page", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#cards .card")))
	if n := eval[int](b, `document.querySelectorAll("#cards .card").length`); n != 2 {
		t.Fatalf("home shows %d cards, want 2 (a page)", n)
	}
	b.screenshot("home")
	b.do("next page", chromedp.Click(chromedp.CSS(`#pager a[rel="next"]`)), chromedp.WaitVisible(chromedp.CSS(`#pager a[rel="prev"]`)))
	if names := eval[string](b, `[...document.querySelectorAll("#cards .card h2")].map(h => h.textContent).join(",")`); names != "pytorch/resnet18" {
		t.Fatalf("page 2 shows %q", names)
	}
	b.do("sort by size", chromedp.SetValue(chromedp.CSS(`select[name="sort"]`), "size"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('select[name="sort"]').dispatchEvent(new Event("input", {bubbles: true}))`))
	b.waitJS("sorted by size", `location.search.includes("sort=size") && document.querySelectorAll("#cards .card").length === 2 && document.querySelector("#cards .card h2").textContent === "hf/bert-tiny"`)

	// Search as you type: the cards are replaced from /api/repositories.
	b.do("type a search", chromedp.SendKeys(chromedp.CSS("#q"), "bert"))
	b.waitJS("one card", `document.querySelectorAll("#cards .card").length === 1 && location.search.includes("q=bert")`)
	if name := eval[string](b, `document.querySelector("#cards .card h2").textContent`); name != "hf/bert-tiny" {
		t.Fatalf("search found %q", name)
	}
	// The card built by script shows the description as text too.
	if d := eval[string](b, `document.querySelector("#cards .card .desc").textContent`); !strings.Contains(d, "<script>") {
		t.Fatalf("card description %q", d)
	}
	// the script rewrites the count of matches, not the registry's totals beside it
	if c := eval[string](b, `document.querySelector(".count").textContent`); !strings.Contains(c, "1–1 of 1 repositories") || !strings.Contains(c, "3 in the registry") {
		t.Fatalf("count line after a search: %q", c)
	}
	b.screenshot("search")

	b.do("open the model page", chromedp.Click(chromedp.CSS("#cards .card")), chromedp.WaitVisible(chromedp.CSS("#io-schema")))
	rows := eval[[]string](b, `[...document.querySelectorAll("#io-schema tbody tr")].map(r => r.innerText.replace(/\s+/g, " ").trim())`)
	want := []string{"input input_ids int64 [batch, sequence]", "input attention_mask int64 [batch, sequence]", "input token_type_ids int64 [batch, sequence]", "output probs float32 [batch, 2]"}
	if strings.Join(rows, "|") != strings.Join(want, "|") {
		t.Fatalf("I/O schema rows:\n%q\nwant\n%q", rows, want)
	}
	cmds := eval[string](b, `document.querySelector("#commands").innerText`)
	for _, w := range []string{"axon pull " + host + "/hf/bert-tiny:v1", "axon register " + host + "/hf/bert-tiny@sha256:", "curl -X POST localhost:8080/models/hf/bert-tiny/inference"} {
		if !strings.Contains(cmds, w) {
			t.Errorf("commands lack %q:\n%s", w, cmds)
		}
	}
	// manifest.yaml's description is text: the <script> in it neither ran nor became an element.
	if title := eval[string](b, `document.title`); strings.Contains(title, "pwned") {
		t.Fatalf("script in manifest.yaml ran: title %q", title)
	}
	if eval[bool](b, `window.__xss !== undefined || document.querySelector("#description script, #description img, #description b") !== null`) {
		t.Fatal("manifest.yaml description became HTML")
	}
	if d := eval[string](b, `document.querySelector("#description").textContent`); !strings.Contains(d, `<script>document.title="pwned"`) {
		t.Fatalf("description shown as %q", d)
	}
	b.do("copy the pull command", chromedp.Click(chromedp.CSS("#commands button.copy")))
	b.waitJS("copy feedback", `document.querySelector("#commands button.copy").textContent !== "Copy"`)
	b.screenshot("model")

	// Phone-sized screen: nothing wider than the viewport.
	b.do("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#io-schema")))
	if eval[bool](b, `document.documentElement.scrollWidth > window.innerWidth + 1`) {
		t.Errorf("model page wider than a phone: %d > %d", eval[int](b, `document.documentElement.scrollWidth`), eval[int](b, `window.innerWidth`))
	}
	b.screenshot("model-phone")
	b.do("phone home", chromedp.Navigate(srv.URL+"/ui/"), chromedp.WaitVisible(chromedp.CSS("#cards .card")))
	if eval[bool](b, `document.documentElement.scrollWidth > window.innerWidth + 1`) {
		t.Errorf("home page wider than a phone")
	}
	b.screenshot("home-phone")
}

func TestBrowserLogin(t *testing.T) {
	b := newBrowser(t)
	e := newEnv(t)
	e.seedTwo()
	e.start(Options{Authenticate: func(u, p string) bool { return u == "alice" && p == "s3cret" }})
	srv := e.server(nil)

	b.do("open a model page", chromedp.Navigate(srv.URL+"/ui/models/pytorch/resnet18"), chromedp.WaitVisible(chromedp.CSS("#password")))
	if loc := eval[string](b, `location.pathname`); loc != "/ui/login" {
		t.Fatalf("not sent to the login page: %s", loc)
	}
	b.do("wrong password", chromedp.SendKeys(chromedp.CSS("#user"), "alice"), chromedp.SendKeys(chromedp.CSS("#password"), "nope"),
		chromedp.Click(chromedp.CSS("#login")), chromedp.WaitVisible(chromedp.CSS(".err")))
	b.screenshot("login-failed")
	b.do("log in", chromedp.SendKeys(chromedp.CSS("#password"), "s3cret"), chromedp.Click(chromedp.CSS("#login")),
		chromedp.WaitVisible(chromedp.CSS("#io-schema")))
	if loc := eval[string](b, `location.pathname`); loc != "/ui/models/pytorch/resnet18" {
		t.Fatalf("after login at %s", loc)
	}
	if who := eval[string](b, `document.querySelector(".who").textContent`); who != "alice" {
		t.Fatalf("user shown as %q", who)
	}
	b.screenshot("logged-in")
	b.do("log out", chromedp.Click(chromedp.CSS(".logout button")), chromedp.WaitVisible(chromedp.CSS("#password")))
}

package ui

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/mlos-foundation/axon/registry/ui/uitest"
	"github.com/mlos-foundation/axon/schemas"
)

type client struct {
	t    *testing.T
	base string
	hc   *http.Client
}

func newClient(t *testing.T, base string) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: base, hc: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

func (c *client) do(req *http.Request) (*http.Response, string) {
	c.t.Helper()
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (c *client) get(path string) (*http.Response, string) {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.base+path, nil)
	return c.do(req)
}

func (c *client) json(path string, wantCode int, v any) {
	c.t.Helper()
	resp, body := c.get(path)
	if resp.StatusCode != wantCode {
		c.t.Fatalf("GET %s: %d, want %d: %s", path, resp.StatusCode, wantCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		c.t.Fatalf("GET %s: content type %q", path, ct)
	}
	if v != nil {
		if err := json.Unmarshal([]byte(body), v); err != nil {
			c.t.Fatalf("GET %s: %v: %s", path, err, body)
		}
	}
}

// login posts the login form; a session cookie it gets lands in c's jar.
func (c *client) login(form url.Values) (*http.Response, string) {
	c.t.Helper()
	req, _ := http.NewRequest("POST", c.base+"/ui/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

func (c *client) logout() {
	c.t.Helper()
	req, _ := http.NewRequest("POST", c.base+"/ui/logout", nil)
	c.do(req)
}

// session is the value of the (first) cookie in c's jar: the UI session after a login.
func (c *client) session() string {
	u, _ := url.Parse(c.base)
	return c.hc.Jar.Cookies(u)[0].Value
}

// setCookie puts a cookie for the server into c's jar.
func (c *client) setCookie(name, value string) *client {
	u, _ := url.Parse(c.base)
	c.hc.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value}})
	return c
}

func TestAPI(t *testing.T) {
	e := newEnv(t)
	bert, _ := e.seedTwo()
	e.start(Options{Host: "registry.example:5000"})
	c := newClient(t, e.server(nil).URL)

	var list Result
	c.json("/api/repositories?q=bert", 200, &list)
	if list.Total != 1 || list.Repositories[0].Name != "hf/bert-tiny" || list.Repositories[0].Task != "text-classification" || !list.Ready {
		t.Fatalf("search: %+v", list)
	}
	c.json("/api/repositories?sort=size&per_page=1&page=3", 200, &list)
	if list.Total != 3 || list.Pages != 3 || len(list.Repositories) != 1 || list.Repositories[0].Name != "library/alpine" {
		t.Fatalf("sort+page: %+v", list)
	}
	c.json("/api/repositories?task=image-classification", 200, &list)
	if list.Total != 1 || list.Repositories[0].Name != "pytorch/resnet18" {
		t.Fatalf("task filter: %+v", list)
	}
	for _, bad := range []string{"sort=random", "page=0", "page=x", "per_page=-1", "per_page=1e9"} {
		var er apiError
		c.json("/api/repositories?"+bad, 400, &er)
		if er.Error == "" {
			t.Fatalf("%s: no error message", bad)
		}
	}

	var repo RepositoryView
	c.json("/api/repositories/hf/bert-tiny", 200, &repo)
	if repo.Tag != "v1" || repo.Manifest.Digest != bert.Digest || repo.Manifest.Kind != KindModel || repo.Model == nil {
		t.Fatalf("repository: %+v", repo)
	}
	if in := repo.Model.IO.Inputs; len(in) != 3 || in[0].Name != "input_ids" || in[0].Shape[0].Name != "batch" {
		t.Fatalf("inputs: %+v", in)
	}
	if len(repo.Files) != 3 || repo.Files[0].Path != "model.onnx" || repo.Files[0].Role != "model" || repo.Files[0].MediaType == "" {
		t.Fatalf("files: %+v", repo.Files)
	}
	if repo.HubURL != "https://huggingface.co/prajjwal1/bert-tiny/tree/6f75de8b60a9f8a2fdf7b69cbd86d9e64bcb3837" {
		t.Fatalf("hub URL: %s", repo.HubURL)
	}
	wantCmds := []string{
		"axon pull registry.example:5000/hf/bert-tiny:v1",
		"axon register registry.example:5000/hf/bert-tiny@" + bert.Digest.String(),
		`curl -X POST localhost:8080/models/hf/bert-tiny/inference -d '{"input":"Hello"}'`,
	}
	for i, w := range wantCmds {
		if repo.Commands[i].Text != w {
			t.Errorf("command %d: %q, want %q", i, repo.Commands[i].Text, w)
		}
	}
	repo = RepositoryView{}
	c.json("/api/repositories/hf/bert-tiny?ref="+bert.Digest.String(), 200, &repo)
	if repo.Tag != "" || repo.Manifest.Digest != bert.Digest || !strings.Contains(repo.Commands[0].Text, "@sha256:") {
		t.Fatalf("by digest: %+v", repo)
	}
	repo = RepositoryView{}
	c.json("/api/repositories/library/alpine", 200, &repo)
	if repo.Manifest.Kind != KindImage || repo.Model != nil || len(repo.Manifest.Layers) != 1 || !strings.HasPrefix(repo.Commands[0].Text, "docker pull ") {
		t.Fatalf("image: %+v", repo)
	}
	for path, code := range map[string]int{
		"/api/repositories/no/such":                                            404,
		"/api/repositories/hf/bert-tiny?ref=v9":                                404,
		"/api/repositories/hf/bert-tiny?ref=sha256:" + strings.Repeat("0", 64): 404,
		"/api/repositories/hf/bert-tiny?ref=../../etc/passwd":                  400,
		"/api/repositories/hf/bert-tiny?ref=sha256:xyz":                        400,
		"/api/repositories/..%2F..%2Fetc":                                      404,
		"/api/repositories/HF/BERT":                                            404,
	} {
		c.json(path, code, nil)
	}
	var st Stats
	c.json("/api/stats", 200, &st)
	if st.Repositories != 3 || st.Tags != 3 || st.Formats["onnx"] != 2 || st.Bytes <= 0 {
		t.Fatalf("stats: %+v", st)
	}
}

func TestPagesEscapeAndRender(t *testing.T) {
	e := newEnv(t)
	e.seedTwo()
	e.start(Options{})
	c := newClient(t, e.server(nil).URL)

	for _, p := range []string{"/", "/ui/", "/ui/?q=bert&sort=size&page=x", "/ui/models/hf/bert-tiny", "/ui/models/library/alpine", "/ui/models/pytorch/resnet18?ref=v2"} {
		resp, body := c.get(p)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d", p, resp.StatusCode)
		}
		if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") {
			t.Fatalf("GET %s: no CSP", p)
		}
		if strings.Contains(body, "<script>document") || strings.Contains(body, "<img src=x") {
			t.Fatalf("GET %s: manifest.yaml description rendered as HTML", p)
		}
	}
	_, home := c.get("/ui/?q=bert")
	if !strings.Contains(home, `href="/ui/models/hf/bert-tiny"`) || strings.Contains(home, "pytorch/resnet18</h2>") {
		t.Fatalf("home search: %s", home)
	}
	_, page := c.get("/ui/models/hf/bert-tiny")
	for _, want := range []string{
		`id="io-schema"`, "<code>input_ids</code>", "<code>[batch, sequence]</code>", "axon pull 127.0.0.1:",
		"&lt;script&gt;document.title=&#34;pwned&#34;", "NEGATIVE", "apache-2.0", `id="files"`, "wordpiece",
		`href="https://huggingface.co/prajjwal1/bert-tiny/tree/6f75de8b60a9f8a2fdf7b69cbd86d9e64bcb3837"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("model page lacks %q", want)
		}
	}
	for p, code := range map[string]int{"/ui/models/no/such": 404, "/ui/models/hf/bert-tiny?ref=nope": 404, "/ui/models/hf/bert-tiny?ref=a:b": 400, "/ui/nope": 404, "/ui/models/": 404} {
		if resp, _ := c.get(p); resp.StatusCode != code {
			t.Errorf("GET %s: %d, want %d", p, resp.StatusCode, code)
		}
	}
	// /ui/REPO, the address people guess, leads to the model page
	if resp, _ := c.get("/ui/hf/bert-tiny"); resp.StatusCode != 302 || resp.Header.Get("Location") != "/ui/models/hf/bert-tiny" {
		t.Errorf("GET /ui/hf/bert-tiny: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, body := c.get("/ui/static/app.js"); resp.StatusCode != 200 || !strings.Contains(body, "textContent") {
		t.Fatalf("static: %d", resp.StatusCode)
	}
}

func TestLoginAndBasicAuth(t *testing.T) {
	e := newEnv(t)
	e.seedTwo()
	e.start(Options{Authenticate: func(u, p string) bool { return u == "alice" && p == "s3cret" }})
	srv := e.server(nil)
	c := newClient(t, srv.URL)

	resp, _ := c.get("/ui/models/hf/bert-tiny?ref=v1")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/login?next="+url.QueryEscape("/ui/models/hf/bert-tiny?ref=v1") {
		t.Fatalf("unauthenticated page: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = c.get("/api/stats")
	if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic") {
		t.Fatalf("unauthenticated API: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest("GET", srv.URL+"/api/stats", nil)
	req.SetBasicAuth("alice", "s3cret")
	if resp, _ := c.do(req); resp.StatusCode != 200 {
		t.Fatalf("basic auth: %d", resp.StatusCode)
	}
	// behind a TLS-terminating proxy the session cookie is Secure
	login, _ := http.NewRequest("POST", srv.URL+"/ui/login", strings.NewReader(url.Values{"user": {"alice"}, "password": {"s3cret"}}.Encode()))
	login.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	login.Header.Set("X-Forwarded-Proto", "https")
	noJar := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if resp, err := noJar.Do(login); err != nil || resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Set-Cookie"), "Secure") {
		t.Fatalf("login behind https proxy: %v %v", err, resp)
	} else {
		resp.Body.Close()
	}
	req.SetBasicAuth("alice", "wrong")
	if resp, _ := c.do(req); resp.StatusCode != 401 {
		t.Fatalf("wrong basic auth: %d", resp.StatusCode)
	}
	if resp, body := c.get("/ui/login"); resp.StatusCode != 200 || !strings.Contains(body, `name="password"`) {
		t.Fatalf("login page: %d", resp.StatusCode)
	}

	if resp, _ := c.login(url.Values{"user": {"alice"}, "password": {"nope"}}); resp.StatusCode != 401 {
		t.Fatalf("wrong password: %d", resp.StatusCode)
	}
	if resp, _ := c.login(url.Values{"user": {"alice"}, "password": {"s3cret"}, "next": {"//evil.example/x"}}); resp.StatusCode != 303 || resp.Header.Get("Location") != "/ui/" {
		t.Fatalf("login with an off-site next: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, body := c.get("/ui/models/hf/bert-tiny"); resp.StatusCode != 200 || !strings.Contains(body, "alice") {
		t.Fatalf("page after login: %d", resp.StatusCode)
	}
	// A forged or altered cookie is refused.
	parts := strings.Split(c.session(), ".")
	forged := newClient(t, srv.URL).setCookie(sessionCookie, "Ym9i."+parts[1]+"."+parts[2])
	if resp, _ := forged.get("/ui/"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("forged cookie: %d", resp.StatusCode)
	}
	c.logout()
	if resp, _ := c.get("/ui/"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("after logout: %d", resp.StatusCode)
	}
}

// The registry's own auth (a token cookie here) lets a request through without a
// UI login; when it refuses, a browser still lands on the login page.
func TestRegistryAuthMiddleware(t *testing.T) {
	e := newEnv(t)
	e.seedTwo()
	e.start(Options{Authenticate: func(u, p string) bool { return u == "alice" && p == "s3cret" }})
	regAuth := func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if ck, err := c.Cookie("axon_token"); err == nil && ck.Value == "good" {
				c.Set("user", "bob")
				return next(c)
			}
			c.Response().Header().Set("WWW-Authenticate", `Basic realm="x"`)
			return c.String(http.StatusUnauthorized, "authentication required\n")
		}
	}
	srv := e.server(regAuth)
	c := newClient(t, srv.URL)
	if resp, body := c.get("/ui/"); resp.StatusCode != http.StatusSeeOther || strings.Contains(body, "authentication required") {
		t.Fatalf("refused by the registry's auth: %d %q", resp.StatusCode, body)
	}
	c.setCookie("axon_token", "good")
	if resp, body := c.get("/ui/"); resp.StatusCode != 200 || !strings.Contains(body, `class="who">bob<`) {
		t.Fatalf("with the registry's token cookie: %d", resp.StatusCode)
	}
}

func TestImageIndexAndArtifacts(t *testing.T) {
	e := newEnv(t)
	idx, err := uitest.BuildIndex(e.ctx, e.src.Store, ocispec.Platform{OS: "linux", Architecture: "amd64"}, ocispec.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"})
	if err != nil {
		t.Fatal(err)
	}
	e.tag(idx, "library/busybox", "1.36")
	model := e.model("acme/m", "v1", uitest.Model{Seed: 4})
	sig, err := uitest.BuildSignature(e.ctx, e.src.Store, model)
	if err != nil {
		t.Fatal(err)
	}
	e.start(Options{})
	c := newClient(t, e.server(nil).URL)

	var v RepositoryView
	c.json("/api/repositories/library/busybox", 200, &v)
	if v.Manifest.Kind != KindIndex || len(v.Manifest.Manifests) != 2 || v.Manifest.Manifests[1].Platform.Architecture != "arm64" {
		t.Fatalf("index: %+v", v.Manifest)
	}
	indexSize, indexChildren := v.Manifest.Size, v.Manifest.Manifests
	_, page := c.get("/ui/models/library/busybox")
	if !strings.Contains(page, "linux/arm64/v8") || !strings.Contains(page, "docker pull ") {
		t.Fatal("index page lacks its platforms or pull command")
	}
	// A platform manifest, reached from the index by digest, is shown plainly.
	child := v.Manifest.Manifests[0].Digest.String()
	v = RepositoryView{}
	c.json("/api/repositories/library/busybox?ref="+child, 200, &v)
	if v.Manifest.Kind != KindImage || len(v.Manifest.Layers) != 1 {
		t.Fatalf("child manifest: %+v", v.Manifest)
	}
	// the index's size counts what its platforms carry, not just their manifests
	var other RepositoryView
	c.json("/api/repositories/library/busybox?ref="+indexChildren[1].Digest.String(), 200, &other)
	if want := idx.Size + v.Manifest.Size + other.Manifest.Size; indexSize != want {
		t.Fatalf("index size %d, want %d (its manifest and its platforms' contents)", indexSize, want)
	}
	// The referrer is listed on its subject and its own page works.
	v = RepositoryView{}
	c.json("/api/repositories/acme/m", 200, &v)
	if len(v.Referrers) != 1 || v.Referrers[0].Digest != sig.Digest {
		t.Fatalf("referrers: %+v", v.Referrers)
	}
	resp, page := c.get("/ui/models/acme/m?ref=" + sig.Digest.String())
	if resp.StatusCode != 200 || !strings.Contains(page, uitest.SignatureType) || !strings.Contains(page, "oras pull ") || !strings.Contains(page, "Refers to") {
		t.Fatalf("referrer page: %d", resp.StatusCode)
	}
	// the referrer's date reads like every other date on the page
	if _, page := c.get("/ui/models/acme/m"); !strings.Contains(page, "2025-02-03 04:05 UTC") {
		t.Fatal("referrer created date not shown as a date")
	}
	// an index of artifacts (oras manifest index create) is pulled with oras, not docker
	arts, err := json.Marshal(ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex,
		Manifests: []ocispec.Descriptor{{MediaType: model.MediaType, Digest: model.Digest, Size: model.Size}}})
	if err != nil {
		t.Fatal(err)
	}
	artIdx, err := uitest.Push(e.ctx, e.src.Store, ocispec.MediaTypeImageIndex, arts, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.tag(artIdx, "acme/m", "bundle")
	e.sync()
	if _, page := c.get("/ui/models/acme/m?ref=bundle"); !strings.Contains(page, "oras pull ") || strings.Contains(page, "docker pull") {
		t.Fatal("index of artifacts: want an oras pull command, not docker's")
	}
}

// flaky is a real source whose catalog fails a few times, as storage that is
// still starting would.
type flaky struct {
	Source
	fails atomic.Int32
}

func (f *flaky) Catalog(ctx context.Context, n int, last string) ([]string, error) {
	if f.fails.Add(-1) >= 0 {
		return nil, errors.New("connection refused")
	}
	return f.Source.Catalog(ctx, n, last)
}

func TestSeedRetriesAndQueuesEvents(t *testing.T) {
	e := newEnv(t)
	e.seedTwo()
	src := &flaky{Source: e.src}
	src.fails.Store(1)
	u, err := New(src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	e.ui = u
	// An event during the seed waits its turn and is applied after.
	e.model("late/push", "v1", uitest.Model{Seed: 9})
	ctx, cancel := context.WithTimeout(e.ctx, 20*time.Second)
	defer cancel()
	if err := u.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if st := u.idx.stats(); st.Repositories != 4 || !st.Ready {
		t.Fatalf("after a failed first seed: %+v", st)
	}
}

// The example inference call fits the model: text where there is a tokenizer,
// small zero tensors shaped like the inputs, else a file to fill.
func TestInferenceExample(t *testing.T) {
	dims := func(ds ...schemas.Dim) []schemas.Dim { return ds }
	batch, n3, huge := schemas.Dim{Name: "batch"}, schemas.Dim{Size: 3}, schemas.Dim{Size: 1 << 40}
	text := &schemas.Manifest{Files: []schemas.File{{Path: "tokenizer.json", Role: "tokenizer"}},
		IO: schemas.IO{Inputs: []schemas.Tensor{{Name: "input_ids", DType: "int64", Shape: dims(batch, schemas.Dim{Name: "sequence"})}}}}
	vector := &schemas.Manifest{IO: schemas.IO{Inputs: []schemas.Tensor{{Name: "x", DType: "float32", Shape: dims(batch, n3)}}}}
	two := &schemas.Manifest{IO: schemas.IO{Inputs: []schemas.Tensor{{Name: "a", DType: "float32", Shape: dims(n3)}, {Name: "b", DType: "int64", Shape: nil}}}}
	image := &schemas.Manifest{IO: schemas.IO{Inputs: []schemas.Tensor{{Name: "pixels", DType: "float32", Shape: dims(batch, n3, schemas.Dim{Size: 224}, schemas.Dim{Size: 224})}}}}
	absurd := &schemas.Manifest{IO: schemas.IO{Inputs: []schemas.Tensor{{Name: "x", DType: "float32", Shape: dims(huge, huge, huge)}}}}
	for _, c := range []struct {
		m    *schemas.Manifest
		want string
	}{
		{nil, `-d '{"input":"Hello"}'`},
		{text, `-d '{"input":"Hello"}'`},
		{vector, `-d '{"input":[[0,0,0]]}'`},
		{two, `-d '{"input":{"a":[0,0,0],"b":0}}'`},
		{image, `-d @input.json  # {"input": nested arrays} for pixels float32 [batch, 3, 224, 224]`},
		{absurd, `-d @input.json  # {"input": nested arrays} for x float32 [1099511627776, 1099511627776, 1099511627776]`},
	} {
		if got := inferenceData(c.m); got != c.want {
			t.Errorf("inferenceData: %s\nwant %s", got, c.want)
		}
	}
}

// An empty registry says how to fill it instead of "No repositories match."
func TestEmptyRegistryHome(t *testing.T) {
	e := newEnv(t)
	e.start(Options{})
	srv := e.server(nil)
	c := newClient(t, srv.URL)
	host := strings.TrimPrefix(srv.URL, "http://")
	if _, page := c.get("/ui/"); !strings.Contains(page, `id="empty"`) || !strings.Contains(page, "axon push hf/bert-base-uncased@latest "+host) {
		t.Fatalf("empty home page:\n%s", page)
	}
	e.seedTwo()
	e.sync()
	if _, page := c.get("/ui/"); strings.Contains(page, `id="empty"`) {
		t.Fatal("the empty-registry panel shows beside repositories")
	}
}

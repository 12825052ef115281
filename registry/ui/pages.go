package ui

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/mlos-foundation/axon/schemas"
)

//go:embed templates/*.html static/*
var assets embed.FS

// Content-Security-Policy of every page: only the embedded script and stylesheet
// run, so even a value that escaped escaping could not execute.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"

type pages struct {
	home, model, login, errPage *template.Template
	version                     string // of the static assets, for cache busting
}

var funcs = template.FuncMap{
	"bytes":   humanBytes,
	"date":    func(t time.Time) string { return fmtDate(t) },
	"rfcdate": func(s string) string { return fmtRFC3339(s) },
	"short":   shortDigest,
	"shape":   shape,
	"repoURL": repoURL,
	"refURL":  func(repo, ref string) string { return repoURL(repo) + "?ref=" + url.QueryEscape(ref) },
	"join":    strings.Join,
	"floats":  func(f []float64) string { return joinAny(f) },
	"ints":    func(f []int) string { return joinAny(f) },
	"num":     func(n int64) string { return humanCount(n) },
	"add":     func(a, b int) int { return a + b },
}

func newPages() (*pages, error) {
	parse := func(name string) (*template.Template, error) {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(assets, "templates/layout.html", "templates/"+name)
		if err != nil {
			return nil, fmt.Errorf("ui: template %s: %w", name, err)
		}
		return t, nil
	}
	p := &pages{}
	var err error
	for name, dst := range map[string]**template.Template{
		"home.html": &p.home, "model.html": &p.model, "login.html": &p.login, "error.html": &p.errPage,
	} {
		if *dst, err = parse(name); err != nil {
			return nil, err
		}
	}
	h := sha256.New()
	_ = fs.WalkDir(assets, "static", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := assets.ReadFile(path)
			h.Write(b)
		}
		return nil
	})
	p.version = hex.EncodeToString(h.Sum(nil))[:12]
	return p, nil
}

// base is what the layout needs on every page.
type base struct {
	Title   string
	User    string
	Login   bool // a login is configured, so show a log-out button
	Version string
	Ready   bool
}

func (u *UI) base(c echo.Context, title string) base {
	user, _ := c.Get(ctxUser).(string)
	return base{Title: title, User: user, Login: u.opts.Authenticate != nil, Version: u.pages.version, Ready: u.Ready()}
}

func (u *UI) render(c echo.Context, code int, t *template.Template, data any) error {
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		u.log.Error("render page", "path", c.Request().URL.Path, "err", err)
		return c.String(http.StatusInternalServerError, "the page could not be rendered")
	}
	h := c.Response().Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	return c.HTML(code, b.String())
}

func (u *UI) notFound(c echo.Context, msg string) error {
	return u.render(c, http.StatusNotFound, u.pages.errPage, struct {
		base
		Message string
	}{u.base(c, "Not found"), msg})
}

// facet is one option of a filter, with how many repositories have it.
type facet struct {
	Value string
	Count int
}

type homeData struct {
	base
	Q                          Query
	Result                     Result
	Stats                      Stats
	Tasks, Frameworks, Formats []facet
	Prev, Next                 string
	From, To                   int
	Host                       string // for the empty registry's first commands
}

func facets(m map[string]int) []facet {
	out := make([]facet, 0, len(m))
	for k, v := range m {
		out = append(out, facet{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Value < out[j].Value })
	return out
}

// parseQuery reads the listing parameters. strict (the API) rejects bad numbers
// and sorts; the pages fall back to defaults.
func (u *UI) parseQuery(c echo.Context, strict bool) (Query, error) {
	q := Query{
		Q: c.QueryParam("q"), Task: c.QueryParam("task"), Framework: c.QueryParam("framework"),
		Format: c.QueryParam("format"), Sort: c.QueryParam("sort"), Page: 1, PerPage: u.opts.PerPage,
	}
	if q.Sort == "" {
		q.Sort = SortName
	}
	if !validSort(q.Sort) {
		if strict {
			return q, fmt.Errorf("sort must be name, updated or size, not %q", q.Sort)
		}
		q.Sort = SortName
	}
	for _, p := range []struct {
		name string
		dst  *int
		max  int
	}{{"page", &q.Page, 1 << 30}, {"per_page", &q.PerPage, 100}} {
		s := c.QueryParam(p.name)
		if s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			if strict {
				return q, fmt.Errorf("%s must be a whole number from 1, not %q", p.name, s)
			}
			continue
		}
		*p.dst = min(n, p.max)
	}
	return q, nil
}

func (u *UI) home(c echo.Context) error {
	q, _ := u.parseQuery(c, false)
	res := u.idx.list(q)
	st := u.idx.stats()
	d := homeData{
		base: u.base(c, "Models"), Q: q, Result: res, Stats: st,
		Tasks: facets(st.Tasks), Frameworks: facets(st.Frameworks), Formats: facets(st.Formats),
		Host: u.host(c),
	}
	if res.Total > 0 {
		d.From = (res.Page-1)*res.PerPage + 1
		d.To = d.From + len(res.Repositories) - 1
	}
	page := func(n int) string {
		v := url.Values{}
		for k, val := range map[string]string{"q": q.Q, "task": q.Task, "framework": q.Framework, "format": q.Format} {
			if val != "" {
				v.Set(k, val)
			}
		}
		if q.Sort != SortName {
			v.Set("sort", q.Sort)
		}
		if q.PerPage != u.opts.PerPage {
			v.Set("per_page", strconv.Itoa(q.PerPage))
		}
		if n > 1 {
			v.Set("page", strconv.Itoa(n))
		}
		if len(v) == 0 {
			return "/ui/"
		}
		return "/ui/?" + v.Encode()
	}
	if res.Page > 1 {
		d.Prev = page(min(res.Page-1, max(res.Pages, 1)))
	}
	if res.Page < res.Pages {
		d.Next = page(res.Page + 1)
	}
	return u.render(c, http.StatusOK, u.pages.home, d)
}

// Repository names and references as the distribution spec allows them; anything
// else cannot be in the index and is answered 404 without a lookup.
var (
	repoRE = regexp.MustCompile(`^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$`)
	tagRE  = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$`)
)

// FileRow is one file of a package, for the files table.
type FileRow struct {
	Path      string `json:"path"`
	Role      string `json:"role,omitempty"`
	MediaType string `json:"mediaType,omitempty"`
	Size      int64  `json:"size"`
	Digest    string `json:"digest"`
}

// Command is a copy-ready command line.
type Command struct {
	Label string `json:"label"`
	Text  string `json:"text"`
}

// detail is everything the model page and /api/repositories/{repo} show.
type detail struct {
	Repo      string
	Tags      []TagInfo
	Ref       string // what was asked for, or the latest tag
	Tag       string // the tag shown, "" when shown by digest
	M         *manifestInfo
	Model     *schemas.Manifest
	RawConfig string
	HubURL    string
	Files     []FileRow
	Referrers []ocispec.Descriptor
	Commands  []Command
	Annots    []kv
	TextGen   *schemas.TextGeneration // a text-generation package: KV cache, chat template, OpenAI call
}

type kv struct{ Key, Value string }

var errBadRef = fmt.Errorf("not a tag or digest")

// detail gathers a repository's page. ok is false when the repository or the
// reference is unknown.
func (u *UI) detail(ctx context.Context, c echo.Context, repo, ref string, withRaw bool) (*detail, error) {
	if !repoRE.MatchString(repo) {
		return nil, errNotFound
	}
	r, ok := u.idx.repo(repo)
	if !ok {
		return nil, errNotFound
	}
	d := &detail{Repo: repo, Tags: r.tags, Ref: ref}
	var dgst digest.Digest
	if ref == "" {
		lt := latestTag(r.tags)
		d.Ref, d.Tag, dgst = lt.Name, lt.Name, lt.Digest
	} else if tagRE.MatchString(ref) {
		for _, t := range r.tags {
			if t.Name == ref {
				d.Tag, dgst = t.Name, t.Digest
			}
		}
		if dgst == "" {
			return nil, errNotFound
		}
	} else if p, err := digest.Parse(ref); err == nil {
		dgst = p
	} else {
		return nil, errBadRef
	}
	mi := r.manifests[dgst]
	if mi == nil {
		// A digest that no tag points at (a referrer, a platform manifest): one read.
		desc, err := u.src.Resolve(ctx, repo, dgst.String())
		if err != nil || desc.Digest != dgst {
			return nil, errNotFound
		}
		if mi, err = loadManifest(ctx, u.src, repo, dgst); err != nil {
			return nil, errNotFound
		}
	}
	d.M, d.Model = mi, mi.Model
	if refs, ok := r.referrers[dgst]; ok {
		d.Referrers = refs
	} else if mi != r.manifests[dgst] {
		d.Referrers, _ = u.src.Referrers(ctx, repo, dgst)
	}
	for k, v := range mi.Annotations {
		d.Annots = append(d.Annots, kv{k, v})
	}
	sort.Slice(d.Annots, func(i, j int) bool { return d.Annots[i].Key < d.Annots[j].Key })
	d.Files = files(mi)
	if d.Model != nil {
		d.HubURL = hubURL(d.Model.Source)
	}
	if withRaw && mi.Kind == KindModel {
		if raw, err := readBlob(ctx, u.src, mi.Config, maxConfigBytes); err == nil && isText(raw) {
			d.RawConfig = string(raw)
		}
	}
	if mi.Kind == KindModel {
		d.TextGen = d.Model.TextGenerationInfo(u.opts.RuntimeURL)
	}
	d.Commands = u.commands(c, d)
	return d, nil
}

func files(mi *manifestInfo) []FileRow {
	byDigest := map[string]ocispec.Descriptor{}
	for _, l := range mi.Layers {
		byDigest[l.Digest.String()] = l
	}
	var out []FileRow
	if mi.Model != nil && len(mi.Model.Files) > 0 {
		for _, f := range mi.Model.Files {
			out = append(out, FileRow{Path: f.Path, Role: f.Role, Size: f.Size, Digest: f.Digest, MediaType: byDigest[f.Digest].MediaType})
		}
		return out
	}
	for _, l := range mi.Layers {
		name := l.Annotations[schemas.AnnotationFilepath]
		if name == "" {
			name = l.Annotations[schemas.AnnotationTitle]
		}
		out = append(out, FileRow{Path: name, MediaType: l.MediaType, Size: l.Size, Digest: l.Digest.String()})
	}
	return out
}

func (u *UI) host(c echo.Context) string {
	if u.opts.Host != "" {
		return u.opts.Host
	}
	return c.Request().Host
}

func (u *UI) commands(c echo.Context, d *detail) []Command {
	host := u.host(c)
	ref := host + "/" + d.Repo
	byTag := ref + "@" + d.M.Digest.String()
	if d.Tag != "" {
		byTag = ref + ":" + d.Tag
	}
	byDigest := ref + "@" + d.M.Digest.String()
	switch d.M.Kind {
	case KindModel:
		ns, name := d.Repo, ""
		if d.Model != nil && d.Model.Namespace != "" && d.Model.Name != "" {
			ns, name = d.Model.Namespace, d.Model.Name
		}
		path := ns
		if name != "" {
			path += "/" + name
		}
		cmds := []Command{
			{"Pull", "axon pull " + byTag},
			{"Run on MLOS Core", "axon register " + byDigest},
			{"Inference", "curl -X POST " + u.opts.RuntimeURL + "/models/" + path + "/inference " + inferenceData(d.Model)},
		}
		if d.TextGen != nil {
			cmds = append(cmds, Command{"OpenAI API", d.TextGen.Curl})
		}
		return cmds
	case KindImage:
		return []Command{{"Pull", "docker pull " + byTag}, {"Pull by digest", "docker pull " + byDigest}}
	case KindIndex:
		// a multi-platform image is docker's; an index of artifacts (oras manifest index) is not
		if len(d.M.Manifests) > 0 && !slices.ContainsFunc(d.M.Manifests, func(m ocispec.Descriptor) bool { return m.Platform == nil }) {
			return []Command{{"Pull", "docker pull " + byTag}, {"Pull by digest", "docker pull " + byDigest}}
		}
		return []Command{{"Pull", "oras pull " + byTag}, {"Pull by digest", "oras pull " + byDigest}}
	default:
		return []Command{{"Pull", "oras pull " + byTag}, {"Pull by digest", "oras pull " + byDigest}}
	}
}

// hubURL links a package to where it came from; only http(s) links are made.
func hubURL(s *schemas.Source) string {
	if s == nil {
		return ""
	}
	if s.URL != "" {
		if p, err := url.Parse(s.URL); err == nil && (p.Scheme == "https" || p.Scheme == "http") && p.Host != "" {
			return p.String()
		}
	}
	id := strings.Trim(s.ID, "/")
	if id == "" || strings.Contains(id, "..") {
		return ""
	}
	switch s.Hub {
	case "hf", "huggingface":
		if s.Revision != "" {
			return "https://huggingface.co/" + id + "/tree/" + url.PathEscape(s.Revision)
		}
		return "https://huggingface.co/" + id
	case "modelscope":
		return "https://modelscope.cn/models/" + id
	}
	return ""
}

func (u *UI) modelPage(c echo.Context) error {
	repo, err := url.PathUnescape(c.Param("*"))
	if err != nil {
		return u.notFound(c, "No such repository.")
	}
	repo = strings.TrimSuffix(repo, "/")
	d, err := u.detail(c.Request().Context(), c, repo, c.QueryParam("ref"), true)
	if err == errBadRef {
		return u.render(c, http.StatusBadRequest, u.pages.errPage, struct {
			base
			Message string
		}{u.base(c, "Bad reference"), "ref must be a tag or a digest (sha256:…)."})
	}
	if err != nil {
		msg := "No repository named " + repo + " in this registry."
		if c.QueryParam("ref") != "" {
			msg = "No " + c.QueryParam("ref") + " in " + repo + "."
		}
		return u.notFound(c, msg)
	}
	title := repo
	if d.Tag != "" {
		title += ":" + d.Tag
	}
	return u.render(c, http.StatusOK, u.pages.model, struct {
		base
		D *detail
	}{u.base(c, title), d})
}

func repoURL(repo string) string {
	parts := strings.Split(repo, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return "/ui/models/" + strings.Join(parts, "/")
}

func shortDigest(d any) string {
	s := fmt.Sprint(d)
	if i := strings.IndexByte(s, ':'); i >= 0 && len(s) > i+13 {
		return s[:i+13]
	}
	return s
}

func shape(dims []schemas.Dim) string {
	parts := make([]string, len(dims))
	for i, d := range dims {
		parts[i] = d.String()
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func joinAny[T any](v []T) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = fmt.Sprint(x)
	}
	return strings.Join(parts, ", ")
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func humanCount(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.1fB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1fM", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1fK", float64(n)/1e3)
	}
	return strconv.FormatInt(n, 10)
}

func fmtDate(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// fmtRFC3339 shows an annotation's timestamp like every other date on the pages;
// a value that is not one is shown as it is.
func fmtRFC3339(s string) string {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	return fmtDate(t)
}

// maxExampleElements bounds the zero tensors written into an example command.
const maxExampleElements = 32

// inferenceData is the curl data of an example inference call that fits the
// model: text for a model with a tokenizer, else zero tensors shaped like its
// inputs (symbolic dimensions 1), else a file to fill, described in a comment.
func inferenceData(m *schemas.Manifest) string {
	if m == nil || hasTokenizer(m) || len(m.IO.Inputs) == 0 {
		return `-d '{"input":"Hello"}'`
	}
	values := make([]string, len(m.IO.Inputs))
	var shapes []string
	fits := true
	for i, in := range m.IO.Inputs {
		dims := make([]int64, len(in.Shape))
		n := int64(1)
		for j, d := range in.Shape {
			dims[j] = 1
			if !d.Symbolic() && d.Size > 0 {
				dims[j] = d.Size
			}
			if n *= dims[j]; n > maxExampleElements {
				fits = false
				break
			}
		}
		if fits {
			values[i] = zeros(dims)
		}
		shapes = append(shapes, in.Name+" "+in.DType+" "+shape(in.Shape))
	}
	if !fits {
		return "-d @input.json  # " + `{"input": nested arrays} for ` + strings.Join(shapes, ", ")
	}
	if len(values) == 1 {
		return `-d '{"input":` + values[0] + `}'`
	}
	parts := make([]string, len(values))
	for i, in := range m.IO.Inputs {
		parts[i] = strconv.Quote(in.Name) + ":" + values[i]
	}
	return `-d '{"input":{` + strings.Join(parts, ",") + `}}'`
}

func hasTokenizer(m *schemas.Manifest) bool {
	if m.Preprocessing != nil && m.Preprocessing.Tokenizer != nil {
		return true
	}
	// as mlosd looks for it: a tokenizer.json anywhere in the package
	return slices.ContainsFunc(m.Files, func(f schemas.File) bool {
		return f.Role == schemas.RoleTokenizer || path.Base(f.Path) == "tokenizer.json"
	})
}

// zeros writes a nested JSON array of zeros with the given dimensions.
func zeros(dims []int64) string {
	if len(dims) == 0 {
		return "0"
	}
	inner := zeros(dims[1:])
	parts := make([]string, dims[0])
	for i := range parts {
		parts[i] = inner
	}
	return "[" + strings.Join(parts, ",") + "]"
}

package hubtest

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// HF is a replica of the Hugging Face Hub: the model API (/api/models/{id}/revision/{rev},
// /api/models/{id}/tree/{rev} with Link pagination), /{id}/resolve/{rev}/{file} with
// X-Repo-Commit, ETag / X-Linked-Etag / X-Linked-Size and a 302 to a second host (the
// CDN) for LFS files, legacy ids redirected to their organisation, gated and private
// repositories, and the X-Error-Code error headers.
type HF struct {
	URL    string // the hub: set HF_ENDPOINT to it
	CDNURL string // the second host LFS files redirect to
	Token  string // the bearer token that opens gated and private repositories
	// PageSize is how many tree entries one page holds (the Hub's is 1000 for
	// recursive listings; tests make it small to exercise pagination).
	PageSize int
	Faults   Faults
	// AuthOnCDN counts requests to the CDN that carried an Authorization header (a leak).
	AuthOnCDN atomicCounter
	// Requests counts every request to the hub and the CDN; AuthOnHub those to
	// the hub that carried the replica's token.
	Requests, AuthOnHub atomicCounter

	mu      sync.Mutex
	repos   map[string]*hfRepo
	aliases map[string]string
	blobs   map[string]*blob // by sha256, for the CDN
}

// HFRepo describes a model repository to serve.
type HFRepo struct {
	ID          string   // ORG/NAME
	Aliases     []string // legacy ids redirected to ID (e.g. bert-base-uncased)
	Gated       bool     // files need the token
	Private     bool     // everything needs the token; otherwise RepoNotFound
	PipelineTag string
	LibraryName string
	License     string
	Files       []File
	Time        time.Time // commit time; zero: a fixed date
	Branch      string    // default main
	Tags        []string  // git tags pointing at this commit
}

type hfRepo struct {
	HFRepo
	commits map[string]*hfCommit
	refs    map[string]string // branch/tag → commit
}

type hfCommit struct {
	sha   string
	time  time.Time
	files map[string]*blob
	paths []string
}

type atomicCounter struct {
	mu sync.Mutex
	n  int
}

func (a *atomicCounter) inc() { a.mu.Lock(); a.n++; a.mu.Unlock() }

// Load returns the count.
func (a *atomicCounter) Load() int { a.mu.Lock(); defer a.mu.Unlock(); return a.n }

// NewHF starts the hub and its CDN; both stop when the test ends.
func NewHF(t testing.TB) *HF {
	h := &HF{Token: "hf_replica_token", PageSize: 1000, repos: map[string]*hfRepo{}, aliases: map[string]string{}, blobs: map[string]*blob{}}
	h.URL = serve(t, h.serveHub)
	// A different host name than the hub's, so that "another host" is plain to see.
	h.CDNURL = serveElsewhere(t, h.serveCDN)
	return h
}

// Push commits the repository's files (a new commit on its branch) and returns the commit sha.
func (h *HF) Push(r HFRepo) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if r.Branch == "" {
		r.Branch = "main"
	}
	repo := h.repos[r.ID]
	if repo == nil {
		repo = &hfRepo{commits: map[string]*hfCommit{}, refs: map[string]string{}}
		h.repos[r.ID] = repo
	}
	repo.HFRepo = r
	for _, a := range r.Aliases {
		h.aliases[a] = r.ID
	}
	when := r.Time
	if when.IsZero() {
		when = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC).Add(time.Duration(len(repo.commits)) * time.Hour)
	}
	c, err := newCommit(r.Files, when, fmt.Sprintf("%s\n%s\n%d\n", r.ID, repo.refs[r.Branch], when.Unix()),
		func(b *blob) string { return b.gitOID }, h.blobs)
	if err != nil {
		return "", err
	}
	repo.commits[c.sha] = c
	repo.refs[r.Branch] = c.sha
	for _, tg := range r.Tags {
		repo.refs[tg] = c.sha
	}
	return c.sha, nil
}

// BERTRepo is the tiny BERT text classifier (TinyBERT) as google-bert/bert-base-uncased,
// with its legacy id bert-base-uncased, like the real repository: serve it with
// h.MustPush(t, hubtest.BERTRepo()) and install hf/bert-base-uncased@latest.
func BERTRepo() HFRepo {
	return HFRepo{
		ID: "google-bert/bert-base-uncased", Aliases: []string{"bert-base-uncased"},
		PipelineTag: "text-classification", LibraryName: "transformers", License: "apache-2.0",
		Files: TinyBERT(),
	}
}

// MustPush is Push for tests.
func (h *HF) MustPush(t testing.TB, r HFRepo) string {
	t.Helper()
	sha, err := h.Push(r)
	if err != nil {
		t.Fatal(err)
	}
	return sha
}

func hfError(w http.ResponseWriter, code int, errCode, msg string) {
	if errCode != "" {
		w.Header().Set("X-Error-Code", errCode)
	}
	w.Header().Set("X-Error-Message", msg)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

func (h *HF) authorized(r *http.Request) (present, ok bool) {
	a := r.Header.Get("Authorization")
	return a != "", a == "Bearer "+h.Token
}

// lookup finds a repository, answering like the Hub when it cannot be seen.
func (h *HF) lookup(w http.ResponseWriter, r *http.Request, id string) (*hfRepo, string, bool) {
	canon := id
	if a, ok := h.aliases[id]; ok {
		canon = a
	}
	repo := h.repos[canon]
	present, ok := h.authorized(r)
	if repo == nil || (repo.Private && !ok) {
		msg := "Repository Not Found for url: " + r.URL.String() + ". Please make sure you specified the correct `repo_id` and `repo_type`. If you are trying to access a private or gated repo, make sure you are authenticated."
		code := http.StatusUnauthorized
		if present && ok {
			code = http.StatusNotFound
		}
		hfError(w, code, "RepoNotFound", msg)
		return nil, "", false
	}
	return repo, canon, true
}

func (repo *hfRepo) commit(rev string) *hfCommit {
	if sha, ok := repo.refs[rev]; ok {
		return repo.commits[sha]
	}
	return repo.commits[rev]
}

// splitID splits "org/name/rest" or "name/rest" at a keyword element ("revision", "tree", "resolve").
func splitAt(p, kw string) (id, rest string, ok bool) {
	parts := strings.Split(p, "/")
	for i := 1; i < len(parts) && i <= 2; i++ {
		if parts[i] == kw {
			return strings.Join(parts[:i], "/"), strings.Join(parts[i+1:], "/"), true
		}
	}
	return "", "", false
}

func (h *HF) serveHub(w http.ResponseWriter, r *http.Request) {
	h.Requests.inc()
	if r.Header.Get("Authorization") == "Bearer "+h.Token {
		h.AuthOnHub.inc()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	p := r.URL.EscapedPath()
	switch {
	case strings.HasPrefix(p, "/api/models/"):
		rest := strings.TrimPrefix(p, "/api/models/")
		if id, rev, ok := splitAt(rest, "revision"); ok {
			h.serveInfo(w, r, id, rev)
			return
		}
		if id, rest, ok := splitAt(rest, "tree"); ok {
			h.serveTree(w, r, id, rest)
			return
		}
		if !strings.Contains(strings.TrimSuffix(rest, "/"), "/") || strings.Count(rest, "/") == 1 {
			h.serveInfo(w, r, strings.TrimSuffix(rest, "/"), "main")
			return
		}
	default:
		if id, rest, ok := splitAt(strings.TrimPrefix(p, "/"), "resolve"); ok {
			h.serveResolve(w, r, id, rest)
			return
		}
	}
	hfError(w, http.StatusNotFound, "", "Not Found")
}

func unescape(s string) string {
	u, err := url.PathUnescape(s)
	if err != nil {
		return s
	}
	return u
}

func (h *HF) serveInfo(w http.ResponseWriter, r *http.Request, id, rev string) {
	repo, canon, ok := h.lookup(w, r, id)
	if !ok {
		return
	}
	rev = unescape(rev)
	c := repo.commit(rev)
	if c == nil {
		hfError(w, http.StatusNotFound, "RevisionNotFound", fmt.Sprintf("Invalid rev id: %s", rev))
		return
	}
	siblings := []map[string]any{}
	for _, p := range c.paths {
		siblings = append(siblings, map[string]any{"rfilename": p})
	}
	tags := []string{}
	if repo.LibraryName != "" {
		tags = append(tags, repo.LibraryName)
	}
	if repo.PipelineTag != "" {
		tags = append(tags, repo.PipelineTag)
	}
	card := map[string]any{}
	if repo.License != "" {
		tags = append(tags, "license:"+repo.License)
		card["license"] = repo.License
	}
	var gated any = false
	if repo.Gated {
		gated = "auto"
	}
	info := map[string]any{
		"_id": c.sha[:24], "id": canon, "modelId": canon, "author": strings.Split(canon, "/")[0],
		"sha": c.sha, "lastModified": c.time.Format("2006-01-02T15:04:05.000Z"),
		"createdAt": c.time.Format("2006-01-02T15:04:05.000Z"),
		"private":   repo.Private, "gated": gated, "disabled": false,
		"pipeline_tag": repo.PipelineTag, "library_name": repo.LibraryName,
		"tags": tags, "cardData": card, "siblings": siblings, "downloads": 0, "likes": 0,
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(info)
}

func (h *HF) serveTree(w http.ResponseWriter, r *http.Request, id, rest string) {
	repo, canon, ok := h.lookup(w, r, id)
	if !ok {
		return
	}
	// rest is REV[/PATH]; the client quotes '/' in revisions as %2F.
	rev, sub, _ := strings.Cut(rest, "/")
	rev, sub = unescape(rev), strings.TrimSuffix(unescape(sub), "/")
	c := repo.commit(rev)
	if c == nil {
		hfError(w, http.StatusNotFound, "RevisionNotFound", fmt.Sprintf("Invalid rev id: %s", rev))
		return
	}
	recursive := r.URL.Query().Get("recursive") == "true" || r.URL.Query().Get("recursive") == "1"
	var entries []map[string]any
	dirs := map[string]bool{}
	prefix := ""
	if sub != "" {
		prefix = sub + "/"
	}
	for _, p := range c.paths {
		if !strings.HasPrefix(p, prefix) {
			continue
		}
		rel := strings.TrimPrefix(p, prefix)
		// directories on the way
		segs := strings.Split(rel, "/")
		for i := 1; i < len(segs); i++ {
			d := prefix + strings.Join(segs[:i], "/")
			if !dirs[d] && (recursive || i == 1) {
				dirs[d] = true
				oid := sha1.Sum([]byte("tree " + d + c.sha))
				entries = append(entries, map[string]any{"type": "directory", "oid": hex.EncodeToString(oid[:]), "size": 0, "path": d})
			}
		}
		if !recursive && len(segs) > 1 {
			continue
		}
		b := c.files[p]
		e := map[string]any{"type": "file", "oid": b.gitOID, "size": b.size, "path": p}
		if b.lfs {
			e["lfs"] = map[string]any{"oid": b.sha256, "size": b.size, "pointerSize": len(b.pointer())}
		}
		entries = append(entries, e)
	}
	if sub != "" && len(entries) == 0 {
		hfError(w, http.StatusNotFound, "EntryNotFound", fmt.Sprintf("%s does not exist on %q", sub, rev))
		return
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i]["path"].(string) < entries[j]["path"].(string) })
	start := 0
	if cur := r.URL.Query().Get("cursor"); cur != "" {
		n, err := strconv.Atoi(cur)
		if err != nil || n < 0 || n > len(entries) {
			hfError(w, http.StatusBadRequest, "", "invalid cursor")
			return
		}
		start = n
	}
	end := min(start+h.PageSize, len(entries))
	if end < len(entries) {
		q := r.URL.Query()
		q.Set("cursor", strconv.Itoa(end))
		next := fmt.Sprintf("%s/api/models/%s/tree/%s", h.URL, canon, url.PathEscape(rev))
		if sub != "" {
			next += "/" + sub
		}
		w.Header().Set("Link", fmt.Sprintf("<%s?%s>; rel=\"next\"", next, q.Encode()))
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(entries[start:end])
}

func (h *HF) serveResolve(w http.ResponseWriter, r *http.Request, id, rest string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hfError(w, http.StatusMethodNotAllowed, "", "method not allowed")
		return
	}
	repo, canon, ok := h.lookup(w, r, id)
	if !ok {
		return
	}
	if canon != id {
		// Renamed repositories answer with a relative redirect to their new id.
		w.Header().Set("Location", "/"+canon+"/resolve/"+rest)
		w.WriteHeader(http.StatusTemporaryRedirect)
		return
	}
	revEsc, fileEsc, _ := strings.Cut(rest, "/")
	rev, file := unescape(revEsc), unescape(fileEsc)
	c := repo.commit(rev)
	if c == nil {
		hfError(w, http.StatusNotFound, "RevisionNotFound", fmt.Sprintf("Invalid rev id: %s", rev))
		return
	}
	b := c.files[file]
	if b == nil {
		hfError(w, http.StatusNotFound, "EntryNotFound", fmt.Sprintf("%s does not exist on %q", file, rev))
		return
	}
	if repo.Gated {
		present, ok := h.authorized(r)
		if !ok {
			code := http.StatusUnauthorized
			if present {
				code = http.StatusForbidden
			}
			hfError(w, code, "GatedRepo", fmt.Sprintf("Access to model %s is restricted. You must have access to it and be authenticated to access it. Please log in.", canon))
			return
		}
	}
	w.Header().Set("X-Repo-Commit", c.sha)
	w.Header().Set("Accept-Ranges", "bytes")
	if b.lfs {
		w.Header().Set("X-Linked-Etag", `"`+b.sha256+`"`)
		w.Header().Set("X-Linked-Size", strconv.FormatInt(b.size, 10))
		w.Header().Set("ETag", `"`+b.gitOID+`"`)
		sig := sha1.Sum([]byte(b.sha256 + "replica-signing-key"))
		loc := fmt.Sprintf("%s/repos/%s/%s/%s?response-content-disposition=attachment&Expires=4102444800&Signature=%s",
			h.CDNURL, b.sha256[:2], b.sha256[2:4], b.sha256, hex.EncodeToString(sig[:]))
		w.Header().Set("Location", loc)
		w.WriteHeader(http.StatusFound)
		return
	}
	h.Faults.serve(w, r, b, `"`+b.gitOID+`"`, c.time)
}

func (h *HF) serveCDN(w http.ResponseWriter, r *http.Request) {
	h.Requests.inc()
	if r.Header.Get("Authorization") != "" {
		h.AuthOnCDN.inc()
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if len(parts) != 4 || parts[0] != "repos" {
		http.Error(w, "<Error><Code>NoSuchKey</Code></Error>", http.StatusNotFound)
		return
	}
	sig := sha1.Sum([]byte(parts[3] + "replica-signing-key"))
	if r.URL.Query().Get("Signature") != hex.EncodeToString(sig[:]) {
		http.Error(w, "<Error><Code>AccessDenied</Code></Error>", http.StatusForbidden)
		return
	}
	h.mu.Lock()
	b := h.blobs[parts[3]]
	h.mu.Unlock()
	if b == nil {
		http.Error(w, "<Error><Code>NoSuchKey</Code></Error>", http.StatusNotFound)
		return
	}
	h.Faults.serve(w, r, b, `"`+b.sha256+`"`, time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC))
}

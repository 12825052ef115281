package hubtest

import (
	"archive/zip"
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"path"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// GitHub is a replica of what PyTorch Hub downloads from: the GitHub REST API
// (/repos/{o}/{r}, /repos/{o}/{r}/commits/{ref} with the vnd.github.sha media type,
// /repos/{o}/{r}/zipball/{ref} redirecting to codeload), codeload's legacy.zip
// archives with their OWNER-REPO-SHORTSHA/ top directory, and a weights host like
// download.pytorch.org serving NAME-HASHPREFIX.pth files.
type GitHub struct {
	API      string // set AXON_GITHUB_API to it
	Codeload string
	Weights  string // base URL of the weights host
	Faults   Faults
	// AuthOffAPI counts requests to codeload or the weights host carrying Authorization.
	AuthOffAPI atomicCounter

	mu      sync.Mutex
	repos   map[string]*ghRepo
	weights map[string]*blob
}

// GitHubRepo is a repository to serve.
type GitHubRepo struct {
	Owner, Name   string
	DefaultBranch string // default main
	Files         []File
	Time          time.Time
	Tags          []string
}

type ghRepo struct {
	GitHubRepo
	refs    map[string]string
	commits map[string]*ghCommit
}

type ghCommit struct {
	sha   string
	time  time.Time
	files []File
}

// NewGitHub starts the API, codeload and weights hosts.
func NewGitHub(t testing.TB) *GitHub {
	g := &GitHub{repos: map[string]*ghRepo{}, weights: map[string]*blob{}}
	g.API = serve(t, g.serveAPI)
	g.Codeload = serveElsewhere(t, g.serveCodeload)
	g.Weights = serveElsewhere(t, g.serveWeights)
	return g
}

// AddWeights serves data as NAME-<first 8 hex of its sha256>.pth, torchvision-style,
// and returns its URL. A non-empty badPrefix names the file with that prefix instead
// (a file whose name does not match its content).
func (g *GitHub) AddWeights(name string, data []byte, badPrefix string) string {
	sum := sha256.Sum256(data)
	prefix := hex.EncodeToString(sum[:])[:8]
	if badPrefix != "" {
		prefix = badPrefix
	}
	file := fmt.Sprintf("%s-%s.pth", name, prefix)
	b, _ := newBlob(File{Path: file, Data: data})
	g.mu.Lock()
	g.weights[file] = b
	g.mu.Unlock()
	return g.Weights + "/models/" + file
}

// Push commits files on the default branch and returns the commit sha.
func (g *GitHub) Push(r GitHubRepo) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	if r.DefaultBranch == "" {
		r.DefaultBranch = "main"
	}
	key := r.Owner + "/" + r.Name
	repo := g.repos[key]
	if repo == nil {
		repo = &ghRepo{refs: map[string]string{}, commits: map[string]*ghCommit{}}
		g.repos[key] = repo
	}
	repo.GitHubRepo = r
	c := &ghCommit{time: r.Time, files: r.Files}
	if c.time.IsZero() {
		c.time = time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC).Add(time.Duration(len(repo.commits)) * time.Hour)
	}
	h := sha1.New()
	fmt.Fprintf(h, "%s %s %d\n", key, repo.refs[r.DefaultBranch], c.time.Unix())
	for _, f := range r.Files {
		fmt.Fprintf(h, "%s %x\n", f.Path, sha1.Sum(f.Data))
	}
	c.sha = hex.EncodeToString(h.Sum(nil))
	repo.commits[c.sha] = c
	repo.refs[r.DefaultBranch] = c.sha
	for _, t := range r.Tags {
		repo.refs[t] = c.sha
	}
	return c.sha
}

func ghError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"message": msg, "documentation_url": "https://docs.github.com/rest"})
}

func (r *ghRepo) commit(ref string) *ghCommit {
	if sha, ok := r.refs[ref]; ok {
		return r.commits[sha]
	}
	if c, ok := r.commits[ref]; ok {
		return c
	}
	if len(ref) >= 7 { // abbreviated sha
		for sha, c := range r.commits {
			if strings.HasPrefix(sha, ref) {
				return c
			}
		}
	}
	return nil
}

func (g *GitHub) serveAPI(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if len(parts) < 3 || parts[0] != "repos" {
		ghError(w, http.StatusNotFound, "Not Found")
		return
	}
	repo := g.repos[parts[1]+"/"+parts[2]]
	if repo == nil {
		ghError(w, http.StatusNotFound, "Not Found")
		return
	}
	w.Header().Set("X-GitHub-Api-Version-Selected", "2022-11-28")
	switch {
	case len(parts) == 3:
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		json.NewEncoder(w).Encode(map[string]any{
			"full_name": parts[1] + "/" + parts[2], "name": parts[2], "default_branch": repo.DefaultBranch,
			"fork": false, "private": false, "html_url": "https://github.com/" + parts[1] + "/" + parts[2],
		})
	case len(parts) >= 5 && parts[3] == "commits":
		ref := strings.Join(parts[4:], "/")
		c := repo.commit(ref)
		if c == nil {
			ghError(w, http.StatusUnprocessableEntity, "No commit found for SHA: "+ref)
			return
		}
		w.Header().Set("ETag", `"`+c.sha+`"`)
		if strings.Contains(r.Header.Get("Accept"), "application/vnd.github.sha") {
			w.Header().Set("Content-Type", "application/vnd.github.sha; charset=utf-8")
			fmt.Fprint(w, c.sha)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		date := c.time.Format(time.RFC3339)
		json.NewEncoder(w).Encode(map[string]any{"sha": c.sha, "commit": map[string]any{
			"committer": map[string]any{"date": date}, "author": map[string]any{"date": date}}})
	case len(parts) >= 5 && parts[3] == "zipball":
		ref := strings.Join(parts[4:], "/")
		c := repo.commit(ref)
		if c == nil {
			ghError(w, http.StatusNotFound, "Not Found")
			return
		}
		w.Header().Set("Location", fmt.Sprintf("%s/%s/%s/legacy.zip/%s", g.Codeload, parts[1], parts[2], c.sha))
		w.WriteHeader(http.StatusFound)
	default:
		ghError(w, http.StatusNotFound, "Not Found")
	}
}

func (g *GitHub) serveCodeload(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "" {
		g.AuthOffAPI.inc()
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if len(parts) != 4 || parts[2] != "legacy.zip" {
		http.NotFound(w, r)
		return
	}
	g.mu.Lock()
	repo := g.repos[parts[0]+"/"+parts[1]]
	var c *ghCommit
	if repo != nil {
		c = repo.commits[parts[3]]
	}
	g.mu.Unlock()
	if c == nil {
		http.NotFound(w, r)
		return
	}
	data, err := zipball(parts[0], parts[1], c)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	b, _ := newBlob(File{Path: "legacy.zip", Data: data})
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%s-%s-%s.zip", parts[0], parts[1], c.sha[:7]))
	w.Header().Set("Content-Type", "application/zip")
	g.Faults.serve(w, r, b, `"`+c.sha+`"`, c.time)
}

// zipball builds the archive GitHub would: OWNER-REPO-SHORTSHA/ then the tree.
func zipball(owner, name string, c *ghCommit) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	top := fmt.Sprintf("%s-%s-%s/", owner, name, c.sha[:7])
	files := append([]File(nil), c.files...)
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	dirs := map[string]bool{}
	if _, err := zw.CreateHeader(&zip.FileHeader{Name: top, Modified: c.time}); err != nil {
		return nil, err
	}
	for _, f := range files {
		for d := path.Dir(f.Path); d != "." && !dirs[d]; d = path.Dir(d) {
			dirs[d] = true
			if _, err := zw.CreateHeader(&zip.FileHeader{Name: top + d + "/", Modified: c.time}); err != nil {
				return nil, err
			}
		}
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: top + f.Path, Method: zip.Deflate, Modified: c.time})
		if err != nil {
			return nil, err
		}
		if _, err := fw.Write(f.Data); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (g *GitHub) serveWeights(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "" {
		g.AuthOffAPI.inc()
	}
	name, ok := strings.CutPrefix(r.URL.Path, "/models/")
	g.mu.Lock()
	b := g.weights[name]
	g.mu.Unlock()
	if !ok || b == nil {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden) // what S3/CloudFront answer for a missing key
		fmt.Fprint(w, "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>")
		return
	}
	g.Faults.serve(w, r, b, `"`+b.sha256[:32]+`"`, time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC))
}

//go:embed testdata/tinynet
var tinyNet embed.FS

// PushTinyNet serves a tiny PyTorch Hub repository OWNER/NAME whose hubconf.py has
// the entrypoint "tinynet" (a small CNN, 3x224x224 in, 3 logits out) and whose
// pretrained weights live on the weights host as tinynet-<sha256 prefix>.pth.
// A non-empty badPrefix misnames the weights (their hash prefix will not match).
func (g *GitHub) PushTinyNet(owner, name, badPrefix string) (sha, weightsURL string) {
	weights, _ := tinyNet.ReadFile("testdata/tinynet/tinynet.pth")
	hubconf, _ := tinyNet.ReadFile("testdata/tinynet/hubconf.py")
	weightsURL = g.AddWeights("tinynet", weights, badPrefix)
	hubconf = bytes.ReplaceAll(hubconf, []byte("{{WEIGHTS_URL}}"), []byte(weightsURL))
	sha = g.Push(GitHubRepo{Owner: owner, Name: name, Files: []File{
		{Path: "hubconf.py", Data: hubconf},
		{Path: "README.md", Data: []byte("# tinyvision\n\nA tiny PyTorch Hub repository for tests.\n")},
		{Path: "LICENSE", Data: []byte("BSD 3-Clause License\n\nRedistribution and use in source and binary forms, with or without modification, are permitted.\n")},
	}})
	return sha, weightsURL
}

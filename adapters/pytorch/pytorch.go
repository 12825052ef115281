// Package pytorch fetches PyTorch Hub models the way torch.hub does: the GitHub
// repository at a ref (its default branch for @latest, pinned to the commit sha
// through the GitHub API) as a zipball, its hubconf.py, and the pretrained weights
// the code points at, torchvision-style NAME-HASHPREFIX.pth files whose name must
// match their sha256. Verified weights are placed in TORCH_HOME/hub/checkpoints so
// that the converter's torch.hub.load finds them without the network.
//
// AXON_GITHUB_API overrides the API base (default https://api.github.com);
// GITHUB_TOKEN, as torch.hub reads it, is sent to the API host only.
package pytorch

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/mlos-foundation/axon/adapters"
	"github.com/mlos-foundation/axon/adapters/download"
)

// DefaultAPI is GitHub's REST API.
const DefaultAPI = "https://api.github.com"

// TorchHome is the directory, inside the fetched model, laid out as TORCH_HOME.
const TorchHome = "torch_home"

// Adapter fetches from GitHub.
type Adapter struct {
	API    string
	Token  string
	Engine *download.Engine
}

// New reads AXON_GITHUB_API and GITHUB_TOKEN.
func New(engine *download.Engine) *Adapter {
	api := adapters.EnvURL("AXON_GITHUB_API", DefaultAPI)
	return &Adapter{API: api, Token: os.Getenv("GITHUB_TOKEN"), Engine: engine}
}

// Hub implements adapters.Adapter.
func (a *Adapter) Hub() string { return adapters.HubPyTorch }

func (a *Adapter) client() *http.Client {
	return a.Engine.HTTPClient()
}

func (a *Adapter) get(ctx context.Context, u, accept string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", accept)
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	if a.Token != "" {
		req.Header.Set("Authorization", "Bearer "+a.Token)
	}
	resp, _, err := download.Do(a.client(), req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct{ Message string }
		_ = json.Unmarshal(body, &e)
		switch resp.StatusCode {
		case http.StatusNotFound, http.StatusUnprocessableEntity:
			return nil, fmt.Errorf("%w: %s", adapters.ErrNotFound, e.Message)
		case http.StatusUnauthorized, http.StatusForbidden:
			return nil, fmt.Errorf("%w: GitHub says %q (set GITHUB_TOKEN; the API rate-limits anonymous use)", adapters.ErrAuth, e.Message)
		}
		return nil, fmt.Errorf("GitHub API: HTTP %d: %s", resp.StatusCode, e.Message)
	}
	return body, nil
}

// Fetch implements adapters.Adapter. ref.ID is OWNER/REPO/MODEL.
func (a *Adapter) Fetch(ctx context.Context, ref adapters.Ref, dir string) (*adapters.Model, error) {
	parts := strings.Split(ref.ID, "/")
	if len(parts) != 3 {
		return nil, fmt.Errorf("pytorch: %w: %s is not OWNER/REPO/MODEL", adapters.ErrBadRef, ref.ID)
	}
	owner, repo, model := parts[0], parts[1], parts[2]
	full := owner + "/" + repo
	gitRef := ref.Version
	if ref.Latest() {
		body, err := a.get(ctx, fmt.Sprintf("%s/repos/%s", a.API, full), "application/vnd.github+json")
		if err != nil {
			return nil, fmt.Errorf("pytorch: repository %s: %w", full, err)
		}
		var info struct {
			DefaultBranch string `json:"default_branch"`
		}
		if err := json.Unmarshal(body, &info); err != nil || info.DefaultBranch == "" {
			return nil, fmt.Errorf("pytorch: repository %s: no default branch in the GitHub answer", full)
		}
		gitRef = info.DefaultBranch
	}
	body, err := a.get(ctx, fmt.Sprintf("%s/repos/%s/commits/%s", a.API, full, gitRef), "application/vnd.github.sha")
	if err != nil {
		return nil, fmt.Errorf("pytorch: %s@%s: %w", full, gitRef, err)
	}
	sha := strings.TrimSpace(string(body))
	if !regexp.MustCompile(`^[0-9a-f]{40}$`).MatchString(sha) {
		return nil, fmt.Errorf("pytorch: %s@%s: GitHub gave no commit sha", full, gitRef)
	}
	var commit struct {
		Commit struct {
			Committer struct {
				Date string `json:"date"`
			} `json:"committer"`
		} `json:"commit"`
	}
	if b, err := a.get(ctx, fmt.Sprintf("%s/repos/%s/commits/%s", a.API, full, sha), "application/vnd.github+json"); err == nil {
		_ = json.Unmarshal(b, &commit)
	}

	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	// The zipball of an immutable commit: cached by its URL.
	tmp, err := os.MkdirTemp(filepath.Dir(filepath.Clean(dir)), ".zipball-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	zf := download.File{Path: "source.zip", URL: fmt.Sprintf("%s/repos/%s/zipball/%s", a.API, full, sha), Size: -1}
	if a.Token != "" {
		zf.Header = http.Header{"Authorization": {"Bearer " + a.Token}}
	}
	st, err := a.Engine.Fetch(ctx, tmp, []download.File{zf})
	if err != nil {
		return nil, fmt.Errorf("pytorch: %s@%s: %w", full, sha[:12], err)
	}
	files, err := download.ExtractZip(filepath.Join(tmp, "source.zip"), dir, true)
	if err != nil {
		return nil, fmt.Errorf("pytorch: %s@%s: %w", full, sha[:12], err)
	}
	hubconf, err := os.ReadFile(filepath.Join(dir, "hubconf.py"))
	if err != nil {
		return nil, fmt.Errorf("pytorch: %w: %s@%s has no hubconf.py, so it is no PyTorch Hub repository", adapters.ErrNotFound, full, sha[:12])
	}
	// Entrypoints are defined or imported (torchvision imports them, also in
	// parenthesised multi-line imports); the converter checks callability.
	if !regexp.MustCompile(`\b` + regexp.QuoteMeta(model) + `\b`).Match(hubconf) {
		return nil, fmt.Errorf("pytorch: %w: hubconf.py of %s@%s has no entrypoint %q", adapters.ErrNotFound, full, sha[:12], model)
	}

	weights, err := weightURLs(dir, files, model, hubconf)
	if err != nil {
		return nil, err
	}
	var wf []download.File
	for _, u := range weights {
		base := path.Base(u)
		f := download.File{Path: TorchHome + "/hub/checkpoints/" + base, URL: u, Size: -1}
		if p := HashPrefix(base); p != "" {
			f.Sum = download.Checksum{Algo: download.SHA256Prefix, Value: p}
		}
		wf = append(wf, f)
	}
	wst, err := a.Engine.Fetch(ctx, dir, wf)
	if err != nil {
		return nil, fmt.Errorf("pytorch: weights of %s: %w", model, err)
	}
	for _, f := range wf {
		files = append(files, f.Path)
	}
	sort.Strings(files)
	m := &adapters.Model{
		Dir: dir, Hub: adapters.HubPyTorch, ID: ref.ID, Revision: sha,
		URL:       "https://github.com/" + full + "/tree/" + sha,
		Created:   commit.Commit.Committer.Date,
		Framework: "pytorch", Kind: "hubconf", Entrypoint: model,
		Files:      files,
		Extra:      map[string]string{"TORCH_HOME": filepath.Join(dir, TorchHome)},
		Downloaded: st.Downloaded + wst.Downloaded, Cached: st.Cached + wst.Cached,
		DownloadedBytes: st.DownloadedBytes + wst.DownloadedBytes,
	}
	if l := readLicense(dir); l != "" {
		m.License = l
	}
	return m, nil
}

var hashRE = regexp.MustCompile(`-([a-f0-9]*)\.`)

// HashPrefix is the sha256 prefix torch.hub reads from a weight file's name
// (resnet50-0676ba61.pth → 0676ba61), "" when there is none.
func HashPrefix(name string) string {
	if m := hashRE.FindStringSubmatch(name); m != nil && len(m[1]) >= 8 {
		return m[1]
	}
	return ""
}

var urlRE = regexp.MustCompile(`https?://[^\s'"<>()]+\.(?:pth|pt|pth\.tar|ckpt|bin)\b`)

// weightURLs finds the pretrained weights of model in the repository's code:
// URLs whose file name starts with the model's name, else those in hubconf.py.
func weightURLs(dir string, files []string, model string, hubconf []byte) ([]string, error) {
	seen := map[string]bool{}
	var named, inHubconf []string
	for _, u := range urlRE.FindAllString(string(hubconf), -1) {
		if !seen["h"+u] {
			seen["h"+u] = true
			inHubconf = append(inHubconf, u)
		}
	}
	lm := strings.ToLower(model)
	for _, f := range files {
		if !strings.HasSuffix(f, ".py") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f)))
		if err != nil {
			return nil, err
		}
		for _, u := range urlRE.FindAllString(string(b), -1) {
			base := strings.ToLower(path.Base(u))
			rest, ok := strings.CutPrefix(base, lm)
			if ok && rest != "" && strings.ContainsRune("-_.", rune(rest[0])) && !seen[u] {
				seen[u] = true
				named = append(named, u)
			}
		}
	}
	if len(named) > 0 {
		sort.Strings(named)
		return named, nil
	}
	return inHubconf, nil
}

func readLicense(dir string) string {
	for _, n := range []string{"LICENSE", "LICENSE.txt", "LICENSE.md"} {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			continue
		}
		s := string(b)
		switch {
		case strings.Contains(s, "BSD 3-Clause") || strings.Contains(s, "Redistribution and use in source and binary forms"):
			return "BSD-3-Clause"
		case strings.Contains(s, "Apache License"):
			return "Apache-2.0"
		case strings.Contains(s, "MIT License") || strings.Contains(s, "Permission is hereby granted, free of charge"):
			return "MIT"
		}
	}
	return ""
}

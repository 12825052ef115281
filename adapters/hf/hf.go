// Package hf fetches models from the Hugging Face Hub the way huggingface_hub does:
// the revision API pins the commit, the tree API (Link-paginated) lists files with
// their git and LFS ids, and /{id}/resolve/{commit}/{file} serves each file, LFS
// files through a redirect to a CDN. The endpoint is HF_ENDPOINT (default
// https://huggingface.co); the token (HF_TOKEN, else the file `hf auth login`
// wrote, $HF_HOME/token) is sent as a Bearer token to the Hub only. Files already
// in huggingface_hub's cache ($HF_HUB_CACHE) are verified and used instead of
// downloaded, and HF_HUB_OFFLINE=1 installs from that cache without any request.
package hf

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/mlos-foundation/axon/adapters"
	"github.com/mlos-foundation/axon/adapters/download"
)

// DefaultEndpoint is the public Hub.
const DefaultEndpoint = "https://huggingface.co"

// Adapter fetches from one Hub endpoint.
type Adapter struct {
	Endpoint string
	Token    string
	Engine   *download.Engine
	Include  []string
	Exclude  []string
	Variant  string // ONNX export to install (--variant); "" = fp32 model.onnx, else decoder_model_merged.onnx
	// HubCache is huggingface_hub's cache, read only ("" = none).
	HubCache string
	// Offline sends no request: the model comes from HubCache or fails.
	Offline bool
}

// New returns an adapter configured as huggingface_hub is: HF_ENDPOINT, the
// token (TokenFromEnv), HF_HUB_CACHE / HF_HOME and HF_HUB_OFFLINE.
func New(engine *download.Engine) *Adapter {
	ep := adapters.EnvURL("HF_ENDPOINT", DefaultEndpoint)
	return &Adapter{Endpoint: ep, Token: TokenFromEnv(), Engine: engine, HubCache: CacheDirFromEnv(), Offline: OfflineFromEnv()}
}

// Hub implements adapters.Adapter.
func (a *Adapter) Hub() string { return adapters.HubHF }

type modelInfo struct {
	ID           string         `json:"id"`
	SHA          string         `json:"sha"`
	LastModified string         `json:"lastModified"`
	PipelineTag  string         `json:"pipeline_tag"`
	LibraryName  string         `json:"library_name"`
	Tags         []string       `json:"tags"`
	CardData     map[string]any `json:"cardData"`
	Gated        any            `json:"gated"`
}

type treeEntry struct {
	Type string `json:"type"`
	OID  string `json:"oid"`
	Size int64  `json:"size"`
	Path string `json:"path"`
	LFS  *struct {
		OID  string `json:"oid"`
		Size int64  `json:"size"`
	} `json:"lfs"`
}

var shaRE = regexp.MustCompile(`^[0-9a-f]{40}$`)

// Fetch implements adapters.Adapter.
func (a *Adapter) Fetch(ctx context.Context, ref adapters.Ref, dir string) (*adapters.Model, error) {
	if a.Offline {
		return a.fetchOffline(ctx, ref, dir)
	}
	rev := ref.Version
	if ref.Latest() {
		rev = "main"
	}
	var info modelInfo
	infoURL := fmt.Sprintf("%s/api/models/%s/revision/%s", a.Endpoint, escapeID(ref.ID), url.PathEscape(rev))
	if err := a.getJSON(ctx, infoURL, &info, ref.ID, rev, ""); err != nil {
		// The Hub cannot be reached at all: like huggingface_hub, answer from its
		// cache when the revision is there.
		var ue *download.UnreachableError
		if errors.As(err, &ue) && a.HubCache != "" {
			if m, cerr := a.fetchOffline(ctx, ref, dir); cerr == nil {
				return m, nil
			}
		}
		return nil, err
	}
	if !shaRE.MatchString(info.SHA) {
		return nil, fmt.Errorf("hf: %s@%s: the Hub gave no commit sha", ref.ID, rev)
	}
	id := info.ID
	if id == "" {
		id = ref.ID
	}
	entries, err := a.tree(ctx, id, info.SHA)
	if err != nil {
		return nil, err
	}
	byPath := map[string]treeEntry{}
	var paths []string
	for _, e := range entries {
		if e.Type != "file" {
			continue
		}
		byPath[e.Path] = e
		paths = append(paths, e.Path)
	}
	selected, choice, err := adapters.SelectVariant(paths, a.Include, a.Exclude, a.Variant)
	if err != nil {
		return nil, fmt.Errorf("hf: %s@%s: %w", id, info.SHA[:12], err)
	}
	if len(selected) == 0 {
		return nil, fmt.Errorf("hf: %s@%s has no files axon can use (try --include)", id, info.SHA[:12])
	}
	if gated(info.Gated) {
		// Cached files need no download, but a gated model's terms still apply:
		// ask the Hub for the first file's metadata as huggingface_hub does.
		if err := a.checkAccess(ctx, id, info.SHA, selected[0]); err != nil {
			return nil, err
		}
	}
	var files []download.File
	for _, p := range selected {
		e := byPath[p]
		f := download.File{
			Path: p,
			URL:  fmt.Sprintf("%s/%s/resolve/%s/%s", a.Endpoint, id, info.SHA, escapePath(p)),
			Size: e.Size,
			Sum:  download.Checksum{Algo: download.GitSHA1, Value: e.OID},
		}
		if e.LFS != nil {
			f.Sum = download.Checksum{Algo: download.SHA256, Value: e.LFS.OID}
			f.Size = e.LFS.Size
		}
		if a.Token != "" {
			f.Header = http.Header{"Authorization": {"Bearer " + a.Token}}
		}
		f.Check = checkHeaders(info.SHA, f.Sum, f.Size)
		f.Local = a.cachedFile([]string{id, ref.ID}, info.SHA, p)
		f.Error = func(resp *http.Response) error { return hubError(resp, id, info.SHA, p) }
		files = append(files, f)
	}
	st, err := a.Engine.Fetch(ctx, dir, files)
	if err != nil {
		return nil, fmt.Errorf("hf: %s@%s: %w", id, info.SHA[:12], err)
	}
	m := &adapters.Model{
		Dir: dir, Hub: adapters.HubHF, ID: id, Revision: info.SHA,
		URL:     a.Endpoint + "/" + id + "/tree/" + info.SHA,
		License: license(info), Created: info.LastModified, Task: info.PipelineTag,
		Files: selected, Downloaded: st.Downloaded, Cached: st.Cached, DownloadedBytes: st.DownloadedBytes,
	}
	if choice != nil {
		m.ONNXFile, m.Variant = choice.Path, choice.Variant
	}
	adapters.Detect(m)
	return m, nil
}

func gated(v any) bool {
	switch g := v.(type) {
	case bool:
		return g
	case string:
		return g != "" && g != "false"
	}
	return false
}

// checkAccess sends HEAD /{id}/resolve/{sha}/{file} without following redirects.
func (a *Adapter) checkAccess(ctx context.Context, id, sha, file string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, fmt.Sprintf("%s/%s/resolve/%s/%s", a.Endpoint, id, sha, escapePath(file)), nil)
	if err != nil {
		return fmt.Errorf("hf: %w", err)
	}
	if a.Token != "" {
		req.Header.Set("Authorization", "Bearer "+a.Token)
	}
	cc := *a.Engine.HTTPClient()
	cc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := cc.Do(req)
	if err != nil {
		return fmt.Errorf("hf: %s: %w", id, err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		if err := hubError(resp, id, sha, file); err != nil {
			return err
		}
		return fmt.Errorf("hf: %s: HTTP %d", id, resp.StatusCode)
	}
	return nil
}

func license(info modelInfo) string {
	if l, ok := info.CardData["license"].(string); ok && l != "" {
		return l
	}
	for _, t := range info.Tags {
		if l, ok := strings.CutPrefix(t, "license:"); ok {
			return l
		}
	}
	return ""
}

// checkHeaders refuses a file whose hub response names another commit or another content id.
func checkHeaders(commit string, sum download.Checksum, size int64) func([]*http.Response) error {
	return func(chain []*http.Response) error {
		hub := chain[0]
		if c := hub.Header.Get("X-Repo-Commit"); c != "" && c != commit {
			return fmt.Errorf("the Hub served commit %s, not %s", c, commit)
		}
		etag := hub.Header.Get("X-Linked-Etag")
		if etag == "" {
			etag = hub.Header.Get("ETag")
		}
		etag = strings.Trim(strings.TrimPrefix(etag, "W/"), `"`)
		if etag != "" && sum.Algo != download.None && etag != sum.Value {
			return fmt.Errorf("%w: the Hub's ETag %s differs from the listed id %s", adapters.ErrChecksum, etag, sum.Value)
		}
		if ls := hub.Header.Get("X-Linked-Size"); ls != "" && size >= 0 && ls != strconv.FormatInt(size, 10) {
			return fmt.Errorf("%w: the Hub's X-Linked-Size %s differs from the listed size %d", adapters.ErrChecksum, ls, size)
		}
		return nil
	}
}

func (a *Adapter) tree(ctx context.Context, id, sha string) ([]treeEntry, error) {
	next := fmt.Sprintf("%s/api/models/%s/tree/%s?recursive=true&expand=false", a.Endpoint, id, sha)
	var all []treeEntry
	for pages := 0; next != ""; pages++ {
		if pages > 10000 {
			return nil, fmt.Errorf("hf: %s: tree listing does not end", id)
		}
		var page []treeEntry
		link := ""
		if err := a.getJSON(ctx, next, &page, id, sha, "", &link); err != nil {
			return nil, err
		}
		all = append(all, page...)
		n := nextLink(link)
		if n != "" {
			// The Hub sends absolute URLs; resolve relative ones like a browser.
			base, err := url.Parse(next)
			if err != nil {
				return nil, fmt.Errorf("hf: %w", err)
			}
			u, err := base.Parse(n)
			if err != nil {
				return nil, fmt.Errorf("hf: %s: bad Link header %q", id, link)
			}
			if u.Host != base.Host {
				// The token goes with the next page: never to another host.
				return nil, fmt.Errorf("hf: %s: the tree listing continues on another host (%s)", id, u.Host)
			}
			n = u.String()
		}
		next = n
	}
	return all, nil
}

var linkRE = regexp.MustCompile(`<([^>]+)>\s*;\s*rel="?next"?`)

func nextLink(h string) string {
	if m := linkRE.FindStringSubmatch(h); m != nil {
		return m[1]
	}
	return ""
}

func (a *Adapter) getJSON(ctx context.Context, u string, v any, id, rev, file string, link ...*string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("hf: %w", err)
	}
	if a.Token != "" {
		req.Header.Set("Authorization", "Bearer "+a.Token)
	}
	req.Header.Set("User-Agent", "axon (huggingface_hub compatible)")
	resp, _, err := download.Do(a.Engine.HTTPClient(), req)
	if err != nil {
		return fmt.Errorf("hf: %s: %w", id, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		if err := hubError(resp, id, rev, file); err != nil {
			return err
		}
		return fmt.Errorf("hf: %s: HTTP %d from %s", id, resp.StatusCode, u)
	}
	if len(link) > 0 {
		*link[0] = resp.Header.Get("Link")
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 256<<20)).Decode(v); err != nil {
		return fmt.Errorf("hf: %s: bad answer from %s: %w", id, u, err)
	}
	return nil
}

// hubError turns the Hub's X-Error-Code into one clear line.
func hubError(resp *http.Response, id, rev, file string) error {
	code := resp.Header.Get("X-Error-Code")
	switch code {
	case "RepoNotFound":
		how := "set HF_TOKEN if you have access"
		if resp.Request != nil && resp.Request.Header.Get("Authorization") != "" {
			how = "HF_TOKEN is set: check the name, and that the token's account can read it"
		}
		return fmt.Errorf("hf: %w: repository %s does not exist or is private (%s)", adapters.ErrNotFound, id, how)
	case "RevisionNotFound":
		return fmt.Errorf("hf: %w: revision %q of %s does not exist", adapters.ErrNotFound, rev, id)
	case "EntryNotFound":
		return fmt.Errorf("hf: %w: file %s does not exist in %s@%s", adapters.ErrNotFound, file, id, rev)
	case "GatedRepo":
		how := "set HF_TOKEN to a token of an account that accepted the conditions on " + "https://huggingface.co/" + id
		if resp.StatusCode == http.StatusForbidden {
			how = "HF_TOKEN's account has not been granted access yet; accept the conditions on https://huggingface.co/" + id
		}
		return fmt.Errorf("hf: %w: %s is a gated model: %s", adapters.ErrGated, id, how)
	}
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		return fmt.Errorf("hf: %w: %s (HTTP 401; set HF_TOKEN)", adapters.ErrAuth, id)
	case http.StatusForbidden:
		return fmt.Errorf("hf: %w: %s (HTTP 403; HF_TOKEN lacks access)", adapters.ErrAuth, id)
	case http.StatusNotFound:
		return fmt.Errorf("hf: %w: %s@%s %s", adapters.ErrNotFound, id, rev, file)
	}
	if msg := resp.Header.Get("X-Error-Message"); msg != "" {
		return errors.New("hf: " + msg)
	}
	return nil
}

func escapeID(id string) string {
	parts := strings.Split(id, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

func escapePath(p string) string { return escapeID(p) }

// Package modelscope fetches models from ModelScope the way its Python SDK does:
// /api/v1/models/{id}/repo/files?Revision=&Recursive=true lists files with their
// Sha256 and the latest commit (which pins @latest, i.e. master), and
// /api/v1/models/{id}/repo?Revision=&FilePath= serves each file; answers come in
// the {Code, Data, Message, Success} envelope. MODELSCOPE_DOMAIN (host, default
// www.modelscope.cn) and MODELSCOPE_URL_SCHEME (default https://) pick the server;
// MODELSCOPE_API_TOKEN is sent as a Bearer token.
package modelscope

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/mlos-foundation/axon/adapters"
	"github.com/mlos-foundation/axon/adapters/download"
)

// DefaultDomain is the public ModelScope.
const DefaultDomain = "www.modelscope.cn"

// Adapter fetches from one ModelScope endpoint.
type Adapter struct {
	Endpoint string // scheme://host
	Token    string
	Engine   *download.Engine
	Include  []string
	Exclude  []string
	Variant  string // ONNX export to install (--variant), as for Hugging Face
}

// New reads MODELSCOPE_DOMAIN, MODELSCOPE_URL_SCHEME and MODELSCOPE_API_TOKEN.
func New(engine *download.Engine) *Adapter {
	domain := strings.TrimSpace(os.Getenv("MODELSCOPE_DOMAIN"))
	if domain == "" {
		domain = DefaultDomain
	}
	ep := domain
	if !strings.Contains(domain, "://") {
		scheme := os.Getenv("MODELSCOPE_URL_SCHEME")
		if scheme == "" {
			scheme = "https://"
		}
		ep = scheme + domain
	}
	return &Adapter{Endpoint: strings.TrimRight(ep, "/"), Token: os.Getenv("MODELSCOPE_API_TOKEN"), Engine: engine}
}

// Hub implements adapters.Adapter.
func (a *Adapter) Hub() string { return adapters.HubModelScope }

type envelope struct {
	Code    int             `json:"Code"`
	Data    json.RawMessage `json:"Data"`
	Message string          `json:"Message"`
	Success bool            `json:"Success"`
}

func (a *Adapter) api(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	if a.Token != "" {
		req.Header.Set("Authorization", "Bearer "+a.Token)
	}
	resp, _, err := download.Do(a.Engine.HTTPClient(), req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var env envelope
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&env); err != nil {
		return fmt.Errorf("HTTP %d, no ModelScope answer: %w", resp.StatusCode, err)
	}
	if resp.StatusCode == http.StatusNotFound {
		return fmt.Errorf("%w: %s", adapters.ErrNotFound, env.Message)
	}
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		return fmt.Errorf("%w: %s (set MODELSCOPE_API_TOKEN)", adapters.ErrAuth, env.Message)
	}
	if resp.StatusCode != http.StatusOK || !env.Success || env.Code != 200 {
		return fmt.Errorf("ModelScope: %s (code %d, HTTP %d)", env.Message, env.Code, resp.StatusCode)
	}
	return json.Unmarshal(env.Data, v)
}

type msFile struct {
	Name     string `json:"Name"`
	Path     string `json:"Path"`
	Revision string `json:"Revision"`
	Sha256   string `json:"Sha256"`
	Size     int64  `json:"Size"`
	Type     string `json:"Type"`
}

// Fetch implements adapters.Adapter.
func (a *Adapter) Fetch(ctx context.Context, ref adapters.Ref, dir string) (*adapters.Model, error) {
	rev := ref.Version
	if ref.Latest() {
		rev = "master"
	}
	base := fmt.Sprintf("%s/api/v1/models/%s", a.Endpoint, ref.ID)
	var listing struct {
		Files           []msFile `json:"Files"`
		LatestCommitter struct {
			ID            string `json:"Id"`
			CommittedDate int64  `json:"CommittedDate"`
		} `json:"LatestCommitter"`
	}
	q := url.Values{"Revision": {rev}, "Recursive": {"true"}}
	if err := a.api(ctx, base+"/repo/files?"+q.Encode(), &listing); err != nil {
		return nil, fmt.Errorf("modelscope: %s@%s: %w", ref.ID, rev, err)
	}
	commit := listing.LatestCommitter.ID
	if commit == "" {
		commit = rev
	}
	var info struct {
		License string `json:"License"`
		Tasks   []struct {
			Name string `json:"Name"`
		} `json:"Tasks"`
	}
	if err := a.api(ctx, base+"?"+url.Values{"Revision": {commit}}.Encode(), &info); err != nil {
		return nil, fmt.Errorf("modelscope: %s@%s: %w", ref.ID, commit, err)
	}
	byPath := map[string]msFile{}
	var paths []string
	for _, f := range listing.Files {
		if f.Type != "blob" && f.Type != "" {
			continue
		}
		p := f.Path
		if p == "" {
			p = f.Name
		}
		byPath[p] = f
		paths = append(paths, p)
	}
	selected, choice, err := adapters.SelectVariant(paths, a.Include, a.Exclude, a.Variant)
	if err != nil {
		return nil, fmt.Errorf("modelscope: %s: %w", ref.ID, err)
	}
	if len(selected) == 0 {
		return nil, fmt.Errorf("modelscope: %s@%s has no files axon can use (try --include)", ref.ID, commit)
	}
	var files []download.File
	for _, p := range selected {
		f := byPath[p]
		df := download.File{
			Path: p, Size: f.Size,
			URL: base + "/repo?" + url.Values{"Revision": {commit}, "FilePath": {p}}.Encode(),
		}
		if f.Sha256 != "" {
			df.Sum = download.Checksum{Algo: download.SHA256, Value: strings.ToLower(f.Sha256)}
		} else {
			// Without a Sha256 the commit in the URL keeps the file immutable.
			df.Sum = download.Checksum{}
		}
		if a.Token != "" {
			df.Header = http.Header{"Authorization": {"Bearer " + a.Token}}
		}
		files = append(files, df)
	}
	st, err := a.Engine.Fetch(ctx, dir, files)
	if err != nil {
		return nil, fmt.Errorf("modelscope: %s@%s: %w", ref.ID, commit, err)
	}
	m := &adapters.Model{
		Dir: dir, Hub: adapters.HubModelScope, ID: ref.ID, Revision: commit,
		URL: fmt.Sprintf("%s/models/%s/files?Revision=%s", a.Endpoint, ref.ID, url.QueryEscape(commit)), License: info.License,
		Files: selected, Downloaded: st.Downloaded, Cached: st.Cached, DownloadedBytes: st.DownloadedBytes,
	}
	if listing.LatestCommitter.CommittedDate > 0 {
		m.Created = time.Unix(listing.LatestCommitter.CommittedDate, 0).UTC().Format(time.RFC3339)
	}
	if len(info.Tasks) > 0 {
		m.Task = info.Tasks[0].Name
	}
	if choice != nil {
		m.ONNXFile, m.Variant = choice.Path, choice.Variant
	}
	adapters.Detect(m)
	return m, nil
}

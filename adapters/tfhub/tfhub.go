// Package tfhub fetches TensorFlow Hub models the way tensorflow_hub's resolver
// does: PUBLISHER/MODEL/VERSION?tf-hub-format=compressed, following the redirects
// to Kaggle and its storage, is a tar.gz of the SavedModel, unpacked with every
// entry checked. @latest follows the handle without version to the newest one.
// TFHUB_ENDPOINT overrides https://tfhub.dev.
package tfhub

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/mlos-foundation/axon/adapters"
	"github.com/mlos-foundation/axon/adapters/download"
)

// DefaultEndpoint is tfhub.dev.
const DefaultEndpoint = "https://tfhub.dev"

// Adapter fetches from one TF Hub endpoint.
type Adapter struct {
	Endpoint string
	Engine   *download.Engine
}

// New reads TFHUB_ENDPOINT.
func New(engine *download.Engine) *Adapter {
	ep := adapters.EnvURL("TFHUB_ENDPOINT", DefaultEndpoint)
	return &Adapter{Endpoint: ep, Engine: engine}
}

// Hub implements adapters.Adapter.
func (a *Adapter) Hub() string { return adapters.HubTFHub }

func (a *Adapter) client() *http.Client {
	return a.Engine.HTTPClient()
}

// latest asks the hub where the versionless handle points.
func (a *Adapter) latest(ctx context.Context, id string) (string, error) {
	u := fmt.Sprintf("%s/%s?tf-hub-format=compressed", a.Endpoint, id)
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, u, nil)
	if err != nil {
		return "", err
	}
	c := *a.client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		return "", fmt.Errorf("tfhub: %s: %w", id, err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return "", fmt.Errorf("tfhub: %w: model %s", adapters.ErrNotFound, id)
	}
	loc, err := resp.Location()
	if err != nil {
		return "", fmt.Errorf("tfhub: %s: the hub names no newest version (HTTP %d)", id, resp.StatusCode)
	}
	v := path.Base(loc.Path)
	if _, err := strconv.Atoi(v); err != nil || !strings.HasSuffix(strings.TrimSuffix(loc.Path, "/"+v), id) {
		return "", fmt.Errorf("tfhub: %s: the hub's newest version %q is no version number", id, v)
	}
	return v, nil
}

// Fetch implements adapters.Adapter.
func (a *Adapter) Fetch(ctx context.Context, ref adapters.Ref, dir string) (*adapters.Model, error) {
	version := ref.Version
	if ref.Latest() {
		v, err := a.latest(ctx, ref.ID)
		if err != nil {
			return nil, err
		}
		version = v
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(filepath.Clean(dir)), ".tfhub-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	handle := fmt.Sprintf("%s/%s/%s", a.Endpoint, ref.ID, url.PathEscape(version))
	// A TF Hub version never changes, so its URL keys the cache (TF Hub publishes no checksum).
	f := download.File{Path: "model.tar.gz", URL: handle + "?tf-hub-format=compressed", Size: -1}
	f.Error = func(resp *http.Response) error {
		if resp.StatusCode == http.StatusNotFound {
			return fmt.Errorf("%w: %s version %s", adapters.ErrNotFound, ref.ID, version)
		}
		return nil
	}
	st, err := a.Engine.Fetch(ctx, tmp, []download.File{f})
	if err != nil {
		return nil, fmt.Errorf("tfhub: %w", err)
	}
	in, err := os.Open(filepath.Join(tmp, "model.tar.gz"))
	if err != nil {
		return nil, err
	}
	defer in.Close()
	files, err := download.ExtractTarGz(in, dir)
	if err != nil {
		return nil, fmt.Errorf("tfhub: %s/%s: %w", ref.ID, version, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "saved_model.pb")); err != nil {
		return nil, fmt.Errorf("tfhub: %s/%s: the archive holds no saved_model.pb", ref.ID, version)
	}
	return &adapters.Model{
		Dir: dir, Hub: adapters.HubTFHub, ID: ref.ID, Revision: version, URL: handle,
		Framework: "tensorflow", Kind: "savedmodel", Files: files,
		Downloaded: st.Downloaded, Cached: st.Cached, DownloadedBytes: st.DownloadedBytes,
	}, nil
}

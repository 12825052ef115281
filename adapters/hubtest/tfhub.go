package hubtest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"encoding/hex"
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

// TFHub is a replica of tfhub.dev and what stands behind it since the move to
// Kaggle: /{publisher}/{model}/{version}?tf-hub-format=compressed redirects to
// Kaggle's model download, which redirects to a signed storage URL serving the
// SavedModel as a tar.gz. A handle without version redirects to the newest version.
type TFHub struct {
	URL     string // set TFHUB_ENDPOINT to it
	Kaggle  string
	Storage string
	Faults  Faults

	mu     sync.Mutex
	models map[string]map[int]*blob // publisher/model → version → tar.gz
}

// NewTFHub starts tfhub.dev, Kaggle and storage replicas.
func NewTFHub(t testing.TB) *TFHub {
	h := &TFHub{models: map[string]map[int]*blob{}}
	h.URL = serve(t, h.serveHub)
	h.Kaggle = serveElsewhere(t, h.serveKaggle)
	h.Storage = serve(t, h.serveStorage)
	return h
}

// Add serves files (a SavedModel directory's content) as PUBLISHER/MODEL/VERSION;
// model may have several elements (imagenet/mobilenet_v2_100_224/classification).
func (h *TFHub) Add(publisher, model string, version int, files []File) error {
	data, err := TarGz(files)
	if err != nil {
		return err
	}
	b, err := newBlob(File{Path: fmt.Sprintf("%s/%s/%d", publisher, model, version), Data: data})
	if err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	key := publisher + "/" + model
	if h.models[key] == nil {
		h.models[key] = map[int]*blob{}
	}
	h.models[key][version] = b
	return nil
}

// TarGz builds a gzipped tar of files as "./path" entries, like TF Hub archives.
func TarGz(files []File) ([]byte, error) {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	sorted := append([]File(nil), files...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Path < sorted[j].Path })
	mt := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	dirs := map[string]bool{}
	for _, f := range sorted {
		segs := strings.Split(f.Path, "/")
		for i := 1; i < len(segs); i++ {
			d := strings.Join(segs[:i], "/")
			if !dirs[d] {
				dirs[d] = true
				if err := tw.WriteHeader(&tar.Header{Name: "./" + d + "/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: mt}); err != nil {
					return nil, err
				}
			}
		}
		if err := tw.WriteHeader(&tar.Header{Name: "./" + f.Path, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(f.Data)), ModTime: mt}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.Data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (h *TFHub) serveHub(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	h.mu.Lock()
	defer h.mu.Unlock()
	key, version := strings.Join(parts, "/"), ""
	if n := len(parts); n >= 3 {
		if _, err := strconv.Atoi(parts[n-1]); err == nil {
			key, version = strings.Join(parts[:n-1], "/"), parts[n-1]
		}
	}
	versions := h.models[key]
	if len(parts) < 2 || versions == nil {
		http.Error(w, "404: model not found", http.StatusNotFound)
		return
	}
	if version == "" {
		latest := 0
		for v := range versions {
			latest = max(latest, v)
		}
		loc := fmt.Sprintf("/%s/%d", key, latest)
		if r.URL.RawQuery != "" {
			loc += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, loc, http.StatusFound)
		return
	}
	v, _ := strconv.Atoi(version)
	if versions[v] == nil {
		http.Error(w, "404: version not found", http.StatusNotFound)
		return
	}
	if r.URL.Query().Get("tf-hub-format") != "compressed" {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, "<html><body>%s version %d</body></html>", key, v)
		return
	}
	// Kaggle names models PUBLISHER/MODEL/FRAMEWORK/VARIATION/VERSION.
	publisher, model, _ := strings.Cut(key, "/")
	variation := strings.ReplaceAll(model, "/", "-")
	loc := fmt.Sprintf("%s/models/%s/%s/tensorFlow2/%s/%d/download?tfhub-redirect=true", h.Kaggle, publisher, url.PathEscape(model), variation, v)
	http.Redirect(w, r, loc, http.StatusFound)
}

func (h *TFHub) serveKaggle(w http.ResponseWriter, r *http.Request) {
	// /models/{publisher}/{model}/tensorFlow2/{variation}/{version}/download
	parts := strings.Split(strings.Trim(r.URL.EscapedPath(), "/"), "/")
	if len(parts) != 7 || parts[0] != "models" || parts[6] != "download" {
		http.NotFound(w, r)
		return
	}
	model, err := url.PathUnescape(parts[2])
	if err != nil {
		http.NotFound(w, r)
		return
	}
	v, _ := strconv.Atoi(parts[5])
	h.mu.Lock()
	b := h.models[parts[1]+"/"+model][v]
	h.mu.Unlock()
	if b == nil {
		http.NotFound(w, r)
		return
	}
	sig := sha1.Sum([]byte(b.sha256 + "gcs-key"))
	http.Redirect(w, r, fmt.Sprintf("%s/kaggle-models-data/%s/model.tar.gz?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Expires=3600&X-Goog-Signature=%s",
		h.Storage, b.sha256, hex.EncodeToString(sig[:])), http.StatusFound)
}

func (h *TFHub) serveStorage(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) != 3 {
		http.NotFound(w, r)
		return
	}
	h.mu.Lock()
	var b *blob
	for _, vs := range h.models {
		for _, x := range vs {
			if x.sha256 == parts[1] {
				b = x
			}
		}
	}
	h.mu.Unlock()
	sig := sha1.Sum([]byte(parts[1] + "gcs-key"))
	if b == nil || r.URL.Query().Get("X-Goog-Signature") != hex.EncodeToString(sig[:]) {
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, "<Error><Code>AccessDenied</Code></Error>")
		return
	}
	w.Header().Set("Content-Type", "application/x-tar")
	w.Header().Set("X-Goog-Hash", "crc32c=AAAAAA==,md5="+b.sha256[:22]+"==")
	h.Faults.serve(w, r, b, `"`+b.sha256[:32]+`"`, time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC))
}

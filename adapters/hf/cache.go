package hf

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/mlos-foundation/axon/adapters"
	"github.com/mlos-foundation/axon/adapters/download"
)

// The habits of huggingface_hub: where `hf auth login` saves the token, the
// shared cache (models--ORG--NAME/{blobs,snapshots,refs}) and offline mode.

// Home is $HF_HOME, default $XDG_CACHE_HOME/huggingface or ~/.cache/huggingface.
func Home() string {
	if h := os.Getenv("HF_HOME"); h != "" {
		return h
	}
	if x := os.Getenv("XDG_CACHE_HOME"); x != "" {
		return filepath.Join(x, "huggingface")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".cache", "huggingface")
}

// TokenFromEnv is the token huggingface_hub would use: $HF_TOKEN (or the older
// $HUGGING_FACE_HUB_TOKEN), else the file $HF_TOKEN_PATH, default $HF_HOME/token.
func TokenFromEnv() string {
	for _, k := range []string{"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"} {
		if t := strings.TrimSpace(os.Getenv(k)); t != "" {
			return t
		}
	}
	p := os.Getenv("HF_TOKEN_PATH")
	if p == "" {
		if h := Home(); h != "" {
			p = filepath.Join(h, "token")
		}
	}
	if p == "" {
		return ""
	}
	b, err := os.ReadFile(p)
	if err != nil || len(b) > 4096 {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// OfflineFromEnv reports HF_HUB_OFFLINE set to a true value (1, true, yes, on).
func OfflineFromEnv() bool {
	switch strings.ToLower(strings.TrimSpace(os.Getenv("HF_HUB_OFFLINE"))) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

// CacheDirFromEnv is huggingface_hub's cache: $HF_HUB_CACHE, default $HF_HOME/hub.
func CacheDirFromEnv() string {
	if c := os.Getenv("HF_HUB_CACHE"); c != "" {
		return c
	}
	if c := os.Getenv("HUGGINGFACE_HUB_CACHE"); c != "" {
		return c
	}
	if h := Home(); h != "" {
		return filepath.Join(h, "hub")
	}
	return ""
}

// repoFolder is huggingface_hub's folder name for a model repository.
func repoFolder(id string) string { return "models--" + strings.ReplaceAll(id, "/", "--") }

// cachedFile returns the snapshot path of file p of commit sha in the HF cache,
// for any of the repository's names, or "".
func (a *Adapter) cachedFile(ids []string, sha, p string) string {
	if a.HubCache == "" {
		return ""
	}
	for _, id := range ids {
		snap := filepath.Join(a.HubCache, repoFolder(id), "snapshots", sha)
		f, err := download.SafeJoin(snap, p)
		if err != nil {
			continue
		}
		if fi, err := os.Stat(f); err == nil && fi.Mode().IsRegular() {
			return f
		}
	}
	return ""
}

// fetchOffline installs from the HF cache alone (HF_HUB_OFFLINE=1): the revision
// from refs/, the files from the snapshot, each verified against the blob it
// links to (named by its sha256 or git blob id). It sends no request.
func (a *Adapter) fetchOffline(ctx context.Context, ref adapters.Ref, dir string) (*adapters.Model, error) {
	rev := ref.Version
	if ref.Latest() {
		rev = "main"
	}
	how := "; run once without HF_HUB_OFFLINE to download it"
	if a.HubCache == "" {
		return nil, fmt.Errorf("hf: %w: HF_HUB_OFFLINE=1 and no Hugging Face cache (set HF_HOME or HF_HUB_CACHE)", download.ErrOffline)
	}
	repoDir := filepath.Join(a.HubCache, repoFolder(ref.ID))
	sha := rev
	if !shaRE.MatchString(rev) {
		refFile, err := download.SafeJoin(filepath.Join(repoDir, "refs"), rev)
		if err != nil {
			return nil, fmt.Errorf("hf: bad revision %q: %w", rev, err)
		}
		b, err := os.ReadFile(refFile)
		if err != nil {
			return nil, fmt.Errorf("hf: %w: HF_HUB_OFFLINE=1 and %s@%s is neither in axon's store nor in the Hugging Face cache (no %s)%s",
				download.ErrOffline, ref.ID, rev, refFile, how)
		}
		sha = strings.TrimSpace(string(b))
		if !shaRE.MatchString(sha) {
			return nil, fmt.Errorf("hf: %s holds no commit sha", refFile)
		}
	}
	snap := filepath.Join(repoDir, "snapshots", sha)
	var paths []string
	err := filepath.WalkDir(snap, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(snap, p)
		if err != nil {
			return err
		}
		paths = append(paths, filepath.ToSlash(rel))
		return nil
	})
	if err != nil || len(paths) == 0 {
		return nil, fmt.Errorf("hf: %w: HF_HUB_OFFLINE=1 and the Hugging Face cache has no files of %s@%s (%s)%s", download.ErrOffline, ref.ID, sha, snap, how)
	}
	selected, choice, err := adapters.SelectVariant(paths, a.Include, a.Exclude, a.Variant)
	if err != nil {
		return nil, fmt.Errorf("hf: %s@%s: %w", ref.ID, sha[:12], err)
	}
	if len(selected) == 0 {
		return nil, fmt.Errorf("hf: %s@%s: the cached snapshot has no files axon can use (%s)", ref.ID, sha[:12], snap)
	}
	var files []download.File
	for _, p := range selected {
		local := filepath.Join(snap, filepath.FromSlash(p))
		fi, err := os.Stat(local)
		if err != nil {
			return nil, fmt.Errorf("hf: %w: %s@%s: cached %s is unreadable: %v%s", download.ErrOffline, ref.ID, sha[:12], p, err, how)
		}
		f := download.File{
			Path: p, Local: local, Size: fi.Size(),
			URL: fmt.Sprintf("%s/%s/resolve/%s/%s", a.Endpoint, ref.ID, sha, escapePath(p)),
		}
		// huggingface_hub names each blob by its ETag: the sha256 of an LFS file,
		// the git blob id of any other.
		if target, err := filepath.EvalSymlinks(local); err == nil {
			switch etag := path.Base(filepath.ToSlash(target)); len(etag) {
			case 64:
				f.Sum = download.Checksum{Algo: download.SHA256, Value: etag}
			case 40:
				f.Sum = download.Checksum{Algo: download.GitSHA1, Value: etag}
			}
		}
		if f.Sum.Algo == download.None {
			return nil, fmt.Errorf("hf: %w: %s@%s: cached %s does not link to a blob named by its checksum, so it cannot be verified%s", download.ErrOffline, ref.ID, sha[:12], p, how)
		}
		files = append(files, f)
	}
	eng := *a.Engine
	eng.Offline = true
	st, err := eng.Fetch(ctx, dir, files)
	if err != nil {
		return nil, fmt.Errorf("hf: %s@%s: %w", ref.ID, sha[:12], err)
	}
	m := &adapters.Model{
		Dir: dir, Hub: adapters.HubHF, ID: ref.ID, Revision: sha,
		URL:   a.Endpoint + "/" + ref.ID + "/tree/" + sha,
		Files: selected, Downloaded: st.Downloaded, Cached: st.Cached, DownloadedBytes: st.DownloadedBytes,
	}
	if choice != nil {
		m.ONNXFile, m.Variant = choice.Path, choice.Variant
	}
	adapters.Detect(m)
	return m, nil
}

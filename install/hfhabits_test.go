package install_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlos-foundation/axon/adapters"
	"github.com/mlos-foundation/axon/adapters/download"
	"github.com/mlos-foundation/axon/adapters/hubtest"
	"github.com/mlos-foundation/axon/install"
	"github.com/mlos-foundation/axon/internal/store"
	"github.com/mlos-foundation/axon/internal/testutil"
)

// hfEnv points huggingface_hub's variables at fresh directories (no token, no
// cache, online) and returns HF_HOME.
func hfEnv(t *testing.T) string {
	home := t.TempDir()
	t.Setenv("HF_HOME", home)
	for _, k := range []string{"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HUB_OFFLINE"} {
		t.Setenv(k, "")
	}
	return home
}

// treeDigest hashes every path, mode, link target and content under dir, to
// show a directory was not changed.
func treeDigest(t *testing.T, dir string) string {
	t.Helper()
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		h.Write([]byte(rel + "\x00" + fi.Mode().String() + "\x00" + fi.ModTime().String() + "\x00"))
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			l, _ := os.Readlink(p)
			h.Write([]byte(l))
		case fi.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			h.Write(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestInstallReusesHFCache: files already in huggingface_hub's cache are verified
// and used, not downloaded; the cache is left as it was; a cached file whose
// content does not match the Hub's checksum is downloaded instead.
func TestInstallReusesHFCache(t *testing.T) {
	hfHome := hfEnv(t)
	h, sha := bertHub(t)
	cache := filepath.Join(hfHome, "hub") // the default: $HF_HOME/hub
	if _, err := h.WriteHFCache(cache, "google-bert/bert-base-uncased", "main"); err != nil {
		t.Fatal(err)
	}
	before := treeDigest(t, cache)
	home := t.TempDir()
	res, err := install.Install(context.Background(), "hf/google-bert/bert-base-uncased", install.Options{Home: home, HFEndpoint: h.URL})
	if err != nil {
		t.Fatal(err)
	}
	if n := h.Faults.FileGets.Load(); n != 0 || res.Model.Downloaded != 0 {
		t.Fatalf("%d files downloaded (%d by the adapter's count) although all are in the HF cache", n, res.Model.Downloaded)
	}
	st, err := store.Open(home)
	if err != nil {
		t.Fatal(err)
	}
	checkBERTManifest(t, readManifest(t, st, res.Descriptor.Digest.String()), sha)
	if after := treeDigest(t, cache); after != before {
		t.Fatal("the HF cache was modified")
	}

	// A cached file with the right name and size but other bytes is not used.
	cache2 := filepath.Join(t.TempDir(), "hub")
	t.Setenv("HF_HUB_CACHE", cache2)
	if _, err := h.WriteHFCache(cache2, "google-bert/bert-base-uncased", "main"); err != nil {
		t.Fatal(err)
	}
	vocab, err := filepath.EvalSymlinks(filepath.Join(cache2, "models--google-bert--bert-base-uncased", "snapshots", sha, "vocab.txt"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(vocab)
	b[0] ^= 1
	if err := os.WriteFile(vocab, b, 0o644); err != nil {
		t.Fatal(err)
	}
	gets := h.Faults.FileGets.Load()
	res, err = install.Install(context.Background(), "hf/google-bert/bert-base-uncased", install.Options{Home: t.TempDir(), HFEndpoint: h.URL})
	if err != nil {
		t.Fatal(err)
	}
	if n := h.Faults.FileGets.Load() - gets; n != 1 {
		t.Fatalf("%d files downloaded; want only the corrupted vocab.txt", n)
	}
}

// TestInstallOffline: HF_HUB_OFFLINE=1 installs from the HF cache, or from
// axon's store, and otherwise fails naming what is missing; the replica sees
// no request at all.
func TestInstallOffline(t *testing.T) {
	hfHome := hfEnv(t)
	h, sha := bertHub(t)
	ctx := context.Background()
	t.Setenv("HF_HUB_OFFLINE", "1")

	// Nothing cached anywhere.
	_, err := install.Install(ctx, "hf/google-bert/bert-base-uncased", install.Options{Home: t.TempDir(), HFEndpoint: h.URL})
	if !errors.Is(err, download.ErrOffline) || !strings.Contains(err.Error(), "google-bert/bert-base-uncased@main") || !strings.Contains(err.Error(), "HF_HUB_OFFLINE") {
		t.Fatalf("want an offline error naming the model, got %v", err)
	}
	// A snapshot lacking a file the package needs.
	cache := filepath.Join(hfHome, "hub")
	if _, err := h.WriteHFCache(cache, "google-bert/bert-base-uncased", "main", "config.json"); err != nil {
		t.Fatal(err)
	}
	_, err = install.Install(ctx, "hf/google-bert/bert-base-uncased", install.Options{Home: t.TempDir(), HFEndpoint: h.URL})
	if err == nil {
		t.Fatal("installed from a snapshot with config.json only")
	}
	if n := h.Requests.Load(); n != 0 {
		t.Fatalf("offline: the replica saw %d requests", n)
	}

	// The whole snapshot cached: installs, still without a request.
	if err := os.RemoveAll(cache); err != nil {
		t.Fatal(err)
	}
	if _, err := h.WriteHFCache(cache, "google-bert/bert-base-uncased", "main"); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	res, err := install.Install(ctx, "hf/google-bert/bert-base-uncased@latest", install.Options{Home: home, HFEndpoint: h.URL})
	if err != nil {
		t.Fatal(err)
	}
	if res.Model.Revision != sha || res.Model.Downloaded != 0 {
		t.Fatalf("revision %s downloaded %d", res.Model.Revision, res.Model.Downloaded)
	}
	st, err := store.Open(home)
	if err != nil {
		t.Fatal(err)
	}
	m := readManifest(t, st, res.Descriptor.Digest.String())
	if m.Source.Revision != sha || len(m.IO.Inputs) != 3 {
		t.Fatalf("offline package: source %+v io %+v", m.Source, m.IO)
	}
	// By commit too.
	if _, err := install.Install(ctx, "hf/google-bert/bert-base-uncased@"+sha, install.Options{Home: t.TempDir(), HFEndpoint: h.URL}); err != nil {
		t.Fatal(err)
	}
	if n := h.Requests.Load(); n != 0 {
		t.Fatalf("offline: the replica saw %d requests", n)
	}

	// Installed before (online), the HF cache gone: axon's store answers.
	if err := os.RemoveAll(cache); err != nil {
		t.Fatal(err)
	}
	res2, err := install.Install(ctx, "hf/google-bert/bert-base-uncased@latest", install.Options{Home: home, HFEndpoint: h.URL})
	if err != nil {
		t.Fatal(err)
	}
	if !res2.Reused || res2.Descriptor.Digest != res.Descriptor.Digest {
		t.Fatalf("offline reinstall: reused %v digest %s", res2.Reused, res2.Descriptor.Digest)
	}
	if n := h.Requests.Load(); n != 0 {
		t.Fatalf("offline: the replica saw %d requests", n)
	}
}

// TestInstallTokenFile: with no HF_TOKEN, the token `hf auth login` saved in
// $HF_HOME/token opens a gated repository; it goes to the hub only, never to the
// CDN the files redirect to.
func TestInstallTokenFile(t *testing.T) {
	hfHome := hfEnv(t)
	h := hubtest.NewHF(t)
	r := hubtest.BERTRepo()
	r.ID, r.Aliases, r.Gated = "meta-test/gated-bert", nil, true
	h.MustPush(t, r)
	ctx := context.Background()

	_, err := install.Install(ctx, "hf/meta-test/gated-bert", install.Options{Home: t.TempDir(), HFEndpoint: h.URL})
	if !errors.Is(err, adapters.ErrGated) {
		t.Fatalf("without a token: want ErrGated, got %v", err)
	}
	if err := os.WriteFile(filepath.Join(hfHome, "token"), []byte(h.Token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := install.Install(ctx, "hf/meta-test/gated-bert", install.Options{Home: t.TempDir(), HFEndpoint: h.URL})
	if err != nil {
		t.Fatal(err)
	}
	if res.Model.Downloaded == 0 || h.AuthOnHub.Load() == 0 {
		t.Fatalf("downloaded %d, hub saw the token %d times", res.Model.Downloaded, h.AuthOnHub.Load())
	}
	if n := h.AuthOnCDN.Load(); n != 0 {
		t.Fatalf("the token was sent to the CDN %d times", n)
	}

	// HF_TOKEN wins over the file.
	t.Setenv("HF_TOKEN", "hf_wrong")
	if _, err := install.Install(ctx, "hf/meta-test/gated-bert", install.Options{Home: t.TempDir(), HFEndpoint: h.URL}); err == nil {
		t.Fatal("a wrong HF_TOKEN did not take precedence over the token file")
	}
}

// TestInstallHubUnreachableUsesHFCache: when the Hub cannot be reached at all,
// the cached snapshot answers, as with huggingface_hub.
func TestInstallHubUnreachableUsesHFCache(t *testing.T) {
	hfHome := hfEnv(t)
	h, sha := bertHub(t)
	if _, err := h.WriteHFCache(filepath.Join(hfHome, "hub"), "google-bert/bert-base-uncased", "main"); err != nil {
		t.Fatal(err)
	}
	dead := "http://" + testutil.FreeAddr(t) // nothing listens there
	res, err := install.Install(context.Background(), "hf/google-bert/bert-base-uncased", install.Options{Home: t.TempDir(), HFEndpoint: dead})
	if err != nil {
		t.Fatal(err)
	}
	if res.Model.Revision != sha {
		t.Fatalf("revision %s, want %s", res.Model.Revision, sha)
	}
	// Not cached: the one-line unreachable error, not an offline one.
	_, err = install.Install(context.Background(), "hf/other/model", install.Options{Home: t.TempDir(), HFEndpoint: dead})
	var ue *download.UnreachableError
	if !errors.As(err, &ue) {
		t.Fatalf("want UnreachableError, got %v", err)
	}
}

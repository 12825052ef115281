// Package install benchmarks `axon install` of a 500 MB model from the Hugging Face
// replica over loopback against the loopback limit measured in the same run (a
// plain io.Copy of the same file over loopback HTTP), cold and warm.
//
//	AXON_BENCH=1 go test -count=1 -v -timeout 30m ./bench/install
package install

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlos-foundation/axon/adapters"
	"github.com/mlos-foundation/axon/adapters/download"
	"github.com/mlos-foundation/axon/adapters/hf"
	"github.com/mlos-foundation/axon/adapters/hubtest"
	"github.com/mlos-foundation/axon/install"
	"github.com/mlos-foundation/axon/internal/onnx"
)

const (
	rows, cols = 1000, 125000 // 125 M float32 weights: 500 MB of external data
)

// bigModel writes onnx/model.onnx with 500 MB of external data, and a config.json.
func bigModel(t *testing.T, dir string) []hubtest.File {
	w := make([]float32, rows*cols)
	for i := range w {
		w[i] = float32(i%1021) * 0.001
	}
	b := onnx.NewBuilder("big").Opset(17).
		Input("x", "float32", "batch", rows).
		Output("y", "float32", "batch", cols).
		InitFloat("w", []int64{rows, cols}, w).
		Node("MatMul", []string{"x", "w"}, []string{"y"})
	if err := b.WriteFileExternal(filepath.Join(dir, "onnx", "model.onnx"), "model.onnx_data"); err != nil {
		t.Fatal(err)
	}
	w = nil
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"architectures":["BigModel"]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	var files []hubtest.File
	for _, p := range []string{"onnx/model.onnx", "onnx/model.onnx_data", "config.json"} {
		files = append(files, hubtest.File{Path: p, Disk: filepath.Join(dir, filepath.FromSlash(p))})
	}
	return files
}

type row struct {
	name  string
	took  time.Duration
	bytes int64
	note  string
}

func TestBenchInstall500MB(t *testing.T) {
	if os.Getenv("AXON_BENCH") != "1" {
		t.Skip("set AXON_BENCH=1 to run benchmarks")
	}
	ctx := context.Background()
	src := t.TempDir()
	files := bigModel(t, src)
	data := filepath.Join(src, "onnx", "model.onnx_data")
	fi, err := os.Stat(data)
	if err != nil {
		t.Fatal(err)
	}
	size := fi.Size()
	h := hubtest.NewHF(t)
	sha := h.MustPush(t, hubtest.HFRepo{ID: "bench/big-model", Files: files})

	var rows []row
	// The peer: a plain file server and io.Copy over loopback, best of 3.
	plain := httptest.NewServer(http.FileServer(http.Dir(src)))
	defer plain.Close()
	copyOnce := func(dst func() (io.Writer, func())) time.Duration {
		start := time.Now()
		resp, err := http.Get(plain.URL + "/onnx/model.onnx_data")
		if err != nil {
			t.Fatal(err)
		}
		w, done := dst()
		n, err := io.Copy(w, resp.Body)
		resp.Body.Close()
		done()
		if err != nil || n != size {
			t.Fatalf("copy: %d bytes, %v", n, err)
		}
		return time.Since(start)
	}
	best := func(f func() time.Duration) time.Duration {
		b := time.Duration(1 << 62)
		for range 3 {
			b = min(b, f())
		}
		return b
	}
	discard := best(func() time.Duration {
		return copyOnce(func() (io.Writer, func()) { return io.Discard, func() {} })
	})
	rows = append(rows, row{"loopback io.Copy → discard (limit)", discard, size, "peer"})
	toFile := best(func() time.Duration {
		return copyOnce(func() (io.Writer, func()) {
			f, err := os.Create(filepath.Join(t.TempDir(), "copy"))
			if err != nil {
				t.Fatal(err)
			}
			hs := sha256.New()
			return io.MultiWriter(f, hs), func() { f.Close() }
		})
	})
	rows = append(rows, row{"loopback io.Copy → file + sha256", toFile, size, "peer"})

	// The download engine alone (redirect to the CDN host, verify LFS sha256, cache).
	// Best of 3 like the peer, each into an empty cache.
	ref, _ := adapters.ParseRef("hf/bench/big-model@" + sha)
	var m *adapters.Model
	dl := best(func() time.Duration {
		cache := t.TempDir()
		defer os.RemoveAll(cache)
		a := &hf.Adapter{Endpoint: h.URL, Engine: download.New(cache)}
		start := time.Now()
		var err error
		if m, err = a.Fetch(ctx, ref, filepath.Join(cache, "model")); err != nil {
			t.Fatal(err)
		}
		return time.Since(start)
	})
	rows = append(rows, row{"axon download (verified, cached)", dl, m.DownloadedBytes, fmt.Sprintf("%d files", m.Downloaded)})

	// Cold: an empty AXON_HOME each time (best of 3); warm: the same home again.
	var home string
	var res *install.Result
	cold := best(func() time.Duration {
		if home != "" {
			os.RemoveAll(home)
		}
		home = t.TempDir()
		start := time.Now()
		var err error
		if res, err = install.Install(ctx, "hf/bench/big-model@latest", install.Options{Home: home, HFEndpoint: h.URL}); err != nil {
			t.Fatal(err)
		}
		return time.Since(start)
	})
	rows = append(rows, row{"axon install, cold", cold, res.Model.DownloadedBytes, "download+verify+pack+store"})
	opts := install.Options{Home: home, HFEndpoint: h.URL}
	served := h.Faults.BytesServed.Load()
	var res2 *install.Result
	warm := best(func() time.Duration {
		start := time.Now()
		var err error
		if res2, err = install.Install(ctx, "hf/bench/big-model@latest", opts); err != nil {
			t.Fatal(err)
		}
		return time.Since(start)
	})
	rows = append(rows, row{"axon install, warm (again)", warm, size, fmt.Sprintf("%d B downloaded", h.Faults.BytesServed.Load()-served)})
	if res2.Descriptor.Digest != res.Descriptor.Digest || res2.Model.Downloaded != 0 {
		t.Errorf("warm install downloaded %d files or changed digest", res2.Model.Downloaded)
	}
	opts.Force = true
	force := best(func() time.Duration {
		start := time.Now()
		if _, err := install.Install(ctx, "hf/bench/big-model@latest", opts); err != nil {
			t.Fatal(err)
		}
		return time.Since(start)
	})
	rows = append(rows, row{"axon install --force (cache → repack)", force, size, ""})

	var sb strings.Builder
	fmt.Fprintf(&sb, "\naxon install, %d MB model over loopback (HF replica, LFS redirect to a second host)\n", size>>20)
	fmt.Fprintf(&sb, "%-42s %10s %10s %9s  %s\n", "(best of 3 each)", "time", "MB/s", "vs limit", "")
	limit := float64(size) / discard.Seconds()
	for _, r := range rows {
		rate := float64(r.bytes) / r.took.Seconds()
		fmt.Fprintf(&sb, "%-42s %10s %10.0f %8.2fx  %s\n", r.name, r.took.Round(time.Millisecond), rate/1e6, rate/limit, r.note)
	}
	t.Log(sb.String())
}

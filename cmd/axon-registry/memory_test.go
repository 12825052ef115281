package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
)

// peakRSS reads a process's high-water resident set (VmHWM) from /proc, in bytes.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}

// TestManifestPutMemoryBounded: 60 concurrent 4 MiB manifest PUTs (the issue's
// load) must not take the registry's memory to a gigabyte: the bodies buffered
// at once are bounded.
func TestManifestPutMemoryBounded(t *testing.T) {
	reg := startRegistry(t, nil, "--root", t.TempDir(), "--ui=false")
	base := "http://" + reg.Host
	before := peakRSS(t, reg.Cmd.Process.Pid)
	pad := strings.Repeat("x", 4<<20-400)
	cfg := digest.FromString("{}")
	var wg sync.WaitGroup
	codes := make([]int, 60)
	for i := range codes {
		wg.Go(func() {
			m := map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
				"config":      map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cfg, "size": 2},
				"layers":      []any{},
				"annotations": map[string]string{"pad": pad, "i": strconv.Itoa(i)}}
			b, _ := json.Marshal(m)
			req, _ := http.NewRequest("PUT", fmt.Sprintf("%s/v2/mem/r%d/manifests/v1", base, i), bytes.NewReader(b))
			req.Header.Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			codes[i] = resp.StatusCode
		})
	}
	wg.Wait()
	after := peakRSS(t, reg.Cmd.Process.Pid)
	for i, c := range codes {
		if c != http.StatusBadRequest { // MANIFEST_BLOB_UNKNOWN: read and parsed in full, then refused
			t.Fatalf("PUT %d: %d", i, c)
		}
	}
	t.Logf("peak RSS %d MiB before, %d MiB after 60 concurrent 4 MiB manifest PUTs", before>>20, after>>20)
	if after-before > 300<<20 {
		t.Fatalf("60 concurrent 4 MiB manifest PUTs raised peak RSS by %d MiB (bodies: 240 MiB in all)", (after-before)>>20)
	}
}

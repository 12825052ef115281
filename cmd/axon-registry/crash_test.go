package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlos-foundation/axon/internal/testutil"
	"github.com/opencontainers/go-digest"
)

func randInt(n int64) int64 {
	v, _ := rand.Int(rand.Reader, big.NewInt(n))
	return v.Int64()
}

// uploadOnce pushes data in one of three ways the spec allows; it reports whether
// the registry acknowledged it with 201.
func uploadOnce(client *http.Client, base, repo string, data []byte, mode int) (bool, error) {
	d := digest.FromBytes(data)
	if mode == 0 { // monolithic POST
		resp, err := client.Post(base+"/v2/"+repo+"/blobs/uploads/?digest="+d.String(), "application/octet-stream", bytes.NewReader(data))
		if err != nil {
			return false, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode == 201, nil
	}
	resp, err := client.Post(base+"/v2/"+repo+"/blobs/uploads/", "", nil)
	if err != nil {
		return false, err
	}
	resp.Body.Close()
	if resp.StatusCode != 202 {
		return false, fmt.Errorf("start: %d", resp.StatusCode)
	}
	loc := base + resp.Header.Get("Location")
	rest := data
	if mode == 2 { // two chunks with Content-Range, then an empty PUT
		half := len(data) / 2
		for i, part := range [][]byte{data[:half], data[half:]} {
			req, _ := http.NewRequest("PATCH", loc, bytes.NewReader(part))
			start := i * half
			req.Header.Set("Content-Range", fmt.Sprintf("%d-%d", start, start+len(part)-1))
			resp, err := client.Do(req)
			if err != nil {
				return false, err
			}
			resp.Body.Close()
			if resp.StatusCode != 202 {
				return false, fmt.Errorf("patch: %d", resp.StatusCode)
			}
			loc = base + resp.Header.Get("Location")
		}
		rest = nil
	}
	req, _ := http.NewRequest("PUT", loc+"?digest="+d.String(), bytes.NewReader(rest))
	resp, err = client.Do(req)
	if err != nil {
		return false, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == 201, nil
}

// kill -9 during 20 concurrent uploads, restart: every blob visible on disk hashes
// to its digest, and every blob the registry acknowledged is there.
func TestCrashDuringConcurrentUploads(t *testing.T) {
	t.Run("filesystem", func(t *testing.T) {
		root := t.TempDir()
		testCrash(t, nil, []string{"--root", root}, root)
	})
	t.Run("s3", func(t *testing.T) {
		s3 := testutil.StartS3(t)
		// versitygw's posix backend keeps each object as a file under DIR/BUCKET/KEY
		testCrash(t, s3.Env(), []string{"--storage", s3.URL()}, filepath.Join(s3.Dir, s3.Bucket))
	})
}

// testCrash: storage args for the registry; root is where blobs/ shows on disk.
func testCrash(t *testing.T, env, storageArgs []string, root string) {
	reg := startRegistry(t, env, storageArgs...)
	base := "http://" + reg.Host
	client := &http.Client{Timeout: time.Minute}

	type ack struct {
		repo string
		d    digest.Digest
	}
	var mu sync.Mutex
	var acked []ack
	var inflightErrs atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	for w := 0; w < 20; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			repo := fmt.Sprintf("crash/w%d", w%7)
			for i := 0; !stop.Load(); i++ {
				data := make([]byte, 1+randInt(3<<20))
				rand.Read(data)
				ok, err := uploadOnce(client, base, repo, data, (w+i)%3)
				if err != nil {
					inflightErrs.Add(1)
					if stop.Load() {
						return
					}
					continue
				}
				if ok {
					mu.Lock()
					acked = append(acked, ack{repo, digest.FromBytes(data)})
					mu.Unlock()
				}
			}
		}()
	}
	// let uploads pile up, then kill -9 while they run
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 40 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := reg.Cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	stop.Store(true)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	t.Logf("killed with %d acknowledged uploads, %d requests cut off", len(acked), inflightErrs.Load())
	if len(acked) == 0 {
		t.Fatal("no upload was acknowledged before the kill")
	}

	// every blob file on disk matches its name
	visible := 0
	err := filepath.WalkDir(filepath.Join(root, "blobs"), func(p string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() || de.Name() != "data" {
			return err
		}
		rel, _ := filepath.Rel(filepath.Join(root, "blobs"), p)
		parts := strings.Split(filepath.ToSlash(rel), "/")
		want := digest.NewDigestFromEncoded(digest.Algorithm(parts[0]), parts[2])
		var h hash.Hash = sha256.New()
		if want.Algorithm() == digest.SHA512 {
			h = sha512.New()
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		io.Copy(h, f)
		f.Close()
		if got := hex.EncodeToString(h.Sum(nil)); got != want.Encoded() {
			t.Errorf("visible blob %s holds bytes hashing to %s", want, got)
		}
		visible++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// temporary files of writes the kill cut short, plus one planted the way a
	// killed write leaves it (no writer holds it any more)
	onFS := storageArgs[0] == "--root"
	leftovers := func() []string {
		var out []string
		filepath.WalkDir(root, func(p string, de fs.DirEntry, err error) error {
			if err == nil && !de.IsDir() && strings.Contains(p, ".axon-tmp") {
				out = append(out, p)
			}
			return nil
		})
		return out
	}
	if onFS {
		os.WriteFile(filepath.Join(root, "blobs", ".axon-tmp-killed"), []byte("half a write"), 0o644)
		t.Logf("temporary files left by the kill: %d", len(leftovers()))
	}

	// restart on the same storage: everything acknowledged is served, intact
	reg2 := startRegistry(t, env, storageArgs...)
	base2 := "http://" + reg2.Host
	if onFS {
		// cleaned at start
		for start := time.Now(); len(leftovers()) > 0; time.Sleep(50 * time.Millisecond) {
			if time.Since(start) > 10*time.Second {
				t.Fatalf("temporary files of killed writes still there after restart: %v", leftovers())
			}
		}
	}
	for _, a := range acked {
		resp, err := client.Get(base2 + "/v2/" + a.repo + "/blobs/" + a.d.String())
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || digest.FromBytes(b) != a.d {
			t.Fatalf("acknowledged blob %s in %s lost after kill -9 (status %d)", a.d, a.repo, resp.StatusCode)
		}
	}
	// and the registry still takes uploads; offline GC cleans what the crash left
	data := []byte("after the crash")
	if ok, err := uploadOnce(client, base2, "crash/after", data, 2); !ok || err != nil {
		t.Fatalf("upload after restart: %v %v", ok, err)
	}
	gc := exec.Command(registryBinary(t), append([]string{"gc", "--grace", "1h", "--upload-ttl", "1ns", "--log-level", "warn"}, storageArgs...)...)
	gc.Env = append(os.Environ(), env...)
	out, err := gc.CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"uploadsExpired"`) {
		t.Fatalf("gc after crash: %v\n%s", err, out)
	}
	t.Logf("%d blobs on disk, all intact; %d acknowledged, all served after restart; gc: %s", visible, len(acked), strings.Join(strings.Fields(string(out)), " "))
}

package registry

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mlos-foundation/axon/internal/testutil"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// TestOrasBench pushes and pulls, with the real oras CLI, one big artifact
// (AXON_BENCH_MIB MiB, default 256, one file) and one of many small files
// (AXON_BENCH_FILES, default 300, of AXON_BENCH_FILE_KIB KiB, default 16) to
// axon-registry and to CNCF Distribution v3.1.2, both filesystem storage in
// separate processes on the same disk. AXON_BENCH_REPS rounds (default 3),
// alternating which registry goes first; the median wall time is reported.
func TestOrasBench(t *testing.T) {
	if os.Getenv("AXON_BENCH") != "1" {
		t.Skip("benchmark: set AXON_BENCH=1")
	}
	oras := testutil.Tool(t, "oras")
	mib, nfiles, kib, reps := envInt("AXON_BENCH_MIB", 256), envInt("AXON_BENCH_FILES", 300), envInt("AXON_BENCH_FILE_KIB", 16), envInt("AXON_BENCH_REPS", 3)
	theirs := testutil.StartDistribution(t)
	bin := buildOurs(t)
	ours := testutil.FreeAddr(t)
	testutil.Start(t, nil, bin, "--addr", ours, "--root", t.TempDir(), "--log-level", "error", "--ui=false")
	testutil.WaitHTTP(t, "http://"+ours+"/healthz", 30*time.Second)

	work := t.TempDir()
	bigDir, smallDir := filepath.Join(work, "big"), filepath.Join(work, "small")
	os.MkdirAll(bigDir, 0o755)
	os.MkdirAll(smallDir, 0o755)
	if err := os.WriteFile(filepath.Join(bigDir, "weights.bin"), pseudoRandom(mib<<20, 7), 0o644); err != nil {
		t.Fatal(err)
	}
	var smallFiles []string
	for i := range nfiles {
		name := fmt.Sprintf("f%04d.bin", i)
		if err := os.WriteFile(filepath.Join(smallDir, name), pseudoRandom(kib<<10, uint64(100+i)), 0o644); err != nil {
			t.Fatal(err)
		}
		smallFiles = append(smallFiles, name)
	}
	type artifact struct {
		name  string
		dir   string
		files []string
	}
	arts := []artifact{{fmt.Sprintf("%d MiB, 1 file", mib), bigDir, []string{"weights.bin"}}, {fmt.Sprintf("%d x %d KiB", nfiles, kib), smallDir, smallFiles}}
	regs := []struct{ name, host string }{{"axon-registry", ours}, {"distribution", theirs}}

	oneRun := func(dir string, args ...string) time.Duration {
		cmd := exec.Command(oras, args...)
		cmd.Dir = dir
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("oras %s: %v\n%s", strings.Join(args[:min(4, len(args))], " "), err, out)
		}
		return time.Since(start)
	}
	// times[artifact][registry]["push"/"pull"]
	times := map[string]map[string]map[string][]time.Duration{}
	for _, a := range arts {
		times[a.name] = map[string]map[string][]time.Duration{}
		for _, r := range regs {
			times[a.name][r.name] = map[string][]time.Duration{}
		}
	}
	for rep := range reps {
		for _, a := range arts {
			order := []int{0, 1}
			if rep%2 == 1 {
				order = []int{1, 0}
			}
			for _, ri := range order {
				r := regs[ri]
				// a new repository and tag per round: every push uploads (blobs are
				// deduplicated per repository, so a fresh repository has none)
				ref := fmt.Sprintf("%s/bench/oras%d-%d:1", r.host, rep, len(a.files))
				push := oneRun(a.dir, append([]string{"push", "--plain-http", ref}, a.files...)...)
				out := filepath.Join(work, fmt.Sprintf("out-%s-%d", r.name, rep))
				os.MkdirAll(out, 0o755)
				pull := oneRun(out, "pull", "--plain-http", "-o", out, ref)
				os.RemoveAll(out)
				times[a.name][r.name]["push"] = append(times[a.name][r.name]["push"], push)
				times[a.name][r.name]["pull"] = append(times[a.name][r.name]["pull"], pull)
			}
		}
	}
	med := func(ds []time.Duration) time.Duration {
		s := append([]time.Duration(nil), ds...)
		sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
		return s[len(s)/2]
	}
	var b strings.Builder
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Fprintf(&b, "\noras CLI against axon-registry and CNCF Distribution v3.1.2 (filesystem storage, separate processes), median of %d alternating rounds, load %s\n",
		reps, strings.Join(strings.Fields(string(load))[:3], " "))
	fmt.Fprintf(&b, "%-22s %-5s %14s %14s %22s\n", "artifact", "op", "axon-registry", "distribution", "ratio (goal ≥ 1.2x)")
	for _, a := range arts {
		for _, op := range []string{"push", "pull"} {
			o, d := med(times[a.name]["axon-registry"][op]), med(times[a.name]["distribution"][op])
			fmt.Fprintf(&b, "%-22s %-5s %14s %14s %21.2fx\n", a.name, op, o.Round(time.Millisecond), d.Round(time.Millisecond), d.Seconds()/o.Seconds())
		}
	}
	fmt.Fprintln(&b, "ratio = distribution time / axon-registry time: above 1 means axon-registry is faster")
	t.Log(b.String())
	fmt.Print(b.String())
}

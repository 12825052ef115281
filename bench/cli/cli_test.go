// Package cli benchmarks `axon push`/`axon pull` against `oras push`/`oras pull`
// moving the same 1 GiB, 5-file model through the same local registry, in one run.
//
//	AXON_BENCH=1 go test -count=1 -v -timeout 30m ./bench/cli
//
// AXON_BENCH_MIB sets the model size (default 1024), AXON_BENCH_REPS the
// repetitions (default 5, the median is reported; the order of the two tools
// alternates between repetitions).
package cli

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/mlos-foundation/axon/internal/onnx"
	"github.com/mlos-foundation/axon/internal/testutil"
)

const concurrency = "5"

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func TestCLIBench(t *testing.T) {
	if os.Getenv("AXON_BENCH") != "1" {
		t.Skip("set AXON_BENCH=1 to run the CLI benchmark")
	}
	oras := testutil.Tool(t, "oras")
	testutil.Tool(t, "registry")
	mib := envInt("AXON_BENCH_MIB", 1024)
	reps := envInt("AXON_BENCH_REPS", 5)
	work := t.TempDir()
	axon := build(t, work, "axon", "./cmd/axon")
	model, files := makeModel(t, filepath.Join(work, "model"), mib)

	// The axon side starts from its store, as a user would after pack/install.
	home := filepath.Join(work, "home")
	packStart := time.Now()
	run(t, model, []string{"AXON_HOME=" + home}, axon, "pack", ".", "--name", "bench/model", "--version", "1")
	packTime := time.Since(packStart)

	type registry struct {
		name  string
		start func(t *testing.T) string
	}
	regs := []registry{{"distribution v3.1.2", func(t *testing.T) string { return testutil.StartDistribution(t) }}}
	if bin := tryBuild(t, work, "axon-registry", "./cmd/axon-registry"); bin != "" {
		regs = append(regs, registry{"axon-registry", func(t *testing.T) string {
			addr := testutil.FreeAddr(t)
			testutil.Start(t, nil, bin, "--addr", addr, "--root", t.TempDir(), "--log-level", "error", "--ui=false")
			testutil.WaitHTTP(t, "http://"+addr+"/v2/", 30*time.Second)
			return addr
		}})
	}

	type row struct {
		registry, op string
		axon, oras   []measure
	}
	var rows []row
	for _, reg := range regs {
		var pushA, pushO, pullA, pullO []measure
		for i := 0; i < reps; i++ {
			// A fresh registry per push, so neither tool finds blobs there.
			// Alternate who goes first, so neither always meets a warmer machine.
			t.Run(fmt.Sprintf("%s/push/%d", reg.name, i), func(t *testing.T) {
				pushOras := func() {
					addr := reg.start(t)
					pushO = append(pushO, timed(t, model, nil, oras, append([]string{"push", "--plain-http", "--concurrency", concurrency, addr + "/bench/oras:1"}, files...)...))
				}
				pushAxon := func() {
					addr := reg.start(t)
					pushA = append(pushA, timed(t, model, []string{"AXON_HOME=" + home}, axon, "push", "-q", "--concurrency", concurrency, "bench/model@1", addr+"/bench/axon:1"))
				}
				if i%2 == 0 {
					pushOras()
					pushAxon()
				} else {
					pushAxon()
					pushOras()
				}
			})
		}
		addr := reg.start(t)
		run(t, model, []string{"AXON_HOME=" + home}, axon, "push", "-q", "bench/model@1", addr+"/bench/model:1")
		for i := 0; i < reps; i++ {
			// Both pull the same artifact into empty destinations.
			pullOras := func() {
				out := filepath.Join(work, fmt.Sprintf("oras-out-%d", i))
				os.MkdirAll(out, 0o755)
				pullO = append(pullO, timed(t, out, nil, oras, "pull", "--plain-http", "--concurrency", concurrency, addr+"/bench/model:1"))
				os.RemoveAll(out)
			}
			pullAxon := func() {
				h := filepath.Join(work, fmt.Sprintf("pull-home-%d", i))
				pullA = append(pullA, timed(t, work, []string{"AXON_HOME=" + h}, axon, "pull", "-q", "--concurrency", concurrency, addr+"/bench/model:1"))
				os.RemoveAll(h)
			}
			if i%2 == 0 {
				pullOras()
				pullAxon()
			} else {
				pullAxon()
				pullOras()
			}
		}
		rows = append(rows, row{reg.name, "push", pushA, pushO}, row{reg.name, "pull", pullA, pullO})
	}

	var b strings.Builder
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Fprintf(&b, "\nCLI benchmark: %d MiB in %d files, concurrency %s, median of %d, one machine (loopback), %d CPUs, load %s\n",
		mib, len(files), concurrency, reps, runtime.NumCPU(), strings.Join(strings.Fields(string(load))[:3], " "))
	fmt.Fprintf(&b, "axon pack (hash + store, not part of push): %s\n", packTime.Round(time.Millisecond))
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "registry\top\taxon wall\toras wall\toras/axon wall\taxon MiB/s\taxon cpu\toras cpu\toras/axon cpu\taxon wall range\toras wall range")
	for _, r := range rows {
		a, o := median(r.axon), median(r.oras)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.2fx\t%.0f\t%s\t%s\t%.2fx\t%s\t%s\n", r.registry, r.op,
			a.wall.Round(time.Millisecond), o.wall.Round(time.Millisecond), o.wall.Seconds()/a.wall.Seconds(),
			float64(mib)/a.wall.Seconds(),
			a.cpu.Round(time.Millisecond), o.cpu.Round(time.Millisecond), o.cpu.Seconds()/a.cpu.Seconds(),
			spread(r.axon), spread(r.oras))
	}
	fmt.Fprintln(tw, "ratios >= 1.0x: axon as fast (wall) or as frugal (client CPU) as oras")
	tw.Flush()
	t.Log(b.String())
	fmt.Println(b.String())
}

// makeModel writes model.onnx plus four weight shards, mib MiB in all.
func makeModel(t *testing.T, dir string, mib int) (string, []string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := onnx.TinyMLP(16, 32, 4, 1).WriteFile(filepath.Join(dir, "model.onnx")); err != nil {
		t.Fatal(err)
	}
	files := []string{"model.onnx"}
	shares := []int{40, 30, 20, 10} // percent of the size
	r := rand.New(rand.NewPCG(42, 7))
	buf := make([]byte, 1<<20)
	for i, pct := range shares {
		name := fmt.Sprintf("weights-%d.bin", i+1)
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		for n := 0; n < mib*pct/100; n++ {
			for j := 0; j+8 <= len(buf); j += 8 {
				v := r.Uint64()
				for k := 0; k < 8; k++ {
					buf[j+k] = byte(v >> (8 * k))
				}
			}
			if _, err := f.Write(buf); err != nil {
				t.Fatal(err)
			}
		}
		f.Close()
		files = append(files, name)
	}
	return dir, files
}

func build(t *testing.T, dir, name, pkg string) string {
	t.Helper()
	bin := tryBuild(t, dir, name, pkg)
	if bin == "" {
		t.Fatalf("%s does not build", pkg)
	}
	return bin
}

func tryBuild(t *testing.T, dir, name, pkg string) string {
	t.Helper()
	bin := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	cmd.Dir = moduleRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Logf("build %s: %v\n%s", pkg, err, out)
		return ""
	}
	return bin
}

func moduleRoot(t *testing.T) string {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

func run(t *testing.T, dir string, env []string, bin string, args ...string) {
	t.Helper()
	timed(t, dir, env, bin, args...)
}

// measure is one run: wall time and the client's CPU time (user + system),
// the steadier figure on a shared machine.
type measure struct{ wall, cpu time.Duration }

func timed(t *testing.T, dir string, env []string, bin string, args ...string) measure {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	el := time.Since(start)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, out)
	}
	return measure{wall: el, cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}
}

// spread is the fastest and slowest wall time of the repetitions.
func spread(ms []measure) string {
	lo, hi := ms[0].wall, ms[0].wall
	for _, m := range ms {
		lo, hi = min(lo, m.wall), max(hi, m.wall)
	}
	return lo.Round(time.Millisecond).String() + "-" + hi.Round(time.Millisecond).String()
}

func median(ms []measure) measure {
	w := make([]time.Duration, len(ms))
	c := make([]time.Duration, len(ms))
	for i, m := range ms {
		w[i], c[i] = m.wall, m.cpu
	}
	sort.Slice(w, func(i, j int) bool { return w[i] < w[j] })
	sort.Slice(c, func(i, j int) bool { return c[i] < c[j] })
	return measure{wall: w[len(w)/2], cpu: c[len(c)/2]}
}

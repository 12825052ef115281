// Command demo runs the seed workflow end to end on embedded defaults, with the real
// programs as separate processes: build → ONNX Runtime → axon-registry (filesystem) and
// mlosd on loopback → axon install of the example model that ships with the repo →
// axon push → axon register (by digest) → inference through the seed API and KServe v2.
// It prints what each step did and how long it took, and stops everything on exit
// unless --keep is given.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

func main() {
	keep := flag.Bool("keep", false, "leave axon-registry and mlosd running after the demo")
	home := flag.String("home", "", "AXON_HOME for the demo (default: a new temporary folder)")
	regAddr := flag.String("registry-addr", "127.0.0.1:5000", "address for axon-registry (a free port is used if taken)")
	mlosAddr := flag.String("mlosd-addr", "127.0.0.1:8080", "address for mlosd (a free port is used if taken)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	d := &demo{keep: *keep}
	err := d.run(ctx, *home, *regAddr, *mlosAddr)
	d.shutdown()
	if err == nil && d.cleanup != "" {
		os.RemoveAll(d.cleanup)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo failed:", err)
		os.Exit(1)
	}
}

type demo struct {
	keep  bool
	bin   string
	env   []string
	procs []*exec.Cmd
	start time.Time
	// cleanup is the temporary AXON_HOME removed after a successful run
	cleanup string
}

func (d *demo) step(name string, fn func() (string, error)) error {
	t := time.Now()
	fmt.Printf("==> %s\n", name)
	out, err := fn()
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if out = strings.TrimSpace(out); out != "" {
		for _, l := range strings.Split(out, "\n") {
			fmt.Println("    " + l)
		}
	}
	fmt.Printf("    (%s)\n", time.Since(t).Round(time.Millisecond))
	return nil
}

func (d *demo) run(ctx context.Context, home, regAddr, mlosAddr string) error {
	d.start = time.Now()
	root, err := repoRoot()
	if err != nil {
		return err
	}
	if home == "" {
		if home, err = os.MkdirTemp("", "axon-demo-"); err != nil {
			return err
		}
		if !d.keep {
			d.cleanup = home
		}
	}
	d.bin = filepath.Join(home, "bin")
	regAddr, mlosAddr = freeIfTaken(regAddr), freeIfTaken(mlosAddr)
	var ortLib string

	if err := d.step("build axon, axon-registry and mlosd", func() (string, error) {
		out, err := d.cmd(ctx, root, "go", "build", "-o", d.bin+"/", "./cmd/...")
		return out + "binaries in " + d.bin, err
	}); err != nil {
		return err
	}
	if err := d.step("fetch ONNX Runtime 1.24.1 (cached)", func() (string, error) {
		out, err := exec.CommandContext(ctx, filepath.Join(root, "scripts", "install-ort.sh")).Output()
		ortLib = strings.TrimSpace(string(out))
		return ortLib, err
	}); err != nil {
		return err
	}
	d.env = append(os.Environ(), "AXON_HOME="+home, "ONNXRUNTIME_LIB="+ortLib,
		"AXON_REGISTRY="+regAddr, "MLOS_URL=http://"+mlosAddr)

	if err := d.step("start axon-registry (filesystem storage) on "+regAddr, func() (string, error) {
		return "", d.serve(ctx, "http://"+regAddr+"/v2/", filepath.Join(d.bin, "axon-registry"),
			"--addr", regAddr, "--root", filepath.Join(home, "registry"))
	}); err != nil {
		return err
	}
	if err := d.step("start mlosd on "+mlosAddr, func() (string, error) {
		return "", d.serve(ctx, "http://"+mlosAddr+"/healthz", filepath.Join(d.bin, "mlosd"),
			"--addr", mlosAddr, "--data", filepath.Join(home, "mlosd"))
	}); err != nil {
		return err
	}
	example := filepath.Join(root, "examples", "tiny-sentiment")
	if err := d.step("axon install "+example+" --name examples/tiny-sentiment", func() (string, error) {
		return d.axon(ctx, "install", example, "--name", "examples/tiny-sentiment")
	}); err != nil {
		return err
	}
	const ref = "examples/tiny-sentiment@latest"
	target := regAddr + "/examples/tiny-sentiment:latest"
	if err := d.step("axon push "+ref+" "+target, func() (string, error) {
		return d.axon(ctx, "push", ref, target)
	}); err != nil {
		return err
	}
	if err := d.step("axon register "+ref+" (mlosd pulls "+target+" by digest)", func() (string, error) {
		return d.axon(ctx, "register", ref)
	}); err != nil {
		return err
	}
	url := "http://" + mlosAddr + "/models/examples/tiny-sentiment/inference"
	for _, body := range []string{`{"input":"Hello, MLOS! What a great day."}`, `{"input":"The service was slow and the food was awful."}`} {
		if err := d.step("curl -X POST "+url+" -d '"+body+"'", func() (string, error) {
			return post(ctx, url, body)
		}); err != nil {
			return err
		}
	}
	v2 := "http://" + mlosAddr + "/v2/models/examples/tiny-sentiment"
	if err := d.step("KServe v2: GET "+v2, func() (string, error) {
		return get(ctx, v2)
	}); err != nil {
		return err
	}
	if err := d.generate(ctx, root, regAddr, mlosAddr); err != nil {
		return err
	}
	if err := d.native(ctx, home, regAddr, mlosAddr); err != nil {
		return err
	}
	if err := d.modelPack(ctx, ref, regAddr); err != nil {
		return err
	}
	fmt.Printf("==> done in %s\n", time.Since(d.start).Round(time.Millisecond))
	if d.keep {
		fmt.Printf("    axon-registry: http://%s   mlosd: http://%s   AXON_HOME=%s\n", regAddr, mlosAddr, home)
		fmt.Printf("    they keep running; stop them with: kill %d %d\n", d.procs[0].Process.Pid, d.procs[1].Process.Pid)
	}
	return nil
}

func (d *demo) cmd(ctx context.Context, dir, name string, args ...string) (string, error) {
	c := exec.CommandContext(ctx, name, args...)
	c.Dir, c.Env = dir, d.env
	out, err := c.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

func (d *demo) axon(ctx context.Context, args ...string) (string, error) {
	return d.cmd(ctx, "", filepath.Join(d.bin, "axon"), args...)
}

// serve starts a server and waits until url answers.
func (d *demo) serve(ctx context.Context, url, name string, args ...string) error {
	c := exec.Command(name, args...)
	c.Env = d.env
	logf, err := os.Create(filepath.Join(filepath.Dir(d.bin), filepath.Base(name)+".log"))
	if err != nil {
		return err
	}
	c.Stdout, c.Stderr = logf, logf
	c.SysProcAttr = childAttr(d.keep)
	if err := c.Start(); err != nil {
		return err
	}
	d.procs = append(d.procs, c)
	exited := make(chan error, 1)
	go func() { exited <- c.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			log, _ := os.ReadFile(logf.Name())
			return fmt.Errorf("%s exited: %v\n%s", filepath.Base(name), err, log)
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New(filepath.Base(name) + " did not start within 60s; log: " + logf.Name())
}

func (d *demo) shutdown() {
	if d.keep {
		return
	}
	for _, p := range d.procs {
		p.Process.Signal(syscall.SIGTERM)
	}
	for _, p := range d.procs {
		done := make(chan struct{})
		go func() { p.Process.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			p.Process.Kill()
		}
	}
}

func post(ctx context.Context, url, body string) (string, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return do(req)
}

func get(ctx context.Context, url string) (string, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	return do(req)
}

func do(req *http.Request) (string, error) {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: %s", resp.Status, b)
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, b, "", "  ") == nil {
		return pretty.String(), nil
	}
	return string(b), nil
}

func freeIfTaken(addr string) string {
	l, err := net.Listen("tcp", addr)
	if err == nil {
		l.Close()
		return addr
	}
	l, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return addr
	}
	defer l.Close()
	return l.Addr().String()
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", errors.New("run the demo inside the repository (go tool task demo)")
		}
	}
}

package converter

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// runner runs the converter script somewhere.
type runner interface {
	name() string
	// run executes convert.py with spec.json in work, reading the model from inDir
	// (and torchHome when set); all three are host paths.
	run(ctx context.Context, j *job) error
}

// job is one run of the script.
type job struct {
	inDir, work, torchHome string
	// spec is called with the paths as the script will see them.
	spec     func(in, work, torchHome string) ([]byte, error)
	progress *tailWriter
}

// Python modules each kind needs.
func modulesFor(kind string) []string {
	switch kind {
	case KindTransformers:
		return []string{"numpy", "torch", "transformers"}
	case KindSavedModel:
		return []string{"numpy", "tensorflow", "tf2onnx"}
	}
	return []string{"numpy", "torch"}
}

func kindLabel(kind string) string {
	switch kind {
	case KindTorchScript:
		return "TorchScript"
	case KindHubconf:
		return "PyTorch Hub"
	case KindTransformers:
		return "Hugging Face transformers"
	case KindSavedModel:
		return "TensorFlow SavedModel"
	}
	return kind
}

// installHint says how to get the frameworks a kind needs.
func installHint(kind string) string {
	switch kind {
	case KindTransformers:
		return "pip install torch transformers optimum (Debian: apt install python3-torch, then pip install transformers optimum)"
	case KindSavedModel:
		return "pip install tensorflow tf2onnx"
	}
	return "apt install python3-torch (Debian/Ubuntu) or pip install torch"
}

// PythonCandidates lists the interpreters the local backend tries, in order.
func PythonCandidates() []string {
	var c []string
	if p := os.Getenv("AXON_PYTHON"); p != "" {
		c = append(c, p)
	}
	if p, err := exec.LookPath("python3"); err == nil {
		c = append(c, p)
	}
	return append(c, "/usr/bin/python3", "/usr/local/bin/python3")
}

// FindPython returns the first candidate python3 that imports every module, or "".
// Debian's python3-torch imports only in the system python, which need not be
// the python3 first on PATH (pyenv, venvs), hence several candidates.
func FindPython(ctx context.Context, modules ...string) string {
	key := strings.Join(PythonCandidates(), "\x00") + "|" + strings.Join(modules, ",")
	pyCache.Lock()
	defer pyCache.Unlock()
	if p, ok := pyCache.m[key]; ok {
		return p
	}
	p := findPython(ctx, modules)
	if ctx.Err() == nil {
		pyCache.m[key] = p
	}
	return p
}

// pyCache remembers FindPython's answers: importing torch takes seconds.
var pyCache = struct {
	sync.Mutex
	m map[string]string
}{m: map[string]string{}}

func findPython(ctx context.Context, modules []string) string {
	script := ""
	for _, m := range modules {
		script += "import " + m + "\n"
	}
	seen := map[string]bool{}
	for _, c := range PythonCandidates() {
		if c == "" || seen[c] {
			continue
		}
		seen[c] = true
		cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		err := exec.CommandContext(cctx, c, "-c", script).Run()
		cancel()
		if err == nil {
			return c
		}
	}
	return ""
}

// DockerAvailable reports whether a Docker engine answers `docker info`.
func DockerAvailable(ctx context.Context, docker string) error {
	if docker == "" {
		docker = "docker"
	}
	if _, err := exec.LookPath(docker); err != nil {
		return fmt.Errorf("the docker CLI is not installed")
	}
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	out, err := exec.CommandContext(cctx, docker, "info", "--format", "{{.ServerVersion}}").CombinedOutput()
	if err != nil {
		return fmt.Errorf("no Docker engine answers: %s", lastLine(string(out), err))
	}
	return nil
}

func dockerHasImage(ctx context.Context, docker, image string) bool {
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	return exec.CommandContext(cctx, docker, "image", "inspect", image).Run() == nil
}

// selectRunner applies the backend choice: docker when an engine answers (and, in
// auto mode, the image is there or no local python can do the job), else local.
func selectRunner(ctx context.Context, kind string, o Options) (runner, error) {
	mods := modulesFor(kind)
	buildHint := "docker build -t " + o.Image + " deploy/converter"
	switch o.Backend {
	case BackendDocker:
		if err := DockerAvailable(ctx, o.Docker); err != nil {
			return nil, fmt.Errorf("convert: %w: --converter docker: %v; start Docker, or use --converter local with %s", ErrNoBackend, err, installHint(kind))
		}
		return &dockerRunner{docker: o.Docker, image: o.Image, timeout: o.Timeout}, nil
	case BackendLocal:
		py := o.Python
		if py == "" {
			py = FindPython(ctx, mods...)
		}
		if py == "" {
			return nil, fmt.Errorf("convert: %w: --converter local needs a python3 that imports %s (tried %s): %s; or use --converter docker (%s)",
				ErrFrameworkMissing, strings.Join(mods[1:], " and "), strings.Join(uniq(PythonCandidates()), ", "), installHint(kind), buildHint)
		}
		return &localRunner{python: py}, nil
	case BackendAuto:
		dockerErr := DockerAvailable(ctx, o.Docker)
		if dockerErr == nil && dockerHasImage(ctx, o.Docker, o.Image) {
			return &dockerRunner{docker: o.Docker, image: o.Image, timeout: o.Timeout}, nil
		}
		py := o.Python
		if py == "" {
			py = FindPython(ctx, mods...)
		}
		if py != "" {
			return &localRunner{python: py}, nil
		}
		if dockerErr == nil {
			// The engine answers but the image is not built: docker run will try to pull it.
			return &dockerRunner{docker: o.Docker, image: o.Image, timeout: o.Timeout}, nil
		}
		return nil, fmt.Errorf("convert: %w: converting a %s model needs either Docker (%v; then %s and use --converter docker) or a local python3 that imports %s (%s; --converter local)",
			ErrNoBackend, kindLabel(kind), dockerErr, buildHint, strings.Join(mods[1:], " and "), installHint(kind))
	}
	return nil, fmt.Errorf("convert: unknown converter backend %q (auto, native, local or docker)", o.Backend)
}

func uniq(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if x != "" && !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// localRunner runs the script with a python3 on this machine.
type localRunner struct{ python string }

func (l *localRunner) name() string { return BackendLocal }

func (l *localRunner) run(ctx context.Context, j *job) error {
	spec, err := j.spec(j.inDir, j.work, j.torchHome)
	if err != nil {
		return err
	}
	if err := os.WriteFile(j.work+"/spec.json", spec, 0o644); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, l.python, j.work+"/convert.py", "--spec", j.work+"/spec.json")
	cmd.Dir = j.work
	cmd.Env = append(os.Environ(), "PYTHONUNBUFFERED=1", "PYTHONDONTWRITEBYTECODE=1", "HF_HUB_OFFLINE=1", "TRANSFORMERS_OFFLINE=1")
	cmd.Stdout = j.progress
	cmd.Stderr = j.progress
	// The script may start helpers (tf2onnx runs as a module); stop the whole group.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	return cmd.Run()
}

// dockerRunner runs the script in the converter image, without network.
type dockerRunner struct {
	docker, image string
	timeout       time.Duration
}

func (d *dockerRunner) name() string { return BackendDocker }

func (d *dockerRunner) run(ctx context.Context, j *job) error {
	th := ""
	if j.torchHome != "" {
		th = "/torch_home"
	}
	spec, err := j.spec("/in", "/work", th)
	if err != nil {
		return err
	}
	if err := os.WriteFile(j.work+"/spec.json", spec, 0o644); err != nil {
		return err
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	name := "axon-convert-" + hex.EncodeToString(rnd[:])
	cmd := exec.CommandContext(ctx, d.docker, d.args(j, name)...)
	cmd.Stdout = j.progress
	cmd.Stderr = j.progress
	// Killing the CLI leaves the container running; remove it too.
	cmd.Cancel = func() error {
		rm := exec.Command(d.docker, "rm", "-f", name)
		_ = rm.Run()
		return cmd.Process.Kill()
	}
	cmd.WaitDelay = 30 * time.Second
	err = cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 125 {
		return fmt.Errorf("docker could not start the converter image %s (build it: docker build -t %s deploy/converter): %s",
			d.image, d.image, j.progress.lastLine())
	}
	return err
}

// args is the docker run command line: no network (the checkpoints were fetched
// already), the caller's uid (outputs stay theirs), the model mounted read-only,
// and the script from the binary, not the image.
func (d *dockerRunner) args(j *job, name string) []string {
	args := []string{"run", "--rm", "--name", name, "--network", "none",
		"--user", fmt.Sprintf("%d:%d", os.Getuid(), os.Getgid()),
		"-e", "HOME=/tmp", "-e", "PYTHONUNBUFFERED=1",
		"-v", j.inDir + ":/in:ro", "-v", j.work + ":/work"}
	if j.torchHome != "" {
		args = append(args, "-v", j.torchHome+":/torch_home:ro")
	}
	return append(args, "--entrypoint", "python3", d.image, "/work/convert.py", "--spec", "/work/spec.json")
}

// tailWriter forwards the script's output and keeps its last lines for errors.
type tailWriter struct {
	fwd interface{ Write([]byte) (int, error) }
	buf bytes.Buffer
}

const tailKeep = 16 << 10

func (t *tailWriter) Write(p []byte) (int, error) {
	if t.fwd != nil {
		_, _ = t.fwd.Write(p)
	}
	t.buf.Write(p)
	if t.buf.Len() > 2*tailKeep {
		b := t.buf.Bytes()[t.buf.Len()-tailKeep:]
		t.buf.Reset()
		t.buf.Write(b)
	}
	return len(p), nil
}

// message is the script's "axon-convert: error:" line, else its last lines.
func (t *tailWriter) message() string {
	lines := strings.Split(strings.TrimSpace(t.buf.String()), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if _, msg, ok := strings.Cut(lines[i], "axon-convert: error: "); ok {
			return strings.TrimSpace(msg)
		}
	}
	if len(lines) > 8 {
		lines = lines[len(lines)-8:]
	}
	return strings.Join(lines, " | ")
}

func (t *tailWriter) lastLine() string {
	return lastLine(t.buf.String(), nil)
}

func lastLine(s string, err error) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	if s == "" && err != nil {
		return err.Error()
	}
	return s
}

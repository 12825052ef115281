// Package deploy holds the Dockerfiles, the compose file and the Kubernetes manifests.
// No Docker engine or cluster runs here, so this test checks them as far as a parser
// and the real binaries can: every file parses, every flag a container passes is one
// the program accepts, every probe path answers on the real server, selectors match,
// and every file a Dockerfile copies or runs exists.
package deploy

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mlos-foundation/axon/internal/testutil"
	"github.com/mlos-foundation/axon/mlos"
	"gopkg.in/yaml.v3"
)

var flagRe = regexp.MustCompile(`^--([a-z][a-z0-9-]*)`)

// build builds a command of this module once per test process.
func build(t *testing.T, pkg string) string {
	t.Helper()
	return testutil.Build(t, "github.com/mlos-foundation/axon/"+pkg)
}

func TestMain(m *testing.M) { testutil.Main(m) }

// helpText returns a program's --help output.
func helpText(bin string) string {
	out, _ := exec.Command(bin, "--help").CombinedOutput()
	return string(out)
}

// checkProbes starts the real program and checks that every probe path answers 200.
func checkProbes(t *testing.T, bin string, paths []string) {
	t.Helper()
	addr := testutil.FreeAddr(t)
	args := []string{"--addr", addr}
	env := []string{}
	if filepath.Base(bin) == "mlosd" {
		args = append(args, "--data", t.TempDir())
		env = append(env, "ONNXRUNTIME_LIB="+testutil.ORTLibrary(t))
	} else {
		args = append(args, "--root", t.TempDir())
	}
	testutil.Start(t, env, bin, args...)
	testutil.WaitHTTP(t, "http://"+addr+"/", 30*time.Second)
	// the images' HEALTHCHECK: the program asks itself
	hc := []string{"healthcheck", "--url", "http://" + addr + "/healthz"}
	if filepath.Base(bin) == "mlosd" {
		hc = []string{"--healthcheck", "--addr", addr}
	}
	if out, err := exec.Command(bin, hc...).CombinedOutput(); err != nil {
		t.Errorf("%s %v: %v\n%s", filepath.Base(bin), hc, err, out)
	}
	if out, err := exec.Command(bin, append(hc[:len(hc)-1:len(hc)-1], testutil.FreeAddr(t))...).CombinedOutput(); err == nil && filepath.Base(bin) == "mlosd" {
		t.Errorf("mlosd --healthcheck against nothing succeeded: %s", out)
	}
	for _, p := range paths {
		resp, err := http.Get("http://" + addr + p)
		if err != nil {
			t.Fatalf("probe %s: %v", p, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: probe %s answers %s", filepath.Base(bin), p, resp.Status)
		}
	}
}

func checkFlags(t *testing.T, where string, args []string, help string) {
	t.Helper()
	for _, a := range args {
		m := flagRe.FindStringSubmatch(a)
		if m == nil {
			continue
		}
		if !regexp.MustCompile(`(^|[\s,])--?` + regexp.QuoteMeta(m[1]) + `\b`).MatchString(help) {
			t.Errorf("%s passes --%s, which the program does not accept", where, m[1])
		}
	}
}

func TestCompose(t *testing.T) {
	var c struct {
		Services map[string]struct {
			Image       string
			Build       *struct{ Context, Dockerfile string }
			Command     []string
			DependsOn   yaml.Node `yaml:"depends_on"`
			Volumes     []string
			Healthcheck *struct {
				Test []string
			}
		}
		Volumes map[string]any
	}
	b, err := os.ReadFile("docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	helps := map[string]string{"registry": helpText(build(t, "cmd/axon-registry")), "mlosd": helpText(build(t, "cmd/mlosd"))}
	for name, s := range c.Services {
		if s.Image == "" && s.Build == nil {
			t.Errorf("service %s has neither image nor build", name)
		}
		if s.Build != nil {
			df := filepath.Join(s.Build.Context, s.Build.Dockerfile)
			if _, err := os.Stat(df); err != nil {
				t.Errorf("service %s: %v", name, err)
			}
		}
		if h, ok := helps[name]; ok {
			checkFlags(t, "compose service "+name, s.Command, h)
		}
		deps := []string{}
		switch s.DependsOn.Kind {
		case yaml.SequenceNode:
			// a bare list starts a service before what it needs is up
			t.Errorf("service %s: depends_on as a list does not wait; use {SERVICE: {condition: service_healthy}}", name)
		case yaml.MappingNode:
			var conds map[string]struct{ Condition string }
			s.DependsOn.Decode(&conds)
			for d, c := range conds {
				deps = append(deps, d)
				if c.Condition != "service_healthy" && c.Condition != "service_completed_successfully" {
					t.Errorf("service %s: depends_on %s with condition %q, want service_healthy (or service_completed_successfully for a job)", name, d, c.Condition)
				}
			}
		}
		if s.Build != nil || name == "minio" {
			if s.Healthcheck == nil || len(s.Healthcheck.Test) < 2 {
				t.Errorf("service %s has no healthcheck", name)
			} else if exe := s.Healthcheck.Test[1]; exe == "curl" || exe == "wget" {
				t.Errorf("service %s: healthcheck runs %s, which the image does not ship", name, exe)
			}
		}
		if s.Healthcheck != nil && len(s.Healthcheck.Test) > 1 && s.Build != nil {
			// the healthcheck is the program's own: its flags must exist
			if h, ok := helps[name]; ok {
				checkFlags(t, "compose healthcheck of "+name, s.Healthcheck.Test[2:], h)
			}
		}
		for _, d := range deps {
			if _, ok := c.Services[d]; !ok {
				t.Errorf("service %s depends on unknown service %s", name, d)
			}
		}
		for _, v := range s.Volumes {
			vol := strings.SplitN(v, ":", 2)[0]
			if _, ok := c.Volumes[vol]; !ok && !strings.HasPrefix(vol, ".") && !strings.HasPrefix(vol, "/") {
				t.Errorf("service %s mounts undeclared volume %s", name, vol)
			}
		}
	}
	for _, want := range []string{"registry", "mlosd", "minio"} {
		if _, ok := c.Services[want]; !ok {
			t.Errorf("compose file lacks service %s", want)
		}
	}
	// mlosd reaches the registry as the compose service, over plain HTTP to that name.
	plain := ""
	for _, a := range c.Services["mlosd"].Command {
		if v, ok := strings.CutPrefix(a, "--plain-http="); ok {
			plain = v
		}
	}
	if !strings.Contains(","+plain+",", ",registry:5000,") {
		t.Errorf("mlosd --plain-http=%q does not name the registry service registry:5000", plain)
	}
	for _, v := range c.Services["mlosd"].Volumes {
		if src, _, ok := strings.Cut(v, ":"); ok && strings.HasPrefix(src, ".") {
			if _, err := mlos.ReadModelsFile(src); err != nil {
				t.Errorf("compose mounts %s: %v", src, err)
			}
		}
	}
	if b, _ := os.ReadFile("docker-compose.yml"); strings.Contains(string(b), "register localhost:5000") {
		t.Errorf("docker-compose.yml tells users to register localhost:5000, which inside the mlosd container is mlosd")
	}
}

type k8sObject struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string
	Metadata   struct {
		Name   string
		Labels map[string]string
	}
	Spec struct {
		Selector yaml.Node
		Template struct {
			Metadata struct{ Labels map[string]string }
			Spec     struct{ Containers []k8sContainer }
		}
	}
}

type k8sContainer struct {
	Name           string
	Image          string
	Args           []string
	ReadinessProbe *struct {
		HTTPGet *struct{ Path string } `yaml:"httpGet"`
	} `yaml:"readinessProbe"`
	LivenessProbe *struct {
		HTTPGet *struct{ Path string } `yaml:"httpGet"`
	} `yaml:"livenessProbe"`
	Resources struct {
		Requests map[string]string
	}
}

func TestKubernetesManifests(t *testing.T) {
	files, _ := filepath.Glob("k8s/*.yaml")
	if len(files) == 0 {
		t.Fatal("no manifests under k8s/")
	}
	bins := map[string]string{"axon-registry": build(t, "cmd/axon-registry"), "mlosd": build(t, "cmd/mlosd")}
	probes := map[string][]string{}
	workloads := map[string]map[string]string{} // pod labels by workload
	var services []k8sObject
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for {
			var o k8sObject
			err := dec.Decode(&o)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if o.APIVersion == "" || o.Kind == "" || o.Metadata.Name == "" {
				t.Errorf("%s: object without apiVersion, kind or metadata.name", f)
			}
			switch o.Kind {
			case "Deployment", "StatefulSet":
				workloads[o.Metadata.Name] = o.Spec.Template.Metadata.Labels
				var sel struct {
					MatchLabels map[string]string `yaml:"matchLabels"`
				}
				o.Spec.Selector.Decode(&sel)
				for k, v := range sel.MatchLabels {
					if o.Spec.Template.Metadata.Labels[k] != v {
						t.Errorf("%s %s: selector %s=%s does not match its pod labels", o.Kind, o.Metadata.Name, k, v)
					}
				}
				for _, c := range o.Spec.Template.Spec.Containers {
					where := o.Metadata.Name + "/" + c.Name
					if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || c.LivenessProbe == nil || c.LivenessProbe.HTTPGet == nil {
						t.Errorf("%s: needs HTTP readiness and liveness probes", where)
					}
					if c.Resources.Requests["cpu"] == "" || c.Resources.Requests["memory"] == "" {
						t.Errorf("%s: needs cpu and memory requests", where)
					}
					if bin, ok := bins[o.Metadata.Name]; ok {
						checkFlags(t, where, c.Args, helpText(bin))
						if c.ReadinessProbe != nil && c.ReadinessProbe.HTTPGet != nil {
							probes[o.Metadata.Name] = append(probes[o.Metadata.Name], c.ReadinessProbe.HTTPGet.Path)
						}
						if c.LivenessProbe != nil && c.LivenessProbe.HTTPGet != nil {
							probes[o.Metadata.Name] = append(probes[o.Metadata.Name], c.LivenessProbe.HTTPGet.Path)
						}
					} else {
						t.Errorf("%s: no program known for workload %s", where, o.Metadata.Name)
					}
				}
			case "Service":
				services = append(services, o)
			}
		}
	}
	for name, paths := range probes {
		checkProbes(t, bins[name], paths)
	}
	for _, s := range services {
		var sel map[string]string
		s.Spec.Selector.Decode(&sel)
		matched := false
		for _, labels := range workloads {
			ok := len(sel) > 0
			for k, v := range sel {
				ok = ok && labels[k] == v
			}
			matched = matched || ok
		}
		if !matched {
			t.Errorf("Service %s selects no workload", s.Metadata.Name)
		}
	}
}

// TestDockerfiles checks that every stage a COPY --from names exists, every path a
// COPY takes from the build context exists, and every script and package a RUN uses exists.
func TestDockerfiles(t *testing.T) {
	files, _ := filepath.Glob("*.Dockerfile")
	more, _ := filepath.Glob("*/Dockerfile")
	files = append(files, more...)
	nested, _ := filepath.Glob("*/*.Dockerfile") // build from the repository root too
	files = append(files, nested...)
	if len(files) < 3 {
		t.Fatalf("want Dockerfiles for axon-registry, mlosd and the converter, found %v", files)
	}
	pkgRe := regexp.MustCompile(`\./cmd/[a-z-]+`)
	scriptRe := regexp.MustCompile(`scripts/[A-Za-z0-9_./-]+`)
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		stages := map[string]bool{}
		ctxDir := ".."
		if filepath.Base(f) == "Dockerfile" && filepath.Dir(f) != "." {
			ctxDir = filepath.Dir(f) // a self-contained image (the converter) builds from its own folder
		}
		sc := bufio.NewScanner(fh)
		from := 0
		user, health := "", false
		volumes, owned := []string{}, map[string]bool{} // in the last stage
		pending := ""
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if strings.HasPrefix(line, "#") {
				continue
			}
			// an instruction continued with a backslash is one instruction
			if cont, ok := strings.CutSuffix(line, "\\"); ok {
				pending += cont + " "
				continue
			}
			line, pending = strings.TrimSpace(pending+line), ""
			fields := strings.Fields(line)
			if len(fields) == 0 || strings.HasPrefix(line, "#") {
				continue
			}
			switch strings.ToUpper(fields[0]) {
			case "USER":
				user = fields[1]
			case "VOLUME":
				for _, v := range fields[1:] {
					volumes = append(volumes, strings.Trim(v, `[]",`))
				}
			case "HEALTHCHECK":
				health = true
			case "FROM":
				from++
				volumes, owned = nil, map[string]bool{}
				if len(fields) >= 4 && strings.EqualFold(fields[2], "AS") {
					stages[fields[3]] = true
				}
			case "COPY":
				if strings.Contains(line, "--chown=") {
					owned[fields[len(fields)-1]] = true
				}
				args := fields[1:]
				fromStage := ""
				for len(args) > 0 && strings.HasPrefix(args[0], "--") {
					if v, ok := strings.CutPrefix(args[0], "--from="); ok {
						fromStage = v
					}
					args = args[1:]
				}
				if fromStage != "" {
					if !stages[fromStage] {
						t.Errorf("%s: COPY --from=%s names no earlier stage", f, fromStage)
					}
					continue
				}
				for _, src := range args[:len(args)-1] {
					if _, err := os.Stat(filepath.Join(ctxDir, src)); err != nil {
						t.Errorf("%s: COPY source %s: %v", f, src, err)
					}
				}
			case "RUN":
				if i := strings.Index(line, "chown"); i >= 0 {
					for _, f := range strings.Fields(line[i:]) {
						owned[strings.TrimRight(f, ";&")] = true
					}
				}
				for _, p := range pkgRe.FindAllString(line, -1) {
					if _, err := os.Stat(filepath.Join("..", p)); err != nil {
						t.Errorf("%s: builds %s, which does not exist", f, p)
					}
				}
				for _, s := range scriptRe.FindAllString(line, -1) {
					if fi, err := os.Stat(filepath.Join("..", s)); err != nil || fi.Mode()&0o111 == 0 {
						t.Errorf("%s: runs %s, which is missing or not executable", f, s)
					}
				}
			}
		}
		fh.Close()
		if from == 0 {
			t.Errorf("%s: no FROM", f)
		}
		for _, v := range volumes {
			// a named volume starts as a copy of the image's directory: owned by
			// root, the non-root program could not write its storage
			if !owned[v] {
				t.Errorf("%s: VOLUME %s is not created owned by the image's user (COPY --chown or chown in RUN)", f, v)
			}
		}
		if ctxDir == ".." {
			// the Go images: built in one stage, run from a small one as a user
			if from < 2 {
				t.Errorf("%s: want a multi-stage build (a Go toolchain stage, a small runtime stage)", f)
			}
			if u := strings.SplitN(user, ":", 2)[0]; u == "" || u == "root" || u == "0" {
				t.Errorf("%s: runs as root (USER %q)", f, user)
			}
		}
		if (strings.HasPrefix(filepath.Base(f), "registry") || strings.HasPrefix(filepath.Base(f), "mlosd")) && !health {
			t.Errorf("%s: no HEALTHCHECK", f)
		}
	}
}

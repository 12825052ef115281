package server

import (
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlos-foundation/axon/internal/testutil"
)

// The OCI distribution-spec conformance suite, run as the real binary against the
// real server, every API and data switch at its 1.1 default plus upload cancel.

type junitCase struct {
	Name    string    `xml:"name,attr"`
	Status  string    `xml:"status,attr"`
	Failure *struct{} `xml:"failure"`
	Error   *struct{} `xml:"error"`
}

type junitSuites struct {
	Suites []struct {
		Tests    int         `xml:"tests,attr"`
		Failures int         `xml:"failures,attr"`
		Errors   int         `xml:"errors,attr"`
		Cases    []junitCase `xml:"testcase"`
	} `xml:"testsuite"`
}

func runConformance(t *testing.T, host string, extraEnv ...string) {
	t.Helper()
	bin := testutil.Tool(t, "conformance")
	dir := t.TempDir()
	results := filepath.Join(dir, "results")
	cmd := exec.Command(bin)
	cmd.Dir = dir // it reads ./oci-conformance.yaml when present: keep it clean
	cmd.Env = append(os.Environ(),
		"OCI_REGISTRY="+host,
		"OCI_TLS=disabled",
		"OCI_VERSION=1.1",
		"OCI_REPO1=conformance/repo1",
		"OCI_REPO2=conformance/repo2",
		"OCI_API_BLOBS_UPLOAD_CANCEL=true",
		"OCI_RESULTS_DIR="+results,
		"OCI_LOG=warn",
		// legacy names, for suite builds that still read them
		"OCI_ROOT_URL=http://"+host,
		"OCI_NAMESPACE=conformance/repo1",
		"OCI_CROSSMOUNT_NAMESPACE=conformance/repo2",
	)
	cmd.Env = append(cmd.Env, extraEnv...)
	start := time.Now()
	out, runErr := cmd.CombinedOutput()
	b, err := os.ReadFile(filepath.Join(results, "junit.xml"))
	if err != nil {
		t.Fatalf("conformance wrote no junit report (%v): %v\n%s", runErr, err, out)
	}
	var js junitSuites
	if err := xml.Unmarshal(b, &js); err != nil {
		t.Fatalf("parse junit report: %v", err)
	}
	total, pass := 0, 0
	var failed []string
	for _, s := range js.Suites {
		for _, c := range s.Cases {
			total++
			switch {
			case c.Failure != nil || c.Error != nil || c.Status == "failure" || c.Status == "error":
				failed = append(failed, c.Name)
			case c.Status == "passed":
				pass++
			}
		}
	}
	var other []string
	for _, s := range js.Suites {
		for _, c := range s.Cases {
			if c.Status != "passed" && c.Failure == nil && c.Error == nil {
				other = append(other, c.Name+" ("+c.Status+")")
			}
		}
	}
	t.Logf("conformance: %d test cases, %d passed, %d failed, %d other in %s; suite summary: %s",
		total, pass, len(failed), len(other), time.Since(start).Round(time.Millisecond), summary(out))
	if len(other) > 0 {
		t.Logf("not passed, not failed: %s", strings.Join(other, ", "))
	}
	if total == 0 {
		t.Fatalf("conformance ran no checks:\n%s", out)
	}
	if len(failed) > 0 {
		t.Fatalf("%d of %d conformance checks failed:\n  %s\n\nsuite output:\n%s", len(failed), total, strings.Join(failed, "\n  "), tail(out, 8000))
	}
	if runErr != nil {
		t.Fatalf("conformance exited with %v although no check failed:\n%s", runErr, tail(out, 4000))
	}
}

// summary picks the suite's own totals ("Pass....: 862") from its report.
func summary(out []byte) string {
	var parts []string
	for _, l := range strings.Split(string(out), "\n") {
		l = strings.TrimSpace(l)
		for _, k := range []string{"Pass.", "FAIL.", "Error.", "Skip.", "Disabled.", "Total."} {
			if strings.HasPrefix(l, k) {
				name := strings.TrimRight(l[:strings.Index(l, ".")], ".")
				parts = append(parts, name+"="+strings.TrimSpace(l[strings.LastIndex(l, ":")+1:]))
			}
		}
	}
	return strings.Join(parts, " ")
}

func tail(b []byte, n int) string {
	if len(b) > n {
		return "..." + string(b[len(b)-n:])
	}
	return string(b)
}

func TestConformanceFilesystem(t *testing.T) {
	ts := startServer(t, fsDriver(t), Config{})
	runConformance(t, ts.Host)
}

func TestConformanceS3(t *testing.T) {
	ts := startServer(t, s3Driver(t), Config{})
	runConformance(t, ts.Host)
}

// With --htpasswd the suite goes through our bearer-token flow for every request.
func TestConformanceWithAuth(t *testing.T) {
	ts := startServer(t, fsDriver(t), Config{Htpasswd: htpasswd(t, "conf", "s3cret-pass")})
	runConformance(t, ts.Host, "OCI_USERNAME=conf", "OCI_PASSWORD=s3cret-pass")
}

// Beyond the defaults: tag parameters on push-by-digest (OCI-Tag) and
// Docker-Content-Digest required on every blob and manifest response.
func TestConformanceOptionalFeatures(t *testing.T) {
	ts := startServer(t, fsDriver(t), Config{})
	runConformance(t, ts.Host, "OCI_API_MANIFESTS_TAG_PARAM=true", "OCI_API_BLOBS_DIGEST_HEADER=true", "OCI_API_MANIFESTS_DIGEST_HEADER=true")
}

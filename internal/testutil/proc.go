package testutil

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// FreeAddr returns a free loopback host:port for a server a test starts.
// It is picked below Linux's ephemeral range (32768-60999): a port the kernel
// hands out for ":0" is also what it hands every outgoing connection, so in a
// busy test run another test's client could take it between this check and
// the server's bind ("address already in use").
func FreeAddr(t testing.TB) string {
	t.Helper()
	for range 100 {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(20000+rand.IntN(12000)))
		if l, err := net.Listen("tcp", addr); err == nil {
			l.Close()
			return addr
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// Process is a program started for a test; its output is kept for failure reports.
type Process struct {
	Cmd *exec.Cmd
	out SyncBuffer
}

// SyncBuffer is a buffer several goroutines may write to (a process's
// output, progress bars) while a test reads it.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Output is what the process printed so far (stdout and stderr).
func (p *Process) Output() string { return p.out.String() }

// Start runs a program until the test ends; on failure its output is logged.
func Start(t testing.TB, env []string, name string, args ...string) *Process {
	t.Helper()
	p := &Process{Cmd: exec.Command(name, args...)}
	p.Cmd.Env = append(os.Environ(), env...)
	p.Cmd.Stdout = &p.out
	p.Cmd.Stderr = &p.out
	if err := p.Cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() { p.Cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		p.Cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("%s output:\n%s", filepath.Base(name), p.Output())
		}
	})
	return p
}

// WaitHTTP polls url until it answers (any status) or the timeout passes.
func WaitHTTP(t testing.TB, url string, timeout time.Duration) {
	t.Helper()
	waitStatus(t, url, timeout, 0)
}

// WaitOK polls url until it answers 200 (a readiness probe) or the timeout
// passes; a process Start ran has its output logged when the test fails.
// Get fetches url and returns its status and whole body, failing the test
// when the request cannot be made.
func Get(t testing.TB, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, b
}

func WaitOK(t testing.TB, url string, timeout time.Duration) {
	t.Helper()
	waitStatus(t, url, timeout, http.StatusOK)
}

// waitStatus polls url until it answers want (0: any status).
func waitStatus(t testing.TB, url string, timeout time.Duration, want int) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if want == 0 || resp.StatusCode == want {
				return
			}
			err = fmt.Errorf("answered %s, want %d", resp.Status, want)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer within %s: %v", url, timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// S3 is a running versitygw server with one bucket.
type S3 struct {
	Endpoint  string // http://127.0.0.1:PORT
	Host      string // 127.0.0.1:PORT
	AccessKey string
	SecretKey string
	Bucket    string
	Dir       string // the posix directory versitygw serves
}

// URL is the --storage value axon-registry takes for this server.
func (s *S3) URL() string {
	return fmt.Sprintf("s3://%s?endpoint=%s&region=us-east-1", s.Bucket, s.Endpoint)
}

// Env gives the credentials the way programs read them.
func (s *S3) Env() []string {
	return []string{"AWS_ACCESS_KEY_ID=" + s.AccessKey, "AWS_SECRET_ACCESS_KEY=" + s.SecretKey, "AWS_REGION=us-east-1"}
}

// Setenv sets the credentials the way programs read them (Env) for the test.
func (s *S3) Setenv(t testing.TB) {
	for _, kv := range s.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
}

// StartS3 starts a real S3 server (versitygw, posix backend) on a free loopback
// port and creates a bucket in it.
func StartS3(t testing.TB) *S3 {
	t.Helper()
	bin := Tool(t, "versitygw")
	s := &S3{AccessKey: "axontestkey", SecretKey: "axontestsecret0123456789", Bucket: "axon-test", Dir: t.TempDir()}
	s.Host = FreeAddr(t)
	s.Endpoint = "http://" + s.Host
	Start(t, nil, bin, "--quiet", "--access", s.AccessKey, "--secret", s.SecretKey, "--port", s.Host, "posix", s.Dir)
	WaitHTTP(t, s.Endpoint, 30*time.Second)
	cl, err := minio.New(s.Host, &minio.Options{Creds: credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""), Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cl.MakeBucket(ctx, s.Bucket, minio.MakeBucketOptions{Region: "us-east-1"}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	return s
}

// StartDistribution starts CNCF Distribution v3 (filesystem storage) on a free
// loopback port and returns its host:port.
func StartDistribution(t testing.TB) string {
	t.Helper()
	bin := Tool(t, "registry")
	dir := t.TempDir()
	addr := FreeAddr(t)
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
`, filepath.Join(dir, "data"), addr)
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	Start(t, []string{"OTEL_TRACES_EXPORTER=none"}, bin, "serve", cfgPath)
	WaitHTTP(t, "http://"+addr+"/v2/", 30*time.Second)
	return addr
}

// CPUTime is the user+system CPU time process pid has used so far (0 when
// it cannot be read), for benchmarks that report CPU per request.
func CPUTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The fields after the command name (which may hold spaces) start at ") ".
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ is 100 on Linux
}

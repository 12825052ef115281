package server

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mlos-foundation/axon/internal/testutil"
)

func TestMetricsAndHealth(t *testing.T) {
	ts := startServer(t, fsDriver(t), Config{})
	pushBlob(t, ts.URL, "m/repo", []byte("some bytes for metrics"))
	do(t, "GET", ts.URL+"/v2/m/repo/manifests/missing", nil, nil)
	do(t, "GET", ts.URL+"/favicon.ico", nil, nil)

	resp, err := http.Get(ts.URL + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", err, resp)
	}
	resp.Body.Close()
	resp, err = http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	text := string(b)
	for _, want := range []string{
		`axon_registry_http_requests_total{method="POST",route="upload_start",status="201"} 1`,
		`axon_registry_http_requests_total{method="GET",route="manifest",status="404"} 1`,
		`axon_registry_bytes_received_total 22`,
		`axon_registry_http_requests_total{method="GET",route="unknown",status="404"} 1`,
		`axon_registry_upload_duration_seconds_count 1`,
		`axon_registry_storage_errors_total`,
		`axon_registry_http_request_duration_seconds_bucket`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// One access-log line per request, except health probes and metric scrapes,
// which go to debug so they do not drown the log.
func TestAccessLog(t *testing.T) {
	var buf testutil.SyncBuffer
	ts := startServer(t, fsDriver(t), Config{Logger: slog.New(slog.NewJSONHandler(&buf, nil))})
	for _, p := range []string{"/healthz", "/metrics", "/v2/", "/v2/no/such/manifests/x"} {
		do(t, "GET", ts.URL+p, nil, nil)
	}
	// the line is written after the answer went out: wait for the last one
	log := buf.String()
	for end := time.Now().Add(5 * time.Second); !strings.Contains(log, `"status":404`) && time.Now().Before(end); log = buf.String() {
		time.Sleep(10 * time.Millisecond)
	}
	for _, want := range []string{`"path":"/v2/","status":200`, `"path":"/v2/no/such/manifests/x","status":404`} {
		if !strings.Contains(log, want) {
			t.Errorf("access log lacks %s:\n%s", want, log)
		}
	}
	if strings.Contains(log, `"path":"/healthz"`) || strings.Contains(log, `"path":"/metrics"`) {
		t.Errorf("probes logged at info:\n%s", log)
	}
}

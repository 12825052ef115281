package server

import (
	"io"
	"net/http"
	"strings"
	"testing"
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

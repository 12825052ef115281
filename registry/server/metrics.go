package server

import (
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics live in a registry per server, so tests can run several servers.
type metrics struct {
	reg           *prometheus.Registry
	requests      *prometheus.CounterVec
	duration      *prometheus.HistogramVec
	bytesIn       prometheus.Counter
	bytesOut      prometheus.Counter
	uploadSeconds prometheus.Histogram
	storageErrors *prometheus.CounterVec
	gcBlobs       prometheus.Counter
	gcBytes       prometheus.Counter
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "axon_registry_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "axon_registry_http_request_duration_seconds", Help: "HTTP request latency by route and method.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 10),
		}, []string{"route", "method"}),
		bytesIn: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "axon_registry_bytes_received_total", Help: "Request body bytes received.",
		}),
		bytesOut: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "axon_registry_bytes_sent_total", Help: "Blob and manifest bytes sent.",
		}),
		uploadSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "axon_registry_upload_duration_seconds", Help: "Time to receive, verify and commit a blob upload request.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10),
		}),
		storageErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "axon_registry_storage_errors_total", Help: "Requests that failed on a storage error, by driver.",
		}, []string{"driver"}),
		gcBlobs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "axon_registry_gc_blobs_deleted_total", Help: "Blobs deleted by online garbage collection.",
		}),
		gcBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "axon_registry_gc_bytes_freed_total", Help: "Bytes freed by online garbage collection.",
		}),
	}
	m.reg.MustRegister(m.requests, m.duration, m.bytesIn, m.bytesOut, m.uploadSeconds, m.storageErrors, m.gcBlobs, m.gcBytes,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

type countingBody struct {
	io.ReadCloser
	n int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	return n, err
}

// observe records metrics and writes one access-log line per request.
func (s *Server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		began := time.Now()
		req := c.Request()
		body := &countingBody{ReadCloser: req.Body}
		req.Body = body
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		route, _ := c.Get("route").(string)
		if route == "" {
			route = c.Path()
		}
		if route == "" { // no route matched (a stray /favicon.ico): one label for all of them
			route = rNotFound
		}
		status := c.Response().Status
		took := time.Since(began)
		s.metrics.requests.WithLabelValues(route, req.Method, strconv.Itoa(status)).Inc()
		s.metrics.duration.WithLabelValues(route, req.Method).Observe(took.Seconds())
		s.metrics.bytesIn.Add(float64(body.n))
		user, _ := c.Get("user").(string)
		level := slog.LevelInfo
		if p := req.URL.Path; (p == "/healthz" || p == "/metrics") && status < 400 {
			level = slog.LevelDebug // probes and scrapes every few seconds would drown the log
		}
		s.log.Log(req.Context(), level, "request", "method", req.Method, "path", req.URL.Path, "status", status,
			"in", body.n, "out", c.Response().Size, "ms", took.Milliseconds(), "remote", c.RealIP(), "user", user)
		return nil
	}
}

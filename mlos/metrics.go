package mlos

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are per-model counters named after Triton's nv_inference_* family,
// so existing dashboards read them unchanged. Durations are cumulative
// microseconds, as in Triton.
type Metrics struct {
	Registry        *prometheus.Registry
	success         *prometheus.CounterVec
	failure         *prometheus.CounterVec
	count           *prometheus.CounterVec
	execCount       *prometheus.CounterVec
	requestDuration *prometheus.CounterVec
	queueDuration   *prometheus.CounterVec
	computeInput    *prometheus.CounterVec
	computeDuration *prometheus.CounterVec
	computeOutput   *prometheus.CounterVec
	loaded          *prometheus.GaugeVec
	genTokens       *prometheus.CounterVec
	promptTokens    *prometheus.CounterVec
	firstToken      *prometheus.CounterVec
}

// NewMetrics creates the counters in a registry of their own.
func NewMetrics() *Metrics {
	labels := []string{"model", "version"}
	cv := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	}
	m := &Metrics{
		Registry:        prometheus.NewRegistry(),
		success:         cv("nv_inference_request_success", "Number of successful inference requests, all batch sizes"),
		failure:         cv("nv_inference_request_failure", "Number of failed inference requests, all batch sizes"),
		count:           cv("nv_inference_count", "Number of inferences performed (a batch of n counts n)"),
		execCount:       cv("nv_inference_exec_count", "Number of model executions performed (a batch counts once)"),
		requestDuration: cv("nv_inference_request_duration_us", "Cumulative inference request duration in microseconds"),
		queueDuration:   cv("nv_inference_queue_duration_us", "Cumulative inference queuing duration in microseconds"),
		computeInput:    cv("nv_inference_compute_input_duration_us", "Cumulative compute input duration in microseconds (tensor preparation, batch concatenation)"),
		computeDuration: cv("nv_inference_compute_infer_duration_us", "Cumulative compute inference duration in microseconds"),
		computeOutput:   cv("nv_inference_compute_output_duration_us", "Cumulative compute output duration in microseconds"),
		genTokens:       cv("mlosd_generated_tokens_total", "Tokens generated"),
		promptTokens:    cv("mlosd_prompt_tokens_total", "Prompt tokens read by generations"),
		firstToken:      cv("mlosd_time_to_first_token_us", "Cumulative time to the first generated token in microseconds"),
		loaded:          prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "mlosd_model_ready", Help: "1 when the model is loaded and ready"}, labels),
	}
	m.Registry.MustRegister(m.success, m.failure, m.count, m.execCount, m.requestDuration, m.queueDuration, m.computeInput, m.computeDuration, m.computeOutput, m.loaded, m.genTokens, m.promptTokens, m.firstToken)
	return m
}

func us(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }

// Request records one finished request.
func (m *Metrics) Request(model, version string, ok bool, d time.Duration) {
	if m == nil {
		return
	}
	if ok {
		m.success.WithLabelValues(model, version).Inc()
	} else {
		m.failure.WithLabelValues(model, version).Inc()
	}
	m.requestDuration.WithLabelValues(model, version).Add(us(d))
}

func (m *Metrics) queued(model, version string, d time.Duration) {
	if m != nil {
		m.queueDuration.WithLabelValues(model, version).Add(us(d))
	}
}

func (m *Metrics) executed(model, version string, rows int, ph Phases) {
	if m == nil {
		return
	}
	m.execCount.WithLabelValues(model, version).Inc()
	m.count.WithLabelValues(model, version).Add(float64(rows))
	m.computeInput.WithLabelValues(model, version).Add(us(ph.Input))
	m.computeDuration.WithLabelValues(model, version).Add(us(ph.Infer))
	m.computeOutput.WithLabelValues(model, version).Add(us(ph.Output))
}

func (m *Metrics) ready(model, version string, ok bool) {
	if m == nil {
		return
	}
	v := 0.0
	if ok {
		v = 1
	}
	m.loaded.WithLabelValues(model, version).Set(v)
}

func (m *Metrics) forget(model, version string) {
	if m == nil {
		return
	}
	for _, c := range []*prometheus.CounterVec{m.success, m.failure, m.count, m.execCount, m.requestDuration, m.queueDuration, m.computeInput, m.computeDuration, m.computeOutput} {
		c.DeleteLabelValues(model, version)
	}
	m.loaded.DeleteLabelValues(model, version)
}

// generated records a finished generation.
func (m *Metrics) generated(model, version string, prompt, completion int, first time.Duration) {
	if m != nil {
		m.genTokens.WithLabelValues(model, version).Add(float64(completion))
		m.promptTokens.WithLabelValues(model, version).Add(float64(prompt))
		m.firstToken.WithLabelValues(model, version).Add(us(first))
	}
}

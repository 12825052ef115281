package mlos

import dto "github.com/prometheus/client_model/go"

// ExecCount reads nv_inference_exec_count for a model.
func ExecCount(m *Manager, model string) float64 {
	mod, _ := m.Get(model)
	var out dto.Metric
	if err := m.Metrics.execCount.WithLabelValues(model, mod.Version).Write(&out); err != nil {
		return -1
	}
	return out.GetCounter().GetValue()
}

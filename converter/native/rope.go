package native

import (
	"fmt"
	"math"
)

// InvFreq is the rotary inverse frequencies (head_dim/2 values) with the
// config's rope_theta and rope_scaling, as transformers' ROPE_INIT_FUNCTIONS
// compute them for the types handled: default, linear and llama3.
func (c *Config) InvFreq() ([]float32, error) {
	d := c.HeadDim
	inv := make([]float64, d/2)
	for i := range inv {
		inv[i] = 1 / math.Pow(c.RopeTheta, float64(2*i)/float64(d))
	}
	typ := "default"
	if c.RopeScaling != nil {
		if t, ok := c.RopeScaling["rope_type"].(string); ok {
			typ = t
		} else if t, ok := c.RopeScaling["type"].(string); ok {
			typ = t
		}
	}
	num := func(k string, def float64) float64 {
		if v, ok := c.RopeScaling[k].(float64); ok {
			return v
		}
		return def
	}
	switch typ {
	case "default":
	case "linear":
		f := num("factor", 1)
		for i := range inv {
			inv[i] /= f
		}
	case "llama3":
		factor, low, high := num("factor", 8), num("low_freq_factor", 1), num("high_freq_factor", 4)
		old := num("original_max_position_embeddings", 8192)
		lowWave, highWave := old/low, old/high
		for i, f := range inv {
			wave := 2 * math.Pi / f
			v := f
			if wave > lowWave {
				v = f / factor
			}
			if !(wave < highWave) && !(wave > lowWave) {
				s := (old/wave - low) / (high - low)
				v = (1-s)*v/factor + s*v
			}
			inv[i] = v
		}
	default:
		return nil, unsupported("rope_scaling type %q (handled: default, linear, llama3)", typ)
	}
	out := make([]float32, len(inv))
	for i, v := range inv {
		out[i] = float32(v)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("native converter: head_dim %d too small for rotary embeddings", d)
	}
	return out, nil
}

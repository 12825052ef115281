package mlos

import (
	"math"
	"math/rand/v2"
	"sort"
)

// samplingParams pick the next token from logits, the way transformers'
// logits processors do: repetition penalty, then (when sampling)
// temperature, top-k and top-p, then a draw; greedy takes the argmax.
type samplingParams struct {
	sample            bool
	temperature       float64
	topK              int
	topP              float64
	repetitionPenalty float64
	seed              int64
	seeded            bool
}

type sampler struct {
	p   samplingParams
	rng *rand.Rand
	// scratch buffers reused across steps
	work []float64
	idx  []int
}

func newSampler(p samplingParams) *sampler {
	seed := uint64(p.seed)
	if !p.seeded {
		seed = rand.Uint64()
	}
	return &sampler{p: p, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// next chooses a token. history is the prompt and what was generated (for
// the repetition penalty); suppressed ids (eos before min_new_tokens) are
// never chosen.
func (s *sampler) next(logits []float32, history []int64, suppress []int64) int64 {
	w := s.work[:0]
	for _, x := range logits {
		w = append(w, float64(x))
	}
	s.work = w
	if pen := s.p.repetitionPenalty; pen != 1 && pen > 0 {
		s.penalize(logits, history, pen)
	}
	for _, id := range suppress {
		if id >= 0 && int(id) < len(w) {
			w[id] = math.Inf(-1)
		}
	}
	if !s.p.sample {
		return int64(argmax(w))
	}
	t := s.p.temperature
	if t <= 0 {
		return int64(argmax(w))
	}
	// Only tokens within exp(-40) of the best can be drawn in practice;
	// keeping just those makes a step cheap on 150k-token vocabularies.
	best := w[argmax(w)]
	if math.IsInf(best, -1) {
		return int64(argmax(w))
	}
	floor := best - 40*t
	idx := s.idx[:0]
	for i, x := range w {
		if x >= floor {
			idx = append(idx, i)
		}
	}
	s.idx = idx
	better := func(a, b int) bool {
		if w[a] != w[b] {
			return w[a] > w[b]
		}
		return a < b
	}
	if k := s.p.topK; k > 0 && k < len(idx) {
		idx = topK(idx, k, better)
	}
	sort.Slice(idx, func(a, b int) bool { return better(idx[a], idx[b]) })
	mx := w[idx[0]] / t
	probs := make([]float64, len(idx))
	sum := 0.0
	for i, id := range idx {
		probs[i] = math.Exp(w[id]/t - mx)
		sum += probs[i]
	}
	if p := s.p.topP; p > 0 && p < 1 {
		acc, keep := 0.0, len(idx)
		for i := range probs {
			acc += probs[i] / sum
			if acc >= p {
				keep = i + 1
				break
			}
		}
		idx, probs = idx[:keep], probs[:keep]
		sum = 0
		for _, x := range probs {
			sum += x
		}
	}
	r := s.rng.Float64() * sum
	for i, x := range probs {
		r -= x
		if r < 0 {
			return int64(idx[i])
		}
	}
	return int64(idx[len(idx)-1])
}

// penalize applies the repetition penalty once per distinct id seen.
func (s *sampler) penalize(logits []float32, history []int64, pen float64) {
	seen := make(map[int64]struct{}, len(history))
	for _, id := range history {
		if id < 0 || int(id) >= len(s.work) {
			continue
		}
		if _, ok := seen[id]; ok {
			continue
		}
		seen[id] = struct{}{}
		x := float64(logits[id])
		if x < 0 {
			s.work[id] = x * pen
		} else {
			s.work[id] = x / pen
		}
	}
}

func argmax(v []float64) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// topK keeps the k best of idx (in no particular order) with a min-heap.
func topK(idx []int, k int, better func(a, b int) bool) []int {
	h := append(make([]int, 0, k), idx[:k]...)
	down := func(i int) {
		for {
			l, r, m := 2*i+1, 2*i+2, i
			if l < len(h) && better(h[m], h[l]) {
				m = l
			}
			if r < len(h) && better(h[m], h[r]) {
				m = r
			}
			if m == i {
				return
			}
			h[i], h[m] = h[m], h[i]
			i = m
		}
	}
	for i := k/2 - 1; i >= 0; i-- {
		down(i)
	}
	for _, id := range idx[k:] {
		if better(id, h[0]) {
			h[0] = id
			down(0)
		}
	}
	return h
}

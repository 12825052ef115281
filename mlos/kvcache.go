package mlos

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"sync/atomic"
	"unsafe"

	"github.com/mlos-foundation/axon/schemas"
	ortgo "github.com/yalue/onnxruntime_go"
)

// decoder runs a causal LM one step at a time for the generator.
type decoder interface {
	// cached reports whether the graph takes a KV cache.
	cached() bool
	// start begins one sequence of at most maxLen tokens.
	start(maxLen int) (decodeState, error)
}

// decodeState is one sequence in progress.
type decodeState interface {
	// step feeds the next tokens (the whole prompt first, then one token
	// each) and answers the logits at the last position.
	step(ctx context.Context, ids []int64) ([]float32, error)
	// close frees the sequence's cache.
	close()
}

// liveValues counts the ONNX Runtime values the generator holds, so tests
// can prove that cancelled generations free their caches.
var liveValues atomic.Int64

// decodeSteps counts decoder steps run, for tests that prove a cancelled
// generation stopped early.
var decodeSteps atomic.Int64

// DecodeSteps is the number of decoder steps run by this process.
func DecodeSteps() int64 { return decodeSteps.Load() }

// LiveDecodeValues is the number of ONNX Runtime values held by generations
// in progress (0 when none runs).
func LiveDecodeValues() int64 { return liveValues.Load() }

func tracked(v ortgo.Value, err error) (ortgo.Value, error) {
	if err == nil {
		liveValues.Add(1)
	}
	return v, err
}

func release(vs ...ortgo.Value) {
	for _, v := range vs {
		if v != nil {
			v.Destroy()
			liveValues.Add(-1)
		}
	}
}

var (
	pastRE    = regexp.MustCompile(`^past_key_values\.(\d+)\.(key|value)$`)
	presentRE = regexp.MustCompile(`^present\.(\d+)\.(key|value)$`)
)

// isCacheInput reports whether an input belongs to the KV cache machinery
// (past values or the merged decoder's branch switch) rather than to text.
func isCacheInput(name string) bool {
	return pastRE.MatchString(name) || name == "use_cache_branch" || (len(name) > 4 && name[:4] == "past")
}

// cacheLayout is where a KV-cache decoder graph keeps what: found from the
// input and output names the way optimum exports them.
type cacheLayout struct {
	ids, mask, pos, branch int // input indexes, -1 when the graph lacks one
	idsType                DType
	branchScalar           bool
	slots                  []cacheSlot
	logits                 int
	logitsType             DType
	vocab                  int64 // -1 when the graph does not fix it
	kvHeads, headDim       int64
	pastType               DType
	nIn, nOut              int
}

// cacheSlot pairs past_key_values.{i}.{key,value} with present.{i}.{...}.
type cacheSlot struct {
	in, out int
	name    string
}

type kvConfig = schemas.AttentionShape

// detectCache answers nil for a graph without cache inputs, and an error
// (a 422 at register time) for one whose cache cannot be driven.
func detectCache(ins, outs []TensorSpec, cfg kvConfig) (*cacheLayout, error) {
	hasPast := false
	for _, s := range ins {
		if isCacheInput(s.Name) && s.Name != "use_cache_branch" {
			hasPast = true
		}
	}
	if !hasPast {
		return nil, nil
	}
	l := &cacheLayout{ids: -1, mask: -1, pos: -1, branch: -1, logits: -1, vocab: -1, kvHeads: -1, headDim: -1, nIn: len(ins), nOut: len(outs)}
	outIdx := map[string]int{}
	for i, o := range outs {
		outIdx[o.Name] = i
	}
	for i, s := range ins {
		switch {
		case s.Name == "input_ids":
			l.ids, l.idsType = i, s.DType
		case s.Name == "attention_mask":
			l.mask = i
		case s.Name == "position_ids":
			l.pos = i
		case s.Name == "use_cache_branch":
			if s.DType != Bool {
				return nil, fmt.Errorf("input use_cache_branch is %s, expected bool", s.DType)
			}
			l.branch, l.branchScalar = i, len(s.Shape) == 0
		case pastRE.MatchString(s.Name):
			m := pastRE.FindStringSubmatch(s.Name)
			want := "present." + m[1] + "." + m[2]
			o, ok := outIdx[want]
			if !ok {
				return nil, fmt.Errorf("cache input %s has no matching output %s (outputs: %s)", s.Name, want, names(outs))
			}
			if len(s.Shape) != 4 {
				return nil, fmt.Errorf("cache input %s has shape %s; expected [batch, kv_heads, past_sequence, head_dim]", s.Name, s.ShapeString())
			}
			if s.DType != Float32 && s.DType != Float16 {
				return nil, fmt.Errorf("cache input %s is %s; only float32 and float16 caches are supported", s.Name, s.DType)
			}
			if l.pastType != "" && l.pastType != s.DType {
				return nil, fmt.Errorf("cache inputs mix %s and %s", l.pastType, s.DType)
			}
			if outs[o].DType != s.DType {
				return nil, fmt.Errorf("cache input %s is %s but output %s is %s", s.Name, s.DType, want, outs[o].DType)
			}
			l.pastType = s.DType
			if s.Shape[1] > 0 {
				l.kvHeads = s.Shape[1]
			}
			if s.Shape[3] > 0 {
				l.headDim = s.Shape[3]
			}
			l.slots = append(l.slots, cacheSlot{in: i, out: o, name: s.Name})
		default:
			return nil, fmt.Errorf("input %s cannot be fed by the generator (a KV-cache decoder takes input_ids, attention_mask, position_ids, past_key_values.N.key/value and use_cache_branch)", s.Name)
		}
	}
	if l.ids < 0 {
		return nil, fmt.Errorf("the decoder has cache inputs but no input_ids")
	}
	if l.idsType != Int64 && l.idsType != Int32 {
		return nil, fmt.Errorf("input_ids is %s; expected int64 or int32", l.idsType)
	}
	for _, idx := range []int{l.mask, l.pos} {
		if idx >= 0 && ins[idx].DType != Int64 && ins[idx].DType != Int32 {
			return nil, fmt.Errorf("input %s is %s; expected int64 or int32", ins[idx].Name, ins[idx].DType)
		}
	}
	if len(l.slots)%2 != 0 {
		return nil, fmt.Errorf("cache inputs come in key/value pairs; found %d", len(l.slots))
	}
	sort.Slice(l.slots, func(a, b int) bool { return l.slots[a].in < l.slots[b].in })
	li, ok := outIdx["logits"]
	if !ok {
		return nil, fmt.Errorf("the decoder has no logits output (outputs: %s)", names(outs))
	}
	l.logits, l.logitsType = li, outs[li].DType
	if l.logitsType != Float32 && l.logitsType != Float16 {
		return nil, fmt.Errorf("logits are %s; expected float32 or float16", l.logitsType)
	}
	if s := outs[li].Shape; len(s) != 3 {
		return nil, fmt.Errorf("logits have shape %s; expected [batch, sequence, vocab]", outs[li].ShapeString())
	} else if s[2] > 0 {
		l.vocab = s[2]
	}
	heads := cfg.Heads
	if heads == 0 {
		heads = cfg.NHead
	}
	if l.kvHeads < 0 {
		switch {
		case cfg.KVHeads > 0:
			l.kvHeads = int64(cfg.KVHeads)
		case heads > 0:
			l.kvHeads = int64(heads)
		default:
			return nil, fmt.Errorf("the cache's kv-head count is not fixed in the graph and config.json has no num_key_value_heads")
		}
	}
	if l.headDim < 0 {
		hidden := cfg.Hidden
		if hidden == 0 {
			hidden = cfg.NEmbd
		}
		switch {
		case cfg.HeadDim > 0:
			l.headDim = int64(cfg.HeadDim)
		case hidden > 0 && heads > 0:
			l.headDim = int64(hidden / heads)
		default:
			return nil, fmt.Errorf("the cache's head size is not fixed in the graph and config.json has no hidden_size/num_attention_heads")
		}
	}
	return l, nil
}

func names(specs []TensorSpec) string {
	s := ""
	for i, t := range specs {
		if i > 0 {
			s += ", "
		}
		s += t.Name
	}
	return s
}

// cacheDecoder drives a KV-cache graph through ONNX Runtime values: each
// step's present.* outputs are allocated up front with their known shape and
// fed back, as they are, as the next step's past_key_values.* inputs, so the
// cache never passes through Go slices.
type cacheDecoder struct {
	l *cacheLayout
	b *ortBackend
}

func (d *cacheDecoder) cached() bool { return true }

func (d *cacheDecoder) start(maxLen int) (decodeState, error) {
	return &cacheState{d: d}, nil
}

type cacheState struct {
	d       *cacheDecoder
	past    []ortgo.Value // one per slot; nil before the first step
	pastLen int64
	kv      kvBuffers // the memory under past and the next present
}

func intTensor(dt DType, shape []int64, fill func(i int) int64) (ortgo.Value, error) {
	n := int(NumElements(shape))
	if dt == Int32 {
		v := make([]int32, n)
		for i := range v {
			v[i] = int32(fill(i))
		}
		return tracked(ortgo.NewTensor(ortgo.Shape(shape), v))
	}
	v := make([]int64, n)
	for i := range v {
		v[i] = fill(i)
	}
	return tracked(ortgo.NewTensor(ortgo.Shape(shape), v))
}

// floatTensor allocates a zeroed float32 or float16 tensor ONNX Runtime
// writes into (or reads an empty past from).
func floatTensor(dt DType, shape []int64) (ortgo.Value, error) {
	n := int(NumElements(shape))
	if dt == Float16 {
		// A custom-data tensor needs at least one byte even when empty.
		return tracked(ortgo.NewCustomDataTensor(ortgo.Shape(shape), make([]byte, max(2*n, 2)), ortgo.TensorElementDataTypeFloat16))
	}
	return tracked(ortgo.NewTensor(ortgo.Shape(shape), make([]float32, n)))
}

// stepIO holds one decode step's inputs and outputs while they are built and
// run; close releases the inputs made for the step and any outputs still held.
type stepIO struct {
	ins, outs []ortgo.Value
	fresh     []ortgo.Value // inputs made for this step
}

func newStepIO(l *cacheLayout) *stepIO {
	return &stepIO{ins: make([]ortgo.Value, l.nIn), outs: make([]ortgo.Value, l.nOut)}
}

func (st *stepIO) close() {
	release(st.fresh...)
	release(st.outs...)
}

// add sets input i to v, a value made for this step (or passes err on).
func (st *stepIO) add(i int, v ortgo.Value, err error) error {
	if err != nil {
		return err
	}
	st.ins[i] = v
	st.fresh = append(st.fresh, v)
	return nil
}

// addBranch feeds a merged decoder's use_cache_branch (a scalar or [1]), when
// the graph has one.
func (st *stepIO) addBranch(l *cacheLayout, useCache bool) error {
	if l.branch < 0 {
		return nil
	}
	if l.branchScalar {
		v, err := tracked(ortgo.NewScalar(useCache))
		return st.add(l.branch, v, err)
	}
	v, err := tracked(ortgo.NewTensor(ortgo.Shape{1}, []bool{useCache}))
	return st.add(l.branch, v, err)
}

// allocOutputs allocates the logits (when the vocabulary is known) and every
// present key/value up front with the given shapes, the latter over kv's
// spare buffers.
func (st *stepIO) allocOutputs(l *cacheLayout, logits, present []int64, kv *kvBuffers) error {
	if l.vocab > 0 {
		v, err := floatTensor(l.logitsType, logits)
		if err != nil {
			return err
		}
		st.outs[l.logits] = v
	}
	for k, slot := range l.slots {
		v, err := kv.present(k, l.pastType, present)
		if err != nil {
			return err
		}
		st.outs[slot.out] = v
	}
	return nil
}

// run runs the session; the outputs left to ONNX Runtime are counted as live
// once it has allocated them.
func (st *stepIO) run(session *ortgo.DynamicAdvancedSession) error {
	auto := make([]bool, len(st.outs))
	for i, o := range st.outs {
		auto[i] = o == nil
	}
	if err := session.Run(st.ins, st.outs); err != nil {
		for i := range st.outs {
			if auto[i] {
				st.outs[i] = nil // not allocated by ONNX Runtime on failure
			}
		}
		return err
	}
	for i := range st.outs {
		if auto[i] && st.outs[i] != nil {
			liveValues.Add(1)
		}
	}
	return nil
}

// kvBuffers are the Go memory behind one cache's present.* tensors, reused
// across steps: each slot has two buffers, the one under the current past
// and a spare that the next step's present is written into, so a step
// allocates no cache memory (no per-step zeroing, no garbage to collect).
type kvBuffers struct {
	bufs [][2][]float32 // per slot
	cur  int            // which of the two holds the past
}

// present makes slot k's output tensor over the spare buffer, grown when
// too small. ONNX Runtime writes every element, so it is not cleared.
func (b *kvBuffers) present(k int, dt DType, shape []int64) (ortgo.Value, error) {
	if b.bufs == nil {
		return floatTensor(dt, shape)
	}
	n := int(NumElements(shape))
	words := n
	if dt == Float16 {
		words = (n + 1) / 2
	}
	words = max(words, 1)
	buf := &b.bufs[k][1-b.cur]
	if cap(*buf) < words {
		*buf = make([]float32, words+words/2)
	}
	d := (*buf)[:words]
	if dt == Float16 {
		return tracked(ortgo.NewCustomDataTensor(ortgo.Shape(shape), unsafe.Slice((*byte)(unsafe.Pointer(&d[0])), max(2*n, 2)), ortgo.TensorElementDataTypeFloat16))
	}
	return tracked(ortgo.NewTensor(ortgo.Shape(shape), d[:n]))
}

// swap makes the spare buffers (now under the past) current.
func (b *kvBuffers) swap() { b.cur = 1 - b.cur }

func newKVBuffers(slots int) kvBuffers { return kvBuffers{bufs: make([][2][]float32, slots)} }

// takePresent moves the present key/values out of the outputs into past (one
// per slot): the next step's past_key_values.
func (st *stepIO) takePresent(l *cacheLayout, past []ortgo.Value) {
	for k, slot := range l.slots {
		past[k] = st.outs[slot.out]
		st.outs[slot.out] = nil
	}
}

func (s *cacheState) step(ctx context.Context, ids []int64) ([]float32, error) {
	l := s.d.l
	n := int64(len(ids))
	total := s.pastLen + n
	st := newStepIO(l)
	defer st.close()
	v, err := intTensor(l.idsType, []int64{1, n}, func(i int) int64 { return ids[i] })
	if err := st.add(l.ids, v, err); err != nil {
		return nil, err
	}
	if l.mask >= 0 {
		v, err := intTensor(s.d.b.inputs[l.mask].DType, []int64{1, total}, func(int) int64 { return 1 })
		if err := st.add(l.mask, v, err); err != nil {
			return nil, err
		}
	}
	if l.pos >= 0 {
		v, err := intTensor(s.d.b.inputs[l.pos].DType, []int64{1, n}, func(i int) int64 { return s.pastLen + int64(i) })
		if err := st.add(l.pos, v, err); err != nil {
			return nil, err
		}
	}
	if err := st.addBranch(l, s.past != nil); err != nil {
		return nil, err
	}
	for k, slot := range l.slots {
		if s.past != nil {
			st.ins[slot.in] = s.past[k]
			continue
		}
		v, err := floatTensor(l.pastType, []int64{1, l.kvHeads, 0, l.headDim})
		if err := st.add(slot.in, v, err); err != nil {
			return nil, err
		}
	}
	if s.kv.bufs == nil {
		s.kv = newKVBuffers(len(l.slots))
	}
	if err := st.allocOutputs(l, []int64{1, n, l.vocab}, []int64{1, l.kvHeads, total, l.headDim}, &s.kv); err != nil {
		return nil, err
	}
	if err := st.run(s.d.b.session); err != nil {
		return nil, err
	}
	logits, err := lastRow(st.outs[l.logits], l.logitsType)
	if err != nil {
		return nil, err
	}
	if s.past != nil {
		release(s.past...)
	}
	past := make([]ortgo.Value, len(l.slots))
	st.takePresent(l, past)
	s.past, s.pastLen = past, total
	s.kv.swap()
	return logits, nil
}

// lastRow copies the logits of the last position out of [1, n, vocab].
func lastRow(v ortgo.Value, dt DType) ([]float32, error) {
	if v == nil {
		return nil, fmt.Errorf("no logits")
	}
	shape := v.GetShape()
	if len(shape) != 3 || shape[1] < 1 {
		return nil, fmt.Errorf("logits have shape %v; expected [1, sequence, vocab]", shape)
	}
	vocab := int(shape[2])
	off := int(shape[1]-1) * vocab
	switch t := v.(type) {
	case *ortgo.Tensor[float32]:
		return append([]float32(nil), t.GetData()[off:off+vocab]...), nil
	case *ortgo.CustomDataTensor:
		b := t.GetData()
		if len(b) < 2*(off+vocab) {
			return nil, fmt.Errorf("logits hold %d bytes for shape %v", len(b), shape)
		}
		h := unsafe.Slice((*uint16)(unsafe.Pointer(&b[0])), len(b)/2)[off : off+vocab]
		out := make([]float32, vocab)
		for i, x := range h {
			out[i] = Float16ToFloat32(x)
		}
		return out, nil
	}
	return nil, fmt.Errorf("logits value %T is not supported", v)
}

func (s *cacheState) close() {
	if s.past != nil {
		release(s.past...)
		s.past = nil
	}
}

// recomputeDecoder runs a graph without a cache on the whole sequence each
// step: what a decoder exported without past_key_values allows.
type recomputeDecoder struct {
	b    Backend
	pipe *textEncoder
}

func (d *recomputeDecoder) cached() bool { return false }

func (d *recomputeDecoder) start(maxLen int) (decodeState, error) {
	return &recomputeState{d: d, ids: make([]int64, 0, maxLen)}, nil
}

type recomputeState struct {
	d   *recomputeDecoder
	ids []int64
}

func (s *recomputeState) step(ctx context.Context, ids []int64) ([]float32, error) {
	s.ids = append(s.ids, ids...)
	n := len(s.ids)
	enc := Encoding{IDs: s.ids, TypeIDs: make([]int64, n), Mask: make([]int64, n)}
	for i := range enc.Mask {
		enc.Mask[i] = 1
	}
	outs, _, err := runPhased(ctx, s.d.b, s.d.pipe.tensors(enc))
	if err != nil {
		return nil, err
	}
	o := pickOutput(outs, "logits")
	if len(o.Shape) != 3 || o.Shape[1] != int64(n) {
		return nil, Unprocessable("output %s has shape %v; text generation needs logits [1,sequence,vocab]", o.Name, o.Shape)
	}
	vocab := int(o.Shape[2])
	off := (n - 1) * vocab
	switch d := o.Data.(type) {
	case []float32:
		return d[off : off+vocab], nil
	case []uint16:
		out := make([]float32, vocab)
		for i, x := range d[off : off+vocab] {
			out[i] = Float16ToFloat32(x)
		}
		return out, nil
	}
	v := o.Float64s()[off : off+vocab]
	out := make([]float32, vocab)
	for i, x := range v {
		out[i] = float32(x)
	}
	return out, nil
}

func (s *recomputeState) close() {}

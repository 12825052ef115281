package mlos

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"

	ortgo "github.com/yalue/onnxruntime_go"
)

// Continuous batching for KV-cache decoders with a dynamic batch dimension:
// each sequence runs its prefill alone, then joins a per-model scheduler
// that runs the decode steps of every joined sequence as one ONNX Runtime
// execution. The batch's cache is [rows, kv_heads, L, head_dim] with each
// row left-padded to the longest (attention_mask 0 over the padding,
// position_ids the row's own length). Sequences join and leave between
// steps; only then is the cache copied (re-packed), never on a plain step,
// where present.* is fed back as past_key_values.* as it is.

// batchRuns and batchRows count batched executions and the rows they ran.
var batchRuns, batchRows atomic.Int64

// BatchedDecodeSteps reports how many batched decode executions ran and how
// many sequence steps they held together.
func BatchedDecodeSteps() (runs, rows int64) { return batchRuns.Load(), batchRows.Load() }

// batchingDecoder is a cacheDecoder whose decode steps are batched.
type batchingDecoder struct {
	*cacheDecoder
	maxRows int

	mu      sync.Mutex
	joining []*batchRow
	running bool
	// active counts sequences started and not closed. A sequence that is
	// the only one steps on its own cache, as cacheDecoder does, without
	// the scheduler's hand-offs; it joins the batch at its next step once
	// another sequence exists.
	active int
}

// batchableCache reports whether a cache layout allows batched decode
// steps: dynamic batch everywhere and the inputs that make padding correct.
func batchableCache(l *cacheLayout, ins, outs []TensorSpec) bool {
	if l.mask < 0 || l.pos < 0 {
		return false
	}
	if ins[l.ids].Shape[0] >= 0 || outs[l.logits].Shape[0] >= 0 {
		return false
	}
	for _, s := range l.slots {
		if ins[s.in].Shape[0] >= 0 || outs[s.out].Shape[0] >= 0 {
			return false
		}
	}
	return true
}

func (d *batchingDecoder) start(maxLen int) (decodeState, error) {
	d.mu.Lock()
	d.active++
	d.mu.Unlock()
	return &batchRow{d: d, solo: cacheState{d: d.cacheDecoder}, logits: make(chan rowLogits, 1), reply: make(chan rowReply, 1)}, nil
}

// batchRow is one sequence: alone for its prefill, then a row of the batch.
type batchRow struct {
	d      *batchingDecoder
	solo   cacheState // the prefill's cache, handed to the scheduler on join
	joined bool
	token  int64 // the token to feed at the next batched step
	length int64 // tokens in this row's cache
	logits chan rowLogits
	reply  chan rowReply
	closed bool
	prefed bool // the next token went to the scheduler already
}

// prefeeder is a decodeState that takes the next token before step is called.
type prefeeder interface{ prefeed(token int64) }

func (r *batchRow) prefeed(token int64) {
	if r.joined && !r.prefed {
		r.prefed = true
		r.reply <- rowReply{token: token}
	}
}

type rowLogits struct {
	v   []float32
	err error
}

type rowReply struct {
	token int64
	leave bool
}

// alone reports whether r is the only sequence of its decoder.
func (d *batchingDecoder) alone() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.active == 1
}

func (r *batchRow) step(ctx context.Context, ids []int64) ([]float32, error) {
	if !r.joined && (r.solo.past == nil || r.d.alone()) {
		return r.solo.step(ctx, ids) // prefill, or decoding alone
	}
	if len(ids) != 1 {
		return nil, fmt.Errorf("batched decode steps take one token, got %d", len(ids))
	}
	switch {
	case !r.joined:
		r.joined = true
		r.token, r.length = ids[0], r.solo.pastLen
		r.d.join(r)
	case r.prefed:
		r.prefed = false
	default:
		r.reply <- rowReply{token: ids[0]}
	}
	select {
	case l := <-r.logits:
		return l.v, l.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (r *batchRow) close() {
	if r.closed {
		return
	}
	r.closed = true
	r.d.mu.Lock()
	r.d.active--
	r.d.mu.Unlock()
	if r.joined {
		// The scheduler waits for one reply per step it ran for this row.
		r.reply <- rowReply{leave: true}
		return
	}
	r.solo.close()
}

func (d *batchingDecoder) join(r *batchRow) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.joining = append(d.joining, r)
	if !d.running {
		d.running = true
		go d.loop()
	}
}

// batchCache is the scheduler's state: the rows and their packed cache.
type batchCache struct {
	rows []*batchRow
	past []ortgo.Value // per slot, [len(rows), kv, width, head_dim]
	// width is the cache's sequence length (the longest row).
	width int64
	kv    kvBuffers // memory under past and the next step's (or repack's) cache
}

// loop runs batched steps while any row is joined; it ends when the last
// row leaves and no other is waiting (a later join starts it again).
func (d *batchingDecoder) loop() {
	var bc batchCache
	defer func() { release(bc.past...) }()
	for {
		d.mu.Lock()
		room := d.maxRows - len(bc.rows)
		n := min(room, len(d.joining))
		joiners := append([]*batchRow(nil), d.joining[:n]...)
		d.joining = d.joining[n:]
		if len(bc.rows) == 0 && len(joiners) == 0 {
			d.running = false
			d.mu.Unlock()
			return
		}
		d.mu.Unlock()
		if len(joiners) > 0 {
			if err := d.repack(&bc, bc.rows, joiners); err != nil {
				d.failAll(&bc, joiners, err)
				continue
			}
		}
		logits, err := d.batchStep(&bc)
		for i, r := range bc.rows {
			if err != nil {
				r.logits <- rowLogits{err: err}
			} else {
				r.logits <- rowLogits{v: logits[i]}
			}
		}
		var stay []*batchRow
		for _, r := range bc.rows {
			rep := <-r.reply
			if rep.leave || err != nil {
				continue
			}
			r.token = rep.token
			stay = append(stay, r)
		}
		if err != nil {
			// Every row got the error, ended and replied leave.
			release(bc.past...)
			bc = batchCache{kv: bc.kv}
			continue
		}
		if len(stay) < len(bc.rows) {
			if len(stay) == 0 {
				release(bc.past...)
				bc = batchCache{kv: bc.kv}
			} else if err := d.repack(&bc, stay, nil); err != nil {
				bc.rows = stay // the others have left and reply no more
				d.failAll(&bc, nil, err)
			}
		}
	}
}

// failAll ends every row (and joiner) with err.
func (d *batchingDecoder) failAll(bc *batchCache, joiners []*batchRow, err error) {
	for _, r := range joiners {
		r.solo.close()
	}
	all := append(append([]*batchRow(nil), bc.rows...), joiners...)
	for _, r := range all {
		r.logits <- rowLogits{err: err}
	}
	for _, r := range all {
		<-r.reply
	}
	release(bc.past...)
	*bc = batchCache{}
}

// repack builds the packed cache for keep (rows already in bc, in bc's
// order) plus joiners (whose solo caches are taken over), trimming padding
// no row needs any more.
func (d *batchingDecoder) repack(bc *batchCache, keep, joiners []*batchRow) error {
	l := d.l
	rows := append(append([]*batchRow(nil), keep...), joiners...)
	width := int64(0)
	for _, r := range rows {
		width = max(width, r.length)
	}
	oldIndex := make(map[*batchRow]int, len(bc.rows))
	for i, r := range bc.rows {
		oldIndex[r] = i
	}
	es := int64(l.pastType.Size())
	hd := l.headDim
	if bc.kv.bufs == nil {
		bc.kv = newKVBuffers(len(l.slots))
	}
	past := make([]ortgo.Value, len(l.slots))
	for k := range l.slots {
		v, err := bc.kv.present(k, l.pastType, []int64{int64(len(rows)), l.kvHeads, width, hd})
		if err != nil {
			release(past...)
			return err
		}
		past[k] = v
		dst := valueBytes(v)
		clear(dst) // a reused buffer: the left padding must not hold an old row's keys
		for i, r := range rows {
			var src []byte
			var srcRow, srcWidth int64
			if j, ok := oldIndex[r]; ok {
				src, srcRow, srcWidth = valueBytes(bc.past[k]), int64(j), bc.width
			} else {
				src, srcRow, srcWidth = valueBytes(r.solo.past[k]), 0, r.solo.pastLen
			}
			n := r.length * hd * es
			for h := int64(0); h < l.kvHeads; h++ {
				so := ((srcRow*l.kvHeads+h)*srcWidth + srcWidth - r.length) * hd * es
				do := ((int64(i)*l.kvHeads+h)*width + width - r.length) * hd * es
				copy(dst[do:do+n], src[so:so+n])
			}
		}
	}
	release(bc.past...)
	for _, r := range joiners {
		r.solo.close()
	}
	bc.rows, bc.past, bc.width = rows, past, width
	bc.kv.swap()
	return nil
}

// valueBytes is the Go memory behind a tensor this package allocated.
func valueBytes(v ortgo.Value) []byte {
	switch t := v.(type) {
	case *ortgo.Tensor[float32]:
		d := t.GetData()
		if len(d) == 0 {
			return nil
		}
		return unsafe.Slice((*byte)(unsafe.Pointer(&d[0])), len(d)*4)
	case *ortgo.CustomDataTensor:
		return t.GetData()
	}
	return nil
}

// batchStep runs one decode step for every row and answers each row's logits.
func (d *batchingDecoder) batchStep(bc *batchCache) ([][]float32, error) {
	l := d.l
	rows := int64(len(bc.rows))
	width := bc.width + 1
	st := newStepIO(l)
	defer st.close()
	v, err := intTensor(l.idsType, []int64{rows, 1}, func(i int) int64 { return bc.rows[i].token })
	if err := st.add(l.ids, v, err); err != nil {
		return nil, err
	}
	v, err = intTensor(d.b.inputs[l.mask].DType, []int64{rows, width}, func(i int) int64 {
		r, c := i/int(width), int64(i%int(width))
		if c < width-1-bc.rows[r].length {
			return 0
		}
		return 1
	})
	if err := st.add(l.mask, v, err); err != nil {
		return nil, err
	}
	v, err = intTensor(d.b.inputs[l.pos].DType, []int64{rows, 1}, func(i int) int64 { return bc.rows[i].length })
	if err := st.add(l.pos, v, err); err != nil {
		return nil, err
	}
	if err := st.addBranch(l, true); err != nil {
		return nil, err
	}
	for k, slot := range l.slots {
		st.ins[slot.in] = bc.past[k]
	}
	if err := st.allocOutputs(l, []int64{rows, 1, l.vocab}, []int64{rows, l.kvHeads, width, l.headDim}, &bc.kv); err != nil {
		return nil, err
	}
	if err := st.run(d.b.session); err != nil {
		return nil, err
	}
	batchRuns.Add(1)
	batchRows.Add(rows)
	all, err := rowsOfLogits(st.outs[l.logits], l.logitsType, int(rows))
	if err != nil {
		return nil, err
	}
	release(bc.past...)
	st.takePresent(l, bc.past)
	bc.width = width
	bc.kv.swap()
	for _, r := range bc.rows {
		r.length++
	}
	return all, nil
}

// rowsOfLogits splits [rows, 1, vocab] logits into one slice per row.
func rowsOfLogits(v ortgo.Value, dt DType, rows int) ([][]float32, error) {
	if v == nil {
		return nil, fmt.Errorf("no logits")
	}
	shape := v.GetShape()
	if len(shape) != 3 || shape[0] != int64(rows) || shape[1] != 1 {
		return nil, fmt.Errorf("logits have shape %v; expected [%d, 1, vocab]", shape, rows)
	}
	vocab := int(shape[2])
	out := make([][]float32, rows)
	switch t := v.(type) {
	case *ortgo.Tensor[float32]:
		d := t.GetData()
		if len(d) < rows*vocab {
			return nil, fmt.Errorf("logits hold %d values for shape %v", len(d), shape)
		}
		for r := range out {
			out[r] = append([]float32(nil), d[r*vocab:(r+1)*vocab]...)
		}
	case *ortgo.CustomDataTensor:
		b := t.GetData()
		if len(b) < 2*rows*vocab {
			return nil, fmt.Errorf("logits hold %d bytes for shape %v", len(b), shape)
		}
		h := unsafe.Slice((*uint16)(unsafe.Pointer(&b[0])), len(b)/2)
		for r := range out {
			out[r] = make([]float32, vocab)
			for i, x := range h[r*vocab : (r+1)*vocab] {
				out[r][i] = Float16ToFloat32(x)
			}
		}
	default:
		return nil, fmt.Errorf("logits value %T is not supported", v)
	}
	return out, nil
}

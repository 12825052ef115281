package mlos

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// BatchOptions configures dynamic batching for models with a dynamic batch
// (first) dimension on every input and output.
type BatchOptions struct {
	// MaxBatchSize is the most rows one execution takes; 0 or 1 turns batching off.
	MaxBatchSize int
	// MaxQueueDelay is how long the first request of a batch waits for more;
	// 0 batches only what is already queued (no added latency). Go timers
	// have about a millisecond of resolution, so small values round up.
	MaxQueueDelay time.Duration
	// Executors is how many batches may run at once (default 1: while one
	// runs, the queue fills the next, bigger batch).
	Executors int
}

type batchReq struct {
	ctx    context.Context
	inputs []*Tensor
	rows   int64
	key    string
	enq    time.Time
	done   chan batchRes
}

type batchRes struct {
	outs    []*Tensor
	err     error
	queue   time.Duration
	compute time.Duration
	size    int // requests in the execution
}

type batcher struct {
	b    Backend
	opts BatchOptions
	ch   chan *batchReq
	// slots holds one token per executor: whoever runs an execution (an
	// executor goroutine, or an idle request running itself) holds one.
	slots chan struct{}
	// shared is set while executions are shared by several requests (there
	// is load): then nobody runs alone, or each wave of responses would come
	// back as one lone execution followed by one batch of the rest.
	shared atomic.Bool
	quit   chan struct{}
	// stopped closes once every executor has returned.
	stopped chan struct{}
	wg      sync.WaitGroup
	onRun   func(rows int, ph Phases)
}

func newBatcher(b Backend, opts BatchOptions, onRun func(int, Phases)) *batcher {
	if opts.Executors <= 0 {
		opts.Executors = 1
	}
	bt := &batcher{b: b, opts: opts, ch: make(chan *batchReq, 4*opts.MaxBatchSize), slots: make(chan struct{}, opts.Executors), quit: make(chan struct{}), stopped: make(chan struct{}), onRun: onRun}
	for range opts.Executors {
		bt.slots <- struct{}{}
	}
	for range opts.Executors {
		bt.wg.Add(1)
		go bt.loop()
	}
	return bt
}

// batchable reports whether every input and output has a dynamic first
// dimension that is a batch dimension. Concatenating along a dynamic
// sequence dimension would silently mix requests, so a named first dimension
// must be called like a batch ("batch", "batch_size", "N"), and an unnamed
// one is trusted only when every tensor has at least two dimensions.
func batchable(ins, outs []TensorSpec) bool {
	if len(ins) == 0 || len(outs) == 0 {
		return false
	}
	name := ""
	for _, s := range append(append([]TensorSpec(nil), ins...), outs...) {
		if len(s.Shape) == 0 || s.Shape[0] >= 0 {
			return false
		}
		dim := ""
		if len(s.DimNames) > 0 {
			dim = s.DimNames[0]
		}
		switch {
		case dim == "":
			if len(s.Shape) < 2 {
				return false
			}
		case !batchName(dim):
			return false
		case name != "" && name != dim:
			return false
		default:
			name = dim
		}
	}
	return true
}

func batchName(n string) bool {
	switch n {
	case "N", "n", "B", "b":
		return true
	}
	return strings.Contains(strings.ToLower(n), "batch")
}

// shapeKey groups requests that can share an execution: the same trailing dims.
func shapeKey(inputs []*Tensor) string {
	var b strings.Builder
	for _, t := range inputs {
		for _, d := range t.Shape[1:] {
			fmt.Fprintf(&b, "%d,", d)
		}
		b.WriteByte(';')
	}
	return b.String()
}

func (bt *batcher) close() {
	close(bt.quit)
	bt.wg.Wait()
	close(bt.stopped)
}

// run queues the request and waits for its share of a batched execution.
// Without a queue delay, an idle batcher (nothing queued, an executor free,
// the last execution not shared) runs the request in the caller's goroutine: there is nobody to share the
// execution with, and the hand-off to an executor goroutine and back would
// only add latency. With a delay the request waits for company, as asked.
func (bt *batcher) run(ctx context.Context, inputs []*Tensor) batchRes {
	r := &batchReq{ctx: ctx, inputs: inputs, rows: inputs[0].Shape[0], enq: time.Now(), done: make(chan batchRes, 1)}
	if bt.opts.MaxQueueDelay == 0 && len(bt.ch) == 0 && !bt.shared.Load() {
		select {
		case <-bt.slots:
			select {
			case <-bt.quit:
				bt.slots <- struct{}{}
				return batchRes{err: Unavailable("model is unloading")}
			default:
			}
			bt.execute([]*batchReq{r}, r.rows)
			bt.slots <- struct{}{}
			return <-r.done
		default:
		}
	}
	r.key = shapeKey(inputs)
	select {
	case bt.ch <- r:
	case <-ctx.Done():
		return batchRes{err: ctx.Err()}
	case <-bt.quit:
		return batchRes{err: Unavailable("model is unloading")}
	}
	select {
	case res := <-r.done:
		return res
	case <-ctx.Done():
		return batchRes{err: ctx.Err()}
	case <-bt.stopped:
		// Executors answer before they return; a request still queued was never taken.
		select {
		case res := <-r.done:
			return res
		default:
			return batchRes{err: Unavailable("model is unloading")}
		}
	}
}

func (bt *batcher) loop() {
	defer bt.wg.Done()
	max := int64(bt.opts.MaxBatchSize)
	var carry *batchReq
	var timer *time.Timer
	lastSize := 0
	var lastCompute time.Duration
	for {
		first := carry
		carry = nil
		if first == nil {
			select {
			case first = <-bt.ch:
			case <-bt.quit:
				return
			}
		}
		// Wait for a free execution slot (a request may be running itself);
		// the queue keeps filling meanwhile, so the batch grows.
		select {
		case <-bt.slots:
		case <-bt.quit:
			return
		}
		batch := []*batchReq{first}
		rows := first.rows
		var deadline <-chan time.Time
		if bt.opts.MaxQueueDelay > 0 {
			if wait := bt.opts.MaxQueueDelay - time.Since(first.enq); wait > 0 {
				if timer == nil {
					timer = time.NewTimer(wait)
				} else {
					timer.Reset(wait)
				}
				deadline = timer.C
			}
		}
		// Under load (the last batch was shared and took a while), requests
		// still being decoded get a few scheduler turns to join before the
		// batch runs. Fast models skip this: their executions cost less.
		yields := 0
		if lastSize > 1 && lastCompute > 100*time.Microsecond {
			yields = 3
		}
	collect:
		for rows < max {
			var r *batchReq
			if deadline == nil {
				// No waiting: take only what is already queued.
				select {
				case r = <-bt.ch:
				default:
					if yields == 0 {
						break collect
					}
					yields--
					runtime.Gosched()
					continue
				}
			} else {
				select {
				case r = <-bt.ch:
				case <-deadline:
					deadline = nil
					break collect
				}
			}
			if r.key != first.key || rows+r.rows > max {
				carry = r
				break
			}
			batch = append(batch, r)
			rows += r.rows
		}
		if deadline != nil {
			// Since Go 1.23 a stopped timer delivers no stale value: no drain.
			timer.Stop()
		}
		lastSize = len(batch)
		lastCompute = bt.execute(batch, rows)
		bt.slots <- struct{}{}
	}
}

// execute runs one batch and answers its requests; it returns the compute time.
func (bt *batcher) execute(batch []*batchReq, rows int64) time.Duration {
	start := time.Now()
	// Requests whose callers gave up are dropped before the run.
	live := batch[:0]
	for _, r := range batch {
		if r.ctx.Err() != nil {
			r.done <- batchRes{err: r.ctx.Err()}
			rows -= r.rows
			continue
		}
		live = append(live, r)
	}
	batch = live
	if len(batch) == 0 {
		return 0
	}
	bt.shared.Store(len(batch) > 1)
	var inputs []*Tensor
	if len(batch) == 1 {
		inputs = batch[0].inputs
	} else {
		inputs = make([]*Tensor, len(batch[0].inputs))
		for i := range inputs {
			parts := make([]*Tensor, len(batch))
			for j, r := range batch {
				parts[j] = r.inputs[i]
			}
			inputs[i] = concatRows(parts, rows)
		}
	}
	// Concatenating the rows is part of preparing the inputs.
	concat := time.Since(start)
	outs, ph, err := runPhased(context.Background(), bt.b, inputs)
	ph.Input += concat
	compute := time.Since(start)
	if bt.onRun != nil && err == nil {
		bt.onRun(int(rows), ph)
	}
	if err == nil && len(batch) > 1 {
		for _, o := range outs {
			if len(o.Shape) == 0 || o.Shape[0] != rows {
				err = fmt.Errorf("output %s has %v rows for a batch of %d; the model is not batchable", o.Name, o.Shape, rows)
				break
			}
		}
	}
	var off int64
	for _, r := range batch {
		res := batchRes{err: err, queue: start.Sub(r.enq), compute: compute, size: len(batch)}
		if err == nil {
			if len(batch) == 1 {
				res.outs = outs
			} else {
				res.outs = make([]*Tensor, len(outs))
				for i, o := range outs {
					res.outs[i] = sliceRows(o, off, off+r.rows)
				}
			}
		}
		off += r.rows
		r.done <- res
	}
	return compute
}

func concatRows(parts []*Tensor, rows int64) *Tensor {
	shape := append([]int64{rows}, parts[0].Shape[1:]...)
	out := &Tensor{Name: parts[0].Name, DType: parts[0].DType, Shape: shape}
	n := int(NumElements(shape))
	out.Data = MakeData(parts[0].DType, n)
	off := 0
	for _, p := range parts {
		off += copyData(out.Data, off, p.Data)
	}
	return out
}

func sliceRows(t *Tensor, from, to int64) *Tensor {
	row := NumElements(t.Shape[1:])
	shape := append([]int64{to - from}, t.Shape[1:]...)
	return &Tensor{Name: t.Name, DType: t.DType, Shape: shape, Data: subSlice(t.Data, int(from*row), int(to*row))}
}

func copyData(dst any, off int, src any) int {
	switch d := dst.(type) {
	case []bool:
		return copy(d[off:], src.([]bool))
	case []uint8:
		return copy(d[off:], src.([]uint8))
	case []uint16:
		return copy(d[off:], src.([]uint16))
	case []uint32:
		return copy(d[off:], src.([]uint32))
	case []uint64:
		return copy(d[off:], src.([]uint64))
	case []int8:
		return copy(d[off:], src.([]int8))
	case []int16:
		return copy(d[off:], src.([]int16))
	case []int32:
		return copy(d[off:], src.([]int32))
	case []int64:
		return copy(d[off:], src.([]int64))
	case []float32:
		return copy(d[off:], src.([]float32))
	case []float64:
		return copy(d[off:], src.([]float64))
	case []string:
		return copy(d[off:], src.([]string))
	}
	return 0
}

func subSlice(data any, from, to int) any {
	switch d := data.(type) {
	case []bool:
		return d[from:to:to]
	case []uint8:
		return d[from:to:to]
	case []uint16:
		return d[from:to:to]
	case []uint32:
		return d[from:to:to]
	case []uint64:
		return d[from:to:to]
	case []int8:
		return d[from:to:to]
	case []int16:
		return d[from:to:to]
	case []int32:
		return d[from:to:to]
	case []int64:
		return d[from:to:to]
	case []float32:
		return d[from:to:to]
	case []float64:
		return d[from:to:to]
	case []string:
		return d[from:to:to]
	}
	return nil
}

package mlos

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mlos-foundation/axon/schemas"
)

// TensorSpec is one model input or output as the execution plugin sees it.
// Shape holds -1 for dimensions that vary; DimNames their symbolic names
// where known ("" otherwise).
type TensorSpec struct {
	Name     string   `json:"name"`
	DType    DType    `json:"datatype"`
	Shape    []int64  `json:"shape"`
	DimNames []string `json:"-"`
}

// ShapeString renders the shape with symbolic names: [batch,3].
func (s TensorSpec) ShapeString() string {
	parts := make([]string, len(s.Shape))
	for i, d := range s.Shape {
		switch {
		case d >= 0:
			parts[i] = fmt.Sprint(d)
		case i < len(s.DimNames) && s.DimNames[i] != "":
			parts[i] = s.DimNames[i]
		default:
			parts[i] = "?"
		}
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// Backend is a loaded model, ready to run. Implementations must allow Run to
// be called from many goroutines at once (one shared session per model).
type Backend interface {
	Inputs() []TensorSpec
	Outputs() []TensorSpec
	// Run takes one tensor per input, in Inputs() order, already checked
	// against the specs, and returns one tensor per output in Outputs() order.
	Run(ctx context.Context, inputs []*Tensor) ([]*Tensor, error)
	Close() error
}

// Phases split an execution's time the way Triton's metrics do: preparing
// the inputs, running the model, and collecting the outputs.
type Phases struct {
	Input, Infer, Output time.Duration
}

// Total is the whole execution.
func (p Phases) Total() time.Duration { return p.Input + p.Infer + p.Output }

// PhasedBackend is a Backend that reports its phases; a plain Backend's run
// counts as inference time only.
type PhasedBackend interface {
	Backend
	RunPhased(ctx context.Context, inputs []*Tensor) ([]*Tensor, Phases, error)
}

func runPhased(ctx context.Context, b Backend, inputs []*Tensor) ([]*Tensor, Phases, error) {
	if pb, ok := b.(PhasedBackend); ok {
		return pb.RunPhased(ctx, inputs)
	}
	start := time.Now()
	outs, err := b.Run(ctx, inputs)
	return outs, Phases{Infer: time.Since(start)}, err
}

// LoadRequest is what a plugin gets to load one model.
type LoadRequest struct {
	Dir       string // the unpacked package
	ModelPath string // the model file inside Dir
	Manifest  *schemas.Manifest
	Threads   Threads
}

// Threads configures the execution plugin's thread pools (0 = its default).
type Threads struct {
	IntraOp int
	InterOp int
	// Spin lets idle intra-op threads busy-wait for the next run (ONNX
	// Runtime's own default). Off, they sleep: on a server the cores they
	// would spin on are decoding and answering HTTP requests.
	Spin bool
}

// Plugin loads models of one or more formats into Backends.
type Plugin interface {
	Name() string
	Formats() []string
	Load(ctx context.Context, req LoadRequest) (Backend, error)
}

var (
	pluginsMu sync.RWMutex
	plugins   = map[string]Plugin{}
)

// RegisterPlugin makes a plugin available for its formats; later registrations win.
func RegisterPlugin(p Plugin) {
	pluginsMu.Lock()
	defer pluginsMu.Unlock()
	for _, f := range p.Formats() {
		plugins[strings.ToLower(f)] = p
	}
}

// PluginFor returns the plugin registered for a format.
func PluginFor(format string) (Plugin, error) {
	pluginsMu.RLock()
	defer pluginsMu.RUnlock()
	if format == "" {
		format = "onnx"
	}
	if p, ok := plugins[strings.ToLower(format)]; ok {
		return p, nil
	}
	var known []string
	for f := range plugins {
		known = append(known, f)
	}
	sort.Strings(known)
	return nil, fmt.Errorf("no execution plugin for format %q (have: %s)", format, strings.Join(known, ", "))
}

package adapters

import (
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
)

// ErrVariant is returned when a repository's ONNX exports leave the choice open
// (only quantized or fp16 ones, and no --variant) or the asked one is not there.
var ErrVariant = errors.New("choose an ONNX variant")

// ONNXExport is one ONNX file a repository ships, as optimum, onnx-community,
// Xenova and transformers.js name them: onnx/model.onnx, onnx/model_q4.onnx,
// onnx/decoder_model_merged_fp16.onnx...
type ONNXExport struct {
	Path    string // repository path
	Graph   string // model | decoder_model_merged | decoder_model
	Variant string // fp32, fp16, q4, q4f16, quantized, int8, uint8, bnb4...
}

// Name is how --variant names the export when the graph is the default one
// (fp16), otherwise with its graph (decoder_model_merged_fp16).
func (e ONNXExport) Name() string {
	if e.Graph == "model" {
		return e.Variant
	}
	if e.Variant == "fp32" {
		return e.Graph
	}
	return e.Graph + "_" + e.Variant
}

// ONNXChoice is the export Select picked.
type ONNXChoice struct {
	ONNXExport
	Data []string // its external data files
}

// onnxGraphs are the single-file graphs an export ships, best first: the plain
// model, a merged decoder (with and without cache in one graph), a decoder alone.
var onnxGraphs = []string{"model", "decoder_model_merged", "decoder_model"}

// ONNXExports lists the repository's usable ONNX exports at the top level or in onnx/.
func ONNXExports(files []string) []ONNXExport {
	var out []ONNXExport
	for _, f := range files {
		dir, base := path.Split(f)
		if dir != "" && dir != "onnx/" {
			continue
		}
		stem, ok := strings.CutSuffix(base, ".onnx")
		if !ok {
			continue
		}
		for _, g := range onnxGraphs {
			if stem == g {
				out = append(out, ONNXExport{Path: f, Graph: g, Variant: "fp32"})
				break
			}
			if v, ok := strings.CutPrefix(stem, g+"_"); ok && v != "" && !strings.Contains(v, "with_past") {
				// decoder_model_merged_fp16 is not model "decoder_model" variant "merged_fp16".
				if g == "decoder_model" && strings.HasPrefix(v, "merged") {
					continue
				}
				out = append(out, ONNXExport{Path: f, Graph: g, Variant: v})
				break
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// ChooseONNX picks the export to install: the asked variant (its name, its
// dtype, or its path), else fp32 model.onnx, else fp32 decoder_model_merged.onnx,
// else fp32 decoder_model.onnx. nil when the repository ships no ONNX export.
// When only quantized or fp16 exports exist and none is asked for, the error
// lists them rather than picking one silently.
func ChooseONNX(files []string, variant string) (*ONNXChoice, error) {
	exports := ONNXExports(files)
	if len(exports) == 0 {
		if variant != "" {
			return nil, fmt.Errorf("%w: --variant %s given, but the repository ships no ONNX export", ErrVariant, variant)
		}
		return nil, nil
	}
	rank := func(e ONNXExport) int {
		for i, g := range onnxGraphs {
			if e.Graph == g {
				return i
			}
		}
		return len(onnxGraphs)
	}
	pick := func(match func(ONNXExport) bool) *ONNXExport {
		var best *ONNXExport
		for i := range exports {
			e := &exports[i]
			if !match(*e) {
				continue
			}
			// Same graph in onnx/ and at the top: the onnx/ one is the export.
			if best == nil || rank(*e) < rank(*best) || rank(*e) == rank(*best) && strings.HasPrefix(e.Path, "onnx/") {
				best = e
			}
		}
		return best
	}
	var chosen *ONNXExport
	if variant != "" {
		v := strings.TrimSuffix(strings.TrimPrefix(variant, "onnx/"), ".onnx")
		chosen = pick(func(e ONNXExport) bool {
			return e.Path == variant || e.Name() == v || strings.TrimSuffix(path.Base(e.Path), ".onnx") == v || e.Variant == v
		})
		if chosen == nil {
			return nil, fmt.Errorf("%w: no ONNX variant %q; the repository ships: %s", ErrVariant, variant, listExports(exports))
		}
	} else {
		chosen = pick(func(e ONNXExport) bool { return e.Variant == "fp32" })
		if chosen == nil {
			return nil, fmt.Errorf("%w: the repository ships only quantized or reduced-precision ONNX exports; pick one with --variant: %s", ErrVariant, listExports(exports))
		}
	}
	c := &ONNXChoice{ONNXExport: *chosen}
	dir, base := path.Split(chosen.Path)
	for _, f := range files {
		d, b := path.Split(f)
		// model.onnx_data, model.onnx.data, model.onnx_data_1: the export's external data.
		if d == dir && b != base && strings.HasPrefix(b, base) && !strings.HasSuffix(b, ".onnx") {
			c.Data = append(c.Data, f)
		}
	}
	sort.Strings(c.Data)
	return c, nil
}

func listExports(exports []ONNXExport) string {
	parts := make([]string, len(exports))
	for i, e := range exports {
		parts[i] = e.Name() + " (" + e.Path + ")"
	}
	return strings.Join(parts, ", ")
}

// SelectVariant is Select with the ONNX export chosen by ChooseONNX: the chosen
// file and its external data are fetched, no other export. choice is nil when the
// repository ships no ONNX export (then weights are selected for conversion).
func SelectVariant(files []string, include, exclude []string, variant string) ([]string, *ONNXChoice, error) {
	choice, err := ChooseONNX(files, variant)
	if err != nil {
		return nil, nil, err
	}
	if choice == nil {
		return Select(files, include, exclude), nil, nil
	}
	keep := map[string]bool{choice.Path: true}
	for _, d := range choice.Data {
		keep[d] = true
	}
	// Side files as Select keeps them next to an ONNX export; of the ONNX files
	// only the chosen export and its data.
	onnxDir := path.Dir(choice.Path) + "/"
	if onnxDir == "./" {
		onnxDir = "."
	}
	out := pick(files, include, exclude, func(f string) bool {
		if !isONNXFile(f) {
			return wanted(f, onnxDir, false)
		}
		return keep[f]
	})
	return out, choice, nil
}

func isONNXFile(f string) bool {
	lower := strings.ToLower(f)
	base := path.Base(lower)
	return strings.HasSuffix(lower, ".onnx") || strings.Contains(base, ".onnx_data") || strings.Contains(base, ".onnx.data")
}

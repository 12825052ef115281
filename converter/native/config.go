package native

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ErrUnsupported marks a model this converter does not handle (errors.Is);
// the message names what and the fallbacks.
var ErrUnsupported = errors.New("not supported by the native converter")

// Encoders and Decoders are the model_type values converted.
var (
	Encoders = []string{"bert", "roberta", "xlm-roberta", "distilbert"}
	Decoders = []string{"llama", "mistral", "qwen2", "qwen3", "gpt2"}
)

const fallback = "use --converter local (python3 with torch, transformers, optimum) or --converter docker"

func unsupported(format string, a ...any) error {
	return fmt.Errorf("%w: %s; %s", ErrUnsupported, fmt.Sprintf(format, a...), fallback)
}

// Config is the part of a transformers config.json the graphs are built from;
// the gpt2 and distilbert spellings are folded into the common fields by load.
type Config struct {
	ModelType         string            `json:"model_type"`
	Architectures     []string          `json:"architectures"`
	HiddenSize        int               `json:"hidden_size"`
	Layers            int               `json:"num_hidden_layers"`
	Heads             int               `json:"num_attention_heads"`
	KVHeads           int               `json:"num_key_value_heads"`
	HeadDim           int               `json:"head_dim"`
	Intermediate      int               `json:"intermediate_size"`
	HiddenAct         string            `json:"hidden_act"`
	LayerNormEps      float64           `json:"layer_norm_eps"`
	RMSNormEps        float64           `json:"rms_norm_eps"`
	Vocab             int               `json:"vocab_size"`
	MaxPositions      int               `json:"max_position_embeddings"`
	TypeVocab         int               `json:"type_vocab_size"`
	PadTokenID        *int              `json:"pad_token_id"`
	RopeTheta         float64           `json:"rope_theta"`
	RopeScaling       map[string]any    `json:"rope_scaling"`
	PartialRotary     *float64          `json:"partial_rotary_factor"`
	TieWordEmbeddings *bool             `json:"tie_word_embeddings"`
	AttentionBias     *bool             `json:"attention_bias"`
	MLPBias           bool              `json:"mlp_bias"`
	ID2Label          map[string]string `json:"id2label"`
	PositionEmbedType string            `json:"position_embedding_type"`
	Quantization      json.RawMessage   `json:"quantization_config"`
	// sliding-window attention (Mistral, Qwen2/3): see Sliding
	SlidingWindow    *int     `json:"sliding_window"`
	UseSlidingWindow *bool    `json:"use_sliding_window"`
	MaxWindowLayers  *int     `json:"max_window_layers"`
	LayerTypes       []string `json:"layer_types"`

	// distilbert
	Dim        int    `json:"dim"`
	NLayers    int    `json:"n_layers"`
	NHeads     int    `json:"n_heads"`
	HiddenDim  int    `json:"hidden_dim"`
	Activation string `json:"activation"`
	// gpt2
	NEmbd              int     `json:"n_embd"`
	NLayer             int     `json:"n_layer"`
	NHead              int     `json:"n_head"`
	NInner             *int    `json:"n_inner"`
	ActivationFunction string  `json:"activation_function"`
	LayerNormEpsilon   float64 `json:"layer_norm_epsilon"`
	ScaleByLayerIdx    bool    `json:"scale_attn_by_inverse_layer_idx"`
	ReorderUpcast      bool    `json:"reorder_and_upcast_attn"`
	ScaleAttnWeights   *bool   `json:"scale_attn_weights"`
}

// LoadConfig reads and normalises dir/config.json, refusing what the graphs cannot express.
func LoadConfig(dir string) (*Config, error) {
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, fmt.Errorf("native converter: %w", err)
	}
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("native converter: config.json: %w", err)
	}
	return &c, c.normalise()
}

// IsDecoder says whether the model is a causal LM (KV-cache graph).
func (c *Config) IsDecoder() bool { return slices.Contains(Decoders, c.ModelType) }

func (c *Config) normalise() error {
	if !slices.Contains(Encoders, c.ModelType) && !c.IsDecoder() {
		return unsupported("model_type %q is not one of %s", c.ModelType, strings.Join(append(append([]string{}, Encoders...), Decoders...), ", "))
	}
	if len(c.Quantization) > 0 && string(c.Quantization) != "null" {
		return unsupported("quantized checkpoints (quantization_config in config.json)")
	}
	switch c.ModelType {
	case "distilbert":
		c.HiddenSize, c.Layers, c.Heads, c.Intermediate, c.HiddenAct = c.Dim, c.NLayers, c.NHeads, c.HiddenDim, c.Activation
		// DistilBERT's LayerNorms use eps 1e-12 whatever the config says; a
		// sinusoidal_pos_embds table is stored in the checkpoint like a learned one.
		c.LayerNormEps = 1e-12
	case "gpt2":
		c.HiddenSize, c.Layers, c.Heads, c.HiddenAct, c.LayerNormEps = c.NEmbd, c.NLayer, c.NHead, c.ActivationFunction, c.LayerNormEpsilon
		c.Intermediate = 4 * c.NEmbd
		if c.NInner != nil && *c.NInner > 0 {
			c.Intermediate = *c.NInner
		}
		if c.LayerNormEps == 0 {
			c.LayerNormEps = 1e-5
		}
		if c.ScaleByLayerIdx || c.ReorderUpcast {
			return unsupported("gpt2 with scale_attn_by_inverse_layer_idx or reorder_and_upcast_attn")
		}
		if c.ScaleAttnWeights != nil && !*c.ScaleAttnWeights {
			return unsupported("gpt2 with scale_attn_weights false")
		}
	}
	if c.HiddenSize <= 0 || c.Layers <= 0 || c.Heads <= 0 || c.HiddenSize%c.Heads != 0 && c.HeadDim == 0 {
		return fmt.Errorf("native converter: config.json: bad sizes (hidden %d, layers %d, heads %d)", c.HiddenSize, c.Layers, c.Heads)
	}
	if c.HeadDim == 0 {
		c.HeadDim = c.HiddenSize / c.Heads
	}
	if c.KVHeads == 0 {
		c.KVHeads = c.Heads
	}
	if c.Heads%c.KVHeads != 0 {
		return fmt.Errorf("native converter: config.json: %d attention heads do not divide into %d key/value heads", c.Heads, c.KVHeads)
	}
	if c.LayerNormEps == 0 {
		c.LayerNormEps = 1e-12
	}
	if c.RMSNormEps == 0 {
		c.RMSNormEps = 1e-6
	}
	if c.RopeTheta == 0 {
		c.RopeTheta = 10000
	}
	if c.HiddenAct == "" {
		c.HiddenAct = "gelu"
		if c.IsDecoder() && c.ModelType != "gpt2" {
			c.HiddenAct = "silu"
		}
	}
	if _, ok := activations[c.HiddenAct]; !ok {
		return unsupported("activation %q", c.HiddenAct)
	}
	if c.PositionEmbedType != "" && c.PositionEmbedType != "absolute" {
		return unsupported("position_embedding_type %q (only absolute)", c.PositionEmbedType)
	}
	if err := c.checkSliding(); err != nil {
		return err
	}
	if c.PartialRotary != nil && *c.PartialRotary != 1 {
		return unsupported("partial_rotary_factor %v", *c.PartialRotary)
	}
	if c.IsDecoder() && c.ModelType != "gpt2" {
		if _, err := c.InvFreq(); err != nil {
			return err
		}
	}
	return nil
}

// Tied reports whether the LM head reuses the input embeddings, given whether
// the checkpoint holds a separate lm_head.weight.
func (c *Config) Tied(hasHead bool) bool {
	if !hasHead {
		return true
	}
	if c.TieWordEmbeddings != nil {
		return *c.TieWordEmbeddings
	}
	return c.ModelType == "gpt2"
}

// Labels are id2label in id order, nil when absent.
func (c *Config) Labels() []string {
	if len(c.ID2Label) == 0 {
		return nil
	}
	out := make([]string, len(c.ID2Label))
	for k, v := range c.ID2Label {
		var i int
		if _, err := fmt.Sscan(k, &i); err != nil || i < 0 || i >= len(out) {
			return nil
		}
		out[i] = v
	}
	return out
}

// Sliding returns the attention window of decoder layer l, 0 for full
// attention, as transformers decides it: an explicit layer_types list
// ("sliding_attention" / "full_attention") wins; else Mistral slides every
// layer when sliding_window is set, and Qwen2/Qwen3 slide layers from
// max_window_layers on when use_sliding_window is true. A query at position i
// then sees key j only when i-j < window.
func (c *Config) Sliding(l int) int {
	if c.SlidingWindow == nil || *c.SlidingWindow <= 0 {
		return 0
	}
	w := *c.SlidingWindow
	if len(c.LayerTypes) > 0 {
		if l < len(c.LayerTypes) && c.LayerTypes[l] == "sliding_attention" {
			return w
		}
		return 0
	}
	switch c.ModelType {
	case "mistral":
		return w
	case "qwen2", "qwen3":
		if c.UseSlidingWindow == nil || !*c.UseSlidingWindow {
			return 0
		}
		first := 28 // transformers' default max_window_layers
		if c.MaxWindowLayers != nil {
			first = *c.MaxWindowLayers
		}
		if l < first {
			return 0
		}
		return w
	}
	return 0
}

func (c *Config) checkSliding() error {
	if len(c.LayerTypes) == 0 {
		return nil
	}
	if len(c.LayerTypes) != c.Layers {
		return fmt.Errorf("native converter: config.json: layer_types has %d entries for %d layers", len(c.LayerTypes), c.Layers)
	}
	for _, t := range c.LayerTypes {
		if t != "sliding_attention" && t != "full_attention" {
			return unsupported("layer type %q (only full_attention and sliding_attention)", t)
		}
	}
	return nil
}

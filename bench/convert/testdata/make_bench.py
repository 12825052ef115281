"""Benchmark models for bench/convert: a BERT encoder and a Llama decoder with
random weights in the transformers state-dict layout, written as safetensors,
and the torch.onnx export of torch modules (transformers' semantics) holding
the very same weights, so ONNX Runtime can time both graphs.
Usage: make_bench.py OUTDIR LLAMA_LAYERS."""
import json, math, os, struct, sys
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
MIN = torch.finfo(torch.float32).min
out, llama_layers = sys.argv[1], int(sys.argv[2])


def write_safetensors(path, sd):
    header, off = {"__metadata__": {"format": "pt"}}, 0
    names = sorted(sd)
    for n in names:
        size = sd[n].numel() * 4
        header[n] = {"dtype": "F32", "shape": list(sd[n].shape), "data_offsets": [off, off + size]}
        off += size
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for n in names:
            f.write(sd[n].contiguous().numpy().tobytes())


class Holder(nn.Module):
    def __init__(self, sd):
        super().__init__()
        self.names = {}
        for i, (n, t) in enumerate(sorted(sd.items())):
            self.register_buffer(f"w{i}", t)
            self.names[n] = f"w{i}"

    def w(self, n):
        return getattr(self, self.names[n])

    def lin(self, n, x, bias=True):
        y = x @ self.w(n + ".weight").t()
        return y + self.w(n + ".bias") if bias else y


# ------------------------------------------------------------------ BERT
H, NH, NL, I, V, P = 256, 4, 4, 1024, 8000, 512
sd = {"embeddings.word_embeddings.weight": torch.randn(V, H) * 0.02, "embeddings.position_embeddings.weight": torch.randn(P, H) * 0.02,
      "embeddings.token_type_embeddings.weight": torch.randn(2, H) * 0.02, "embeddings.LayerNorm.weight": torch.ones(H), "embeddings.LayerNorm.bias": torch.zeros(H)}
for l in range(NL):
    lp = f"encoder.layer.{l}."
    for n, o, i in [("attention.self.query", H, H), ("attention.self.key", H, H), ("attention.self.value", H, H), ("attention.output.dense", H, H), ("intermediate.dense", I, H), ("output.dense", H, I)]:
        sd[lp + n + ".weight"], sd[lp + n + ".bias"] = torch.randn(o, i) * 0.02, torch.zeros(o)
    for n in ["attention.output.LayerNorm", "output.LayerNorm"]:
        sd[lp + n + ".weight"], sd[lp + n + ".bias"] = torch.ones(H), torch.zeros(H)
cfg = {"model_type": "bert", "architectures": ["BertModel"], "hidden_size": H, "num_hidden_layers": NL, "num_attention_heads": NH,
       "intermediate_size": I, "hidden_act": "gelu", "layer_norm_eps": 1e-12, "vocab_size": V, "max_position_embeddings": P, "type_vocab_size": 2}


class Bert(Holder):
    def forward(self, input_ids, attention_mask, token_type_ids):
        B, S = input_ids.shape
        D = H // NH
        pos = torch.arange(S, device=input_ids.device)
        x = self.w("embeddings.word_embeddings.weight")[input_ids] + self.w("embeddings.position_embeddings.weight")[pos] + self.w("embeddings.token_type_embeddings.weight")[token_type_ids]
        x = F.layer_norm(x, (H,), self.w("embeddings.LayerNorm.weight"), self.w("embeddings.LayerNorm.bias"), 1e-12)
        ext = (1.0 - attention_mask[:, None, None, :].float()) * MIN
        for l in range(NL):
            lp = f"encoder.layer.{l}."
            sh = lambda t: t.view(B, S, NH, D).permute(0, 2, 1, 3)
            q, k, v = sh(self.lin(lp + "attention.self.query", x)), sh(self.lin(lp + "attention.self.key", x)), sh(self.lin(lp + "attention.self.value", x))
            p = F.softmax(q @ k.transpose(-1, -2) / math.sqrt(D) + ext, dim=-1)
            ctx = (p @ v).permute(0, 2, 1, 3).reshape(B, S, H)
            x = F.layer_norm(self.lin(lp + "attention.output.dense", ctx) + x, (H,), self.w(lp + "attention.output.LayerNorm.weight"), self.w(lp + "attention.output.LayerNorm.bias"), 1e-12)
            f = self.lin(lp + "output.dense", F.gelu(self.lin(lp + "intermediate.dense", x)))
            x = F.layer_norm(f + x, (H,), self.w(lp + "output.LayerNorm.weight"), self.w(lp + "output.LayerNorm.bias"), 1e-12)
        return x


d = os.path.join(out, "bert")
os.makedirs(d, exist_ok=True)
json.dump(cfg, open(os.path.join(d, "config.json"), "w"))
write_safetensors(os.path.join(d, "model.safetensors"), sd)
ids = torch.randint(0, V, (1, 16))
with torch.no_grad():
    torch.onnx.export(Bert(sd), (ids, torch.ones_like(ids), torch.zeros_like(ids)), os.path.join(out, "bert-torch.onnx"), opset_version=17,
                      input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["last_hidden_state"],
                      dynamic_axes={n: {0: "batch", 1: "sequence"} for n in ["input_ids", "attention_mask", "token_type_ids", "last_hidden_state"]})

# ------------------------------------------------------------------ Llama
H, NH, KV, NL, I, V = 1024, 16, 4, llama_layers, 2816, 32000
D = H // NH
sd = {"model.embed_tokens.weight": torch.randn(V, H) * 0.02, "model.norm.weight": torch.ones(H), "lm_head.weight": torch.randn(V, H) * 0.02}
for l in range(NL):
    lp = f"model.layers.{l}."
    sd[lp + "input_layernorm.weight"], sd[lp + "post_attention_layernorm.weight"] = torch.ones(H), torch.ones(H)
    for n, o, i in [("self_attn.q_proj", NH * D, H), ("self_attn.k_proj", KV * D, H), ("self_attn.v_proj", KV * D, H), ("self_attn.o_proj", H, NH * D),
                    ("mlp.gate_proj", I, H), ("mlp.up_proj", I, H), ("mlp.down_proj", H, I)]:
        sd[lp + n + ".weight"] = torch.randn(o, i) * 0.02
cfg = {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": H, "num_hidden_layers": NL, "num_attention_heads": NH,
       "num_key_value_heads": KV, "intermediate_size": I, "vocab_size": V, "max_position_embeddings": 4096, "hidden_act": "silu",
       "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "tie_word_embeddings": False}
inv = 1.0 / (10000.0 ** (torch.arange(0, D, 2, dtype=torch.int64).float() / D))


def rms(x, w):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6))


def rot(x):
    return torch.cat((-x[..., D // 2:], x[..., : D // 2]), dim=-1)


class Llama(Holder):
    def __init__(self, sd):
        super().__init__(sd)
        self.register_buffer("inv", inv)

    def forward(self, input_ids, attention_mask, position_ids, *past):
        B, S = input_ids.shape
        T = attention_mask.shape[1]
        x = self.w("model.embed_tokens.weight")[input_ids]
        freqs = position_ids[:, :, None].float() * self.inv
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos()[:, None], emb.sin()[:, None]
        kpos = torch.arange(T)[None, :]
        qpos = torch.arange(S)[:, None] + (T - S)
        allowed = (kpos <= qpos)[None, None] & attention_mask[:, None, None, :].bool()
        bias = torch.where(allowed, torch.tensor(0.0), torch.tensor(MIN))
        presents = []
        for l in range(NL):
            lp = f"model.layers.{l}."
            h = rms(x, self.w(lp + "input_layernorm.weight"))
            q = self.lin(lp + "self_attn.q_proj", h, False).view(B, S, NH, D).transpose(1, 2)
            k = self.lin(lp + "self_attn.k_proj", h, False).view(B, S, KV, D).transpose(1, 2)
            v = self.lin(lp + "self_attn.v_proj", h, False).view(B, S, KV, D).transpose(1, 2)
            q, k = q * cos + rot(q) * sin, k * cos + rot(k) * sin
            k = torch.cat([past[2 * l], k], dim=2)
            v = torch.cat([past[2 * l + 1], v], dim=2)
            presents += [k, v]
            kr = k[:, :, None].expand(B, KV, NH // KV, T, D).reshape(B, NH, T, D)
            vr = v[:, :, None].expand(B, KV, NH // KV, T, D).reshape(B, NH, T, D)
            p = F.softmax(q @ kr.transpose(2, 3) * D ** -0.5 + bias, dim=-1)
            ctx = (p @ vr).transpose(1, 2).reshape(B, S, H)
            x = x + self.lin(lp + "self_attn.o_proj", ctx, False)
            h = rms(x, self.w(lp + "post_attention_layernorm.weight"))
            x = x + self.lin(lp + "mlp.down_proj", F.silu(self.lin(lp + "mlp.gate_proj", h, False)) * self.lin(lp + "mlp.up_proj", h, False), False)
        x = rms(x, self.w("model.norm.weight"))
        return (x @ self.w("lm_head.weight").t(), *presents)


d = os.path.join(out, "llama")
os.makedirs(d, exist_ok=True)
json.dump(cfg, open(os.path.join(d, "config.json"), "w"))
write_safetensors(os.path.join(d, "model.safetensors"), sd)
ids = torch.randint(0, V, (1, 4))
past = [torch.zeros(1, KV, 3, D) for _ in range(2 * NL)]
names_in = ["input_ids", "attention_mask", "position_ids"] + [f"past_key_values.{l}.{kv}" for l in range(NL) for kv in ("key", "value")]
names_out = ["logits"] + [f"present.{l}.{kv}" for l in range(NL) for kv in ("key", "value")]
dyn = {"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "total"}, "position_ids": {0: "batch", 1: "sequence"}, "logits": {0: "batch", 1: "sequence"}}
for n in names_in[3:]:
    dyn[n] = {0: "batch", 2: "past"}
for n in names_out[1:]:
    dyn[n] = {0: "batch", 2: "total"}
with torch.no_grad():
    torch.onnx.export(Llama(sd), (ids, torch.ones(1, 7, dtype=torch.int64), torch.arange(3, 7)[None], *past), os.path.join(out, "llama-torch.onnx"),
                      opset_version=17, input_names=names_in, output_names=names_out, dynamic_axes=dyn)

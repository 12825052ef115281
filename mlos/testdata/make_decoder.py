"""Builds the runtime's decoder fixtures with plain torch (no transformers).

A tiny llama-like causal LM (learned positions indexed by position_ids,
pre-norm attention + MLP, 2 layers) exported with the input and output names
Hugging Face optimum uses for `text-generation-with-past`:

  input_ids, attention_mask, position_ids            int64 [batch, sequence]
  past_key_values.{i}.key / .value   [batch, kv_heads, past_sequence_length, head_dim]
  → logits float32 [batch, sequence, vocab], present.{i}.key / .value

Variants (same weights within one kv-head count):
- nocache.onnx:  input_ids/attention_mask/position_ids → logits only;
- cache.onnx:    fp32 past/present, 4 heads, 4 kv heads;
- fp16.onnx:     like cache.onnx with float16 past/present (computed in fp32);
- gqa.onnx:      4 heads, 2 kv heads (grouped-query attention), fp32;
- broken.onnx:   cache.onnx with present.1.value renamed (a cache that cannot
  be fed back: refused at register time);
- merged.onnx:   built like optimum's decoder_model_merged.onnx: one If node on
  a bool `use_cache_branch` [1] input whose then-branch is the with-past graph
  (cache.onnx) and whose else-branch is a graph without past inputs that
  still outputs present.* (the prefill), sharing the weights.

reference.json holds, for each prompt (token ids, given in PROMPTS.json),
the greedy tokens of a torch loop that recomputes the whole sequence each
step without a cache (fp32), for the 4-kv-head and the 2-kv-head weights,
plus the greedy tokens of a torch loop that keeps a float16-rounded cache
(the fp16 variant's reference).

With a third argument `bench`, writes only bench.onnx (the cache layout,
fp32) and its config.json for benchmarks: 4 layers, hidden 256, 8 heads
(4 kv heads), 512 positions.

Usage: make_decoder.py OUTDIR PROMPTS.json [bench]
"""
import json
import math
import os
import sys

import torch
from torch import nn

VOCAB = 912
HIDDEN = 64
HEADS = 4
HEAD_DIM = HIDDEN // HEADS
LAYERS = 2
MAX_POS = 128
EOS = 2
MAX_NEW = 24


class RMSNorm(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.w = nn.Parameter(torch.ones(n) + 0.1 * torch.randn(n))

    def forward(self, x):
        return self.w * x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6)


class Layer(nn.Module):
    def __init__(self, kv):
        super().__init__()
        self.kv = kv
        self.q = nn.Linear(HIDDEN, HEADS * HEAD_DIM, bias=False)
        self.k = nn.Linear(HIDDEN, kv * HEAD_DIM, bias=False)
        self.v = nn.Linear(HIDDEN, kv * HEAD_DIM, bias=False)
        self.o = nn.Linear(HEADS * HEAD_DIM, HIDDEN, bias=False)
        self.n1, self.n2 = RMSNorm(HIDDEN), RMSNorm(HIDDEN)
        self.up, self.down = nn.Linear(HIDDEN, 4 * HIDDEN), nn.Linear(4 * HIDDEN, HIDDEN)

    def forward(self, h, past_k, past_v, mask):
        b, s = h.size(0), h.size(1)
        x = self.n1(h)
        q = self.q(x).view(b, s, HEADS, HEAD_DIM).transpose(1, 2)
        k = self.k(x).view(b, s, self.kv, HEAD_DIM).transpose(1, 2)
        v = self.v(x).view(b, s, self.kv, HEAD_DIM).transpose(1, 2)
        k = torch.cat([past_k, k], dim=2)
        v = torch.cat([past_v, v], dim=2)
        rep = HEADS // self.kv
        kk, vv = k, v
        if rep > 1:
            # repeat_interleave over heads, written so the export keeps the
            # past length dynamic.
            kk = k.unsqueeze(2).expand(-1, -1, rep, -1, -1).flatten(1, 2)
            vv = v.unsqueeze(2).expand(-1, -1, rep, -1, -1).flatten(1, 2)
        scores = torch.matmul(q, kk.transpose(-1, -2)) / math.sqrt(HEAD_DIM) + mask
        ctx = torch.matmul(torch.softmax(scores, dim=-1), vv).transpose(1, 2).reshape(b, s, HIDDEN)
        h = h + self.o(ctx)
        return h + self.down(nn.functional.gelu(self.up(self.n2(h)))), k, v


class TinyDecoder(nn.Module):
    def __init__(self, kv, cache=True, half=False, nopast=False):
        super().__init__()
        self.kv, self.cache, self.half, self.nopast = kv, cache, half, nopast
        self.word, self.pos = nn.Embedding(VOCAB, HIDDEN), nn.Embedding(MAX_POS, HIDDEN)
        self.layers = nn.ModuleList(Layer(kv) for _ in range(LAYERS))
        self.norm = RMSNorm(HIDDEN)
        self.head = nn.Linear(HIDDEN, VOCAB, bias=False)

    def core(self, input_ids, attention_mask, position_ids, past):
        b, s = input_ids.size(0), input_ids.size(1)
        h = self.word(input_ids) + self.pos(position_ids)
        past_len = past[0].size(2)
        total = past_len + s
        q_pos = torch.arange(s).unsqueeze(1) + past_len
        k_pos = torch.arange(total).unsqueeze(0)
        causal = (k_pos <= q_pos).unsqueeze(0).unsqueeze(0)
        keep = causal & (attention_mask[:, None, None, :] > 0)
        mask = (~keep).float() * -1e9
        presents = []
        for i, layer in enumerate(self.layers):
            h, k, v = layer(h, past[2 * i], past[2 * i + 1], mask)
            presents += [k, v]
        return self.head(self.norm(h)), presents

    def forward(self, input_ids, attention_mask, position_ids, *rest):
        if not self.cache:
            b = input_ids.size(0)
            empty = torch.zeros(b, self.kv, 0, HEAD_DIM)
            logits, _ = self.core(input_ids, attention_mask, position_ids, [empty] * (2 * LAYERS))
            return logits
        if self.nopast:
            b = input_ids.size(0)
            past = [torch.zeros(b, self.kv, 0, HEAD_DIM)] * (2 * LAYERS)
        else:
            past = list(rest[: 2 * LAYERS])
        if self.half:
            past = [p.float() for p in past]
        logits, presents = self.core(input_ids, attention_mask, position_ids, past)
        if self.half:
            presents = [p.half() for p in presents]
        return (logits, *presents)


def merge_if(with_past, no_past, path):
    """optimum's merged decoder: If(use_cache_branch) with-past : no-past."""
    import onnx
    from onnx import helper, TensorProto

    main_inputs = {"input_ids", "attention_mask", "position_ids"}
    a, b = onnx.load(with_past), onnx.load(no_past)

    def branch(g, tag):
        keep = {i.name for i in g.input}
        ren = lambda n: n if (n in keep or n == "") else f"{tag}/{n}"
        for init in g.initializer:
            init.name = ren(init.name)
        for node in g.node:
            node.name = ren(node.name) if node.name else node.name
            node.input[:] = [ren(n) for n in node.input]
            node.output[:] = [ren(n) for n in node.output]
        outs = []
        for o in g.output:
            v = onnx.ValueInfoProto()
            v.CopyFrom(o)
            v.name = ren(o.name)
            outs.append(v)
        return helper.make_graph(list(g.node), f"{tag}_branch", [], outs), list(g.initializer)

    then_g, then_init = branch(a.graph, "with_past")
    else_g, else_init = branch(b.graph, "no_past")
    cond = helper.make_tensor_value_info("use_cache_branch", TensorProto.BOOL, [1])
    node = helper.make_node("If", ["use_cache_branch"], [o.name for o in a.graph.output],
                            then_branch=then_g, else_branch=else_g, name="optimum::if")
    outputs = []
    for o in a.graph.output:
        v = onnx.ValueInfoProto()
        v.CopyFrom(o)
        outputs.append(v)
    g = helper.make_graph([node], "merged", list(a.graph.input) + [cond], outputs, then_init + else_init)
    m = helper.make_model(g, opset_imports=a.opset_import)
    m.ir_version = a.ir_version
    onnx.checker.check_model(m)
    onnx.save(m, path)


def greedy_nocache(model, prompt):
    seq, new = list(prompt), []
    for _ in range(MAX_NEW):
        x = torch.tensor([seq])
        logits = model(x, torch.ones_like(x), torch.arange(len(seq)).unsqueeze(0))
        nxt = int(logits[0, -1].argmax())
        if nxt == EOS:
            break
        seq.append(nxt)
        new.append(nxt)
    return new


def greedy_half_cache(model, prompt):
    past = [torch.zeros(1, model.kv, 0, HEAD_DIM, dtype=torch.float16) for _ in range(2 * LAYERS)]
    ids, new, n = list(prompt), [], 0
    while len(new) < MAX_NEW:
        x = torch.tensor([ids])
        pos = torch.arange(n, n + len(ids)).unsqueeze(0)
        mask = torch.ones(1, n + len(ids), dtype=torch.int64)
        out = model(x, mask, pos, *past)
        n += len(ids)
        past = list(out[1:])
        nxt = int(out[0][0, -1].argmax())
        if nxt == EOS:
            break
        new.append(nxt)
        ids = [nxt]
    return new


def export(model, path, rename=None):
    b, s, p = 1, 3, 2
    x = torch.randint(3, VOCAB, (b, s))
    mask = torch.ones(b, p + s, dtype=torch.int64)
    pos = torch.arange(p, p + s).unsqueeze(0)
    names = ["input_ids", "attention_mask", "position_ids"]
    dyn = {"input_ids": {0: "batch_size", 1: "sequence_length"},
           "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
           "position_ids": {0: "batch_size", 1: "sequence_length"},
           "logits": {0: "batch_size", 1: "sequence_length"}}
    outs = ["logits"]
    args = [x, mask, pos]
    if model.cache:
        dt = torch.float16 if model.half else torch.float32
        for i in range(LAYERS):
            for kind in ("key", "value"):
                n = f"past_key_values.{i}.{kind}"
                if not model.nopast:
                    names.append(n)
                    args.append(torch.randn(b, model.kv, p, HEAD_DIM).to(dt))
                    dyn[n] = {0: "batch_size", 2: "past_sequence_length"}
                o = f"present.{i}.{kind}"
                outs.append(o)
                dyn[o] = {0: "batch_size", 2: "total_sequence_length"}
        if model.nopast:
            mask = torch.ones(b, s, dtype=torch.int64)
            pos = torch.arange(s).unsqueeze(0)
            args = [x, mask, pos]
    else:
        dyn["attention_mask"] = {0: "batch_size", 1: "sequence_length"}
        mask = torch.ones(b, s, dtype=torch.int64)
        pos = torch.arange(s).unsqueeze(0)
        args = [x, mask, pos]
    if rename:
        outs = [rename.get(o, o) for o in outs]
        dyn = {rename.get(k, k): v for k, v in dyn.items()}
    torch.onnx.export(model, tuple(args), path, input_names=names, output_names=outs,
                      dynamic_axes=dyn, opset_version=14)


def main_bench(out):
    global HIDDEN, HEADS, HEAD_DIM, LAYERS, MAX_POS
    HIDDEN, HEADS, LAYERS, MAX_POS = 256, 8, 4, 512
    HEAD_DIM = HIDDEN // HEADS
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(5)
    model = TinyDecoder(4).eval()
    with torch.no_grad():
        export(model, os.path.join(out, "bench.onnx"))
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump({"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": VOCAB,
                   "hidden_size": HIDDEN, "num_attention_heads": HEADS, "num_key_value_heads": 4,
                   "head_dim": HEAD_DIM, "num_hidden_layers": LAYERS, "max_position_embeddings": MAX_POS,
                   "bos_token_id": 1, "eos_token_id": EOS}, f)
    with open(os.path.join(out, "reference.json"), "w") as f:
        json.dump({}, f)


def main(out, prompts_path):
    with open(prompts_path) as f:
        prompts = json.load(f)
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(1234)
    mha = TinyDecoder(4).eval()
    torch.manual_seed(99)
    gqa = TinyDecoder(2).eval()
    ref = {"prompts": prompts, "max_new_tokens": MAX_NEW, "eos": EOS, "mha": [], "gqa": [], "fp16": []}
    with torch.no_grad():
        nocache = TinyDecoder(4, cache=False).eval()
        nocache.load_state_dict(mha.state_dict())
        half = TinyDecoder(4, half=True).eval()
        half.load_state_dict(mha.state_dict())
        nopast = TinyDecoder(4, nopast=True).eval()
        nopast.load_state_dict(mha.state_dict())
        gqa_nocache = TinyDecoder(2, cache=False).eval()
        gqa_nocache.load_state_dict(gqa.state_dict())
        for p in prompts:
            ref["mha"].append(greedy_nocache(nocache, p))
            ref["gqa"].append(greedy_nocache(gqa_nocache, p))
            ref["fp16"].append(greedy_half_cache(half, p))
        export(nocache, os.path.join(out, "nocache.onnx"))
        export(mha, os.path.join(out, "cache.onnx"))
        export(half, os.path.join(out, "fp16.onnx"))
        export(gqa, os.path.join(out, "gqa.onnx"))
        export(nopast, os.path.join(out, "nopast.onnx"))
        merge_if(os.path.join(out, "cache.onnx"), os.path.join(out, "nopast.onnx"), os.path.join(out, "merged.onnx"))
        os.remove(os.path.join(out, "nopast.onnx"))
        export(mha, os.path.join(out, "broken.onnx"), rename={"present.1.value": "present_1_value"})
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump({"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": VOCAB,
                   "hidden_size": HIDDEN, "num_attention_heads": HEADS, "num_key_value_heads": 4,
                   "num_hidden_layers": LAYERS, "max_position_embeddings": MAX_POS,
                   "bos_token_id": 1, "eos_token_id": EOS}, f)
    with open(os.path.join(out, "reference.json"), "w") as f:
        json.dump(ref, f)


if __name__ == "__main__":
    if len(sys.argv) > 3 and sys.argv[3] == "bench":
        main_bench(sys.argv[1])
    else:
        main(sys.argv[1], sys.argv[2])

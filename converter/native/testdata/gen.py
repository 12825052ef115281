"""Builds tiny random-weight Hugging Face checkpoints of every architecture the
native converter handles, in the exact transformers state-dict layout, written
as safetensors by hand (8-byte header length, JSON header, raw data), with
reference outputs from torch forwards written to transformers' modeling
semantics (eager attention). Usage: gen.py OUTDIR [case ...]; writes
OUTDIR/<case>/{config.json, model.safetensors | shards + index, ref.json}."""
import json, math, os, struct, sys
import torch
import torch.nn.functional as F

torch.manual_seed(0)
MIN = torch.finfo(torch.float32).min


def write_safetensors(path, sd, dtype=torch.float32):
    header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(sd):
        t = sd[name].to(dtype).contiguous()
        if dtype == torch.bfloat16:
            raw, code = t.view(torch.int16).numpy().tobytes(), "BF16"
        elif dtype == torch.float16:
            raw, code = t.numpy().tobytes(), "F16"
        else:
            raw, code = t.numpy().tobytes(), "F32"
        header[name] = {"dtype": code, "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def rnd(*shape, std=0.3):
    return torch.randn(*shape) * std


def ln_params(sd, name, n):
    sd[name + ".weight"] = 1 + rnd(n, std=0.1)
    sd[name + ".bias"] = rnd(n, std=0.1)


def lin(sd, name, out, inp, bias=True):
    sd[name + ".weight"] = rnd(out, inp)
    if bias:
        sd[name + ".bias"] = rnd(out, std=0.1)


def act(kind, x):
    if kind == "gelu":
        return F.gelu(x)
    if kind in ("gelu_new", "gelu_pytorch_tanh", "gelu_fast"):
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))
    if kind == "relu":
        return F.relu(x)
    return F.silu(x)


def L(sd, name, x, bias=True):
    y = x @ sd[name + ".weight"].T
    return y + sd[name + ".bias"] if bias and name + ".bias" in sd else y


def LN(sd, name, x, eps):
    return F.layer_norm(x, x.shape[-1:], sd[name + ".weight"], sd[name + ".bias"], eps)


# ---------------------------------------------------------------- encoders

def encoder(mt, act_kind, eps, head, labels=3):
    H, NH, NL, I, V, P = 32, 4, 2, 64, 100, 40
    sd = {}
    distil = mt == "distilbert"
    roberta = mt in ("roberta", "xlm-roberta")
    p = {"bert": "bert.", "roberta": "roberta.", "xlm-roberta": "roberta.", "distilbert": "distilbert."}[mt] if head != "base" else ""
    sd[p + "embeddings.word_embeddings.weight"] = rnd(V, H)
    sd[p + "embeddings.position_embeddings.weight"] = rnd(P, H)
    if not distil:
        sd[p + "embeddings.token_type_embeddings.weight"] = rnd(2 if mt == "bert" else 1, H)
    ln_params(sd, p + "embeddings.LayerNorm", H)
    for l in range(NL):
        if distil:
            lp = p + f"transformer.layer.{l}."
            names = [lp + "attention.q_lin", lp + "attention.k_lin", lp + "attention.v_lin", lp + "attention.out_lin", lp + "sa_layer_norm", lp + "ffn.lin1", lp + "ffn.lin2", lp + "output_layer_norm"]
        else:
            lp = p + f"encoder.layer.{l}."
            names = [lp + "attention.self.query", lp + "attention.self.key", lp + "attention.self.value", lp + "attention.output.dense", lp + "attention.output.LayerNorm", lp + "intermediate.dense", lp + "output.dense", lp + "output.LayerNorm"]
        for n in names[:4]:
            lin(sd, n, H, H)
        ln_params(sd, names[4], H)
        lin(sd, names[5], I, H)
        lin(sd, names[6], H, I)
        ln_params(sd, names[7], H)
    if head == "seq":
        if distil:
            lin(sd, "pre_classifier", H, H)
            lin(sd, "classifier", labels, H)
        elif roberta:
            lin(sd, "classifier.dense", H, H)
            lin(sd, "classifier.out_proj", labels, H)
        else:
            lin(sd, p + "pooler.dense", H, H)
            lin(sd, "classifier", labels, H)
    elif head == "tok":
        lin(sd, "classifier", labels, H)
    elif mt == "bert":
        lin(sd, "pooler.dense", H, H)  # BertModel checkpoints carry the pooler; the base graph ignores it
    suffix = {"base": "Model", "seq": "ForSequenceClassification", "tok": "ForTokenClassification"}[head]
    cls = {"bert": "Bert", "roberta": "Roberta", "xlm-roberta": "XLMRoberta", "distilbert": "DistilBert"}[mt] + suffix
    cfg = {"model_type": mt, "architectures": [cls], "vocab_size": V, "max_position_embeddings": P}
    if distil:
        cfg.update(dim=H, n_layers=NL, n_heads=NH, hidden_dim=I, activation=act_kind)
    else:
        cfg.update(hidden_size=H, num_hidden_layers=NL, num_attention_heads=NH, intermediate_size=I, hidden_act=act_kind,
                   layer_norm_eps=eps, type_vocab_size=2 if mt == "bert" else 1, pad_token_id=1 if roberta else 0)
    if head != "base":
        cfg["id2label"] = {str(i): f"LABEL_{chr(65 + i)}" for i in range(labels)}
        cfg["label2id"] = {v: int(k) for k, v in cfg["id2label"].items()}
    if distil:
        eps = 1e-12

    ids = torch.tensor([[0, 5, 17, 42, 8, 99, 2], [0, 33, 7, 2, 1, 1, 1]])
    mask = torch.tensor([[1] * 7, [1, 1, 1, 1, 0, 0, 0]])
    tt = torch.tensor([[0, 0, 0, 1, 1, 1, 1], [0, 0, 1, 1, 0, 0, 0]]) if mt == "bert" else torch.zeros_like(ids)
    B, S = ids.shape
    D = H // NH
    x = sd[p + "embeddings.word_embeddings.weight"][ids]
    if roberta:
        m = ids.ne(1).int()
        pos = (torch.cumsum(m, dim=1).type_as(m) * m).long() + 1
    else:
        pos = torch.arange(S)[None].expand(B, S)
    x = x + sd[p + "embeddings.position_embeddings.weight"][pos]
    if not distil:
        x = x + sd[p + "embeddings.token_type_embeddings.weight"][tt]
    x = LN(sd, p + "embeddings.LayerNorm", x, eps)
    ext = (1.0 - mask[:, None, None, :].float()) * MIN
    for l in range(NL):
        if distil:
            lp = p + f"transformer.layer.{l}."
            q, k, v, o, ln1, up, down, ln2 = [lp + s for s in ["attention.q_lin", "attention.k_lin", "attention.v_lin", "attention.out_lin", "sa_layer_norm", "ffn.lin1", "ffn.lin2", "output_layer_norm"]]
        else:
            lp = p + f"encoder.layer.{l}."
            q, k, v, o, ln1, up, down, ln2 = [lp + s for s in ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense", "attention.output.LayerNorm", "intermediate.dense", "output.dense", "output.LayerNorm"]]
        sh = lambda t: t.view(B, S, NH, D).permute(0, 2, 1, 3)
        qh, kh, vh = sh(L(sd, q, x)), sh(L(sd, k, x)), sh(L(sd, v, x))
        if distil:
            scores = (qh / math.sqrt(D)) @ kh.transpose(2, 3)
            scores = scores.masked_fill((mask == 0).view(B, 1, 1, S), MIN)
        else:
            scores = qh @ kh.transpose(-1, -2) / math.sqrt(D) + ext
        ctx = (F.softmax(scores, dim=-1) @ vh).permute(0, 2, 1, 3).reshape(B, S, H)
        x = LN(sd, ln1, L(sd, o, ctx) + x, eps)
        x = LN(sd, ln2, L(sd, down, act(act_kind, L(sd, up, x))) + x, eps)
    if head == "base":
        out = {"last_hidden_state": x}
    elif head == "tok":
        out = {"logits": L(sd, "classifier", x)}
    else:
        c = x[:, 0]
        if distil:
            logits = L(sd, "classifier", F.relu(L(sd, "pre_classifier", c)))
        elif roberta:
            logits = L(sd, "classifier.out_proj", torch.tanh(L(sd, "classifier.dense", c)))
        else:
            logits = L(sd, "classifier", torch.tanh(L(sd, p + "pooler.dense", c)))
        out = {"logits": logits}
    inputs = {"input_ids": ids, "attention_mask": mask}
    if mt == "bert":
        inputs["token_type_ids"] = tt
    return cfg, sd, inputs, out


# ---------------------------------------------------------------- decoders

def rope_inv_freq(cfg, D):
    base = cfg.get("rope_theta", 10000.0)
    inv = 1.0 / (base ** (torch.arange(0, D, 2, dtype=torch.int64).float() / D))
    rs = cfg.get("rope_scaling") or {}
    t = rs.get("rope_type", rs.get("type", "default"))
    if t == "linear":
        inv = inv / rs["factor"]
    elif t == "llama3":
        factor, low, high, old = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"], rs["original_max_position_embeddings"]
        low_w, high_w = old / low, old / high
        wavelen = 2 * math.pi / inv
        inv_l = torch.where(wavelen > low_w, inv / factor, inv)
        smooth = (old / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * inv_l / factor + smooth * inv_l
        medium = ~(wavelen < high_w) * ~(wavelen > low_w)
        inv = torch.where(medium, smoothed, inv_l)
    return inv


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def rms(x, w, eps):
    var = x.pow(2).mean(-1, keepdim=True)
    return w * (x * torch.rsqrt(var + eps))


def layer_window(cfg, l):
    """The sliding window of layer l as transformers' configs decide it (0: full)."""
    w = cfg.get("sliding_window")
    if not w:
        return 0
    if cfg.get("layer_types"):
        return w if cfg["layer_types"][l] == "sliding_attention" else 0
    if cfg["model_type"] == "mistral":
        return w
    if cfg["model_type"] in ("qwen2", "qwen3") and cfg.get("use_sliding_window"):
        return w if l >= cfg.get("max_window_layers", 28) else 0
    return 0


def llama_like(mt, extra, NH=4, KV=2, D=None, tied=False, qkv_bias=False, qk_norm=False):
    H, NL, I, V, P = 32, 2, 64, 128, 64
    D = D or H // NH
    sd = {"model.embed_tokens.weight": rnd(V, H, std=1.0)}
    for l in range(NL):
        lp = f"model.layers.{l}."
        sd[lp + "input_layernorm.weight"] = 1 + rnd(H, std=0.1)
        sd[lp + "post_attention_layernorm.weight"] = 1 + rnd(H, std=0.1)
        lin(sd, lp + "self_attn.q_proj", NH * D, H, qkv_bias)
        lin(sd, lp + "self_attn.k_proj", KV * D, H, qkv_bias)
        lin(sd, lp + "self_attn.v_proj", KV * D, H, qkv_bias)
        lin(sd, lp + "self_attn.o_proj", H, NH * D, False)
        if qk_norm:
            sd[lp + "self_attn.q_norm.weight"] = 1 + rnd(D, std=0.1)
            sd[lp + "self_attn.k_norm.weight"] = 1 + rnd(D, std=0.1)
        lin(sd, lp + "mlp.gate_proj", I, H, False)
        lin(sd, lp + "mlp.up_proj", I, H, False)
        lin(sd, lp + "mlp.down_proj", H, I, False)
    sd["model.norm.weight"] = 1 + rnd(H, std=0.1)
    if not tied:
        sd["lm_head.weight"] = rnd(V, H)
    arch = {"llama": "LlamaForCausalLM", "mistral": "MistralForCausalLM", "qwen2": "Qwen2ForCausalLM", "qwen3": "Qwen3ForCausalLM"}[mt]
    cfg = {"model_type": mt, "architectures": [arch], "hidden_size": H, "num_hidden_layers": NL, "num_attention_heads": NH,
           "num_key_value_heads": KV, "intermediate_size": I, "vocab_size": V, "max_position_embeddings": P,
           "hidden_act": "silu", "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "tie_word_embeddings": tied}
    if mt == "qwen3":
        cfg["head_dim"] = D
    cfg.update(extra)
    eps = cfg["rms_norm_eps"]
    inv = rope_inv_freq(cfg, D)

    def forward(ids):
        B, S = ids.shape
        x = sd["model.embed_tokens.weight"][ids]
        pos = torch.arange(S)[None].float()
        freqs = (inv[None, :, None] @ pos[:, None, :]).transpose(1, 2)
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos()[:, None], emb.sin()[:, None]
        i, j = torch.arange(S)[:, None], torch.arange(S)[None, :]
        for l in range(NL):
            W = layer_window(cfg, l)
            hidden = (j > i) | ((i - j >= W) if W else torch.zeros(S, S, dtype=torch.bool))
            causal = torch.zeros(S, S).masked_fill(hidden, MIN)
            lp = f"model.layers.{l}."
            h = rms(x, sd[lp + "input_layernorm.weight"], eps)
            q = L(sd, lp + "self_attn.q_proj", h).view(B, S, NH, D)
            k = L(sd, lp + "self_attn.k_proj", h).view(B, S, KV, D)
            v = L(sd, lp + "self_attn.v_proj", h).view(B, S, KV, D).transpose(1, 2)
            if qk_norm:
                q = rms(q, sd[lp + "self_attn.q_norm.weight"], eps)
                k = rms(k, sd[lp + "self_attn.k_norm.weight"], eps)
            q, k = q.transpose(1, 2), k.transpose(1, 2)
            q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
            k = k.repeat_interleave(NH // KV, dim=1)
            v = v.repeat_interleave(NH // KV, dim=1)
            w = q @ k.transpose(2, 3) * D ** -0.5 + causal
            ctx = (F.softmax(w, dim=-1, dtype=torch.float32) @ v).transpose(1, 2).reshape(B, S, NH * D)
            x = x + L(sd, lp + "self_attn.o_proj", ctx, False)
            h = rms(x, sd[lp + "post_attention_layernorm.weight"], eps)
            x = x + L(sd, lp + "mlp.down_proj", F.silu(L(sd, lp + "mlp.gate_proj", h, False)) * L(sd, lp + "mlp.up_proj", h, False), False)
        x = rms(x, sd["model.norm.weight"], eps)
        return x @ (sd["model.embed_tokens.weight"] if tied else sd["lm_head.weight"]).T
    return cfg, sd, forward


def gpt2():
    H, NH, NL, V, P = 32, 4, 2, 128, 64
    D = H // NH
    p = "transformer."
    sd = {p + "wte.weight": rnd(V, H, std=1.0), p + "wpe.weight": rnd(P, H)}
    for l in range(NL):
        lp = p + f"h.{l}."
        ln_params(sd, lp + "ln_1", H)
        ln_params(sd, lp + "ln_2", H)
        sd[lp + "attn.c_attn.weight"], sd[lp + "attn.c_attn.bias"] = rnd(H, 3 * H), rnd(3 * H, std=0.1)
        sd[lp + "attn.c_proj.weight"], sd[lp + "attn.c_proj.bias"] = rnd(H, H), rnd(H, std=0.1)
        sd[lp + "mlp.c_fc.weight"], sd[lp + "mlp.c_fc.bias"] = rnd(H, 4 * H), rnd(4 * H, std=0.1)
        sd[lp + "mlp.c_proj.weight"], sd[lp + "mlp.c_proj.bias"] = rnd(4 * H, H), rnd(H, std=0.1)
    ln_params(sd, p + "ln_f", H)
    cfg = {"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "n_embd": H, "n_layer": NL, "n_head": NH, "vocab_size": V,
           "n_positions": P, "n_inner": None, "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5}

    def conv(name, x):
        return x @ sd[name + ".weight"] + sd[name + ".bias"]

    def forward(ids):
        B, S = ids.shape
        x = sd[p + "wte.weight"][ids] + sd[p + "wpe.weight"][torch.arange(S)][None]
        causal = torch.tril(torch.ones(S, S, dtype=torch.bool))
        for l in range(NL):
            lp = p + f"h.{l}."
            h = LN(sd, lp + "ln_1", x, 1e-5)
            q, k, v = conv(lp + "attn.c_attn", h).split(H, dim=2)
            sh = lambda t: t.view(B, S, NH, D).permute(0, 2, 1, 3)
            q, k, v = sh(q), sh(k), sh(v)
            w = (q @ k.transpose(-1, -2)) / math.sqrt(D)
            w = torch.where(causal, w, torch.tensor(MIN))
            ctx = (F.softmax(w, dim=-1) @ v).permute(0, 2, 1, 3).reshape(B, S, H)
            x = x + conv(lp + "attn.c_proj", ctx)
            h = LN(sd, lp + "ln_2", x, 1e-5)
            x = x + conv(lp + "mlp.c_proj", act("gelu_new", conv(lp + "mlp.c_fc", h)))
        x = LN(sd, p + "ln_f", x, 1e-5)
        return x @ sd[p + "wte.weight"].T
    return cfg, sd, forward


def t2l(t):
    return {"shape": list(t.shape), "data": t.flatten().tolist()}


def save(out, case, cfg, sd, ref, dtype=torch.float32, shards=1):
    d = os.path.join(out, case)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)
    if shards == 1:
        write_safetensors(os.path.join(d, "model.safetensors"), sd, dtype)
    else:
        names = sorted(sd)
        wm = {}
        for i in range(shards):
            fn = f"model-{i + 1:05d}-of-{shards:05d}.safetensors"
            part = {n: sd[n] for n in names[i::shards]}
            write_safetensors(os.path.join(d, fn), part, dtype)
            wm.update({n: fn for n in part})
        with open(os.path.join(d, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {}, "weight_map": wm}, f)
    with open(os.path.join(d, "ref.json"), "w") as f:
        json.dump(ref, f)


def decoder_case(out, case, cfg, sd, forward, dtype=torch.float32, shards=1):
    if dtype != torch.float32:  # the reference sees the weights as stored
        for n in sd:
            sd[n] = sd[n].to(dtype).float()
    with torch.no_grad():
        prompt = torch.tensor([[3, 17, 101, 42, 7]])
        logits = forward(prompt)
        ids = prompt
        for _ in range(30):  # greedy, recomputing the whole sequence each step
            nxt = forward(ids)[:, -1].argmax(-1, keepdim=True)
            ids = torch.cat([ids, nxt], dim=1)
    ref = {"inputs": {"input_ids": t2l(prompt)}, "outputs": {"logits": t2l(logits)}, "greedy": ids[0, prompt.shape[1]:].tolist()}
    save(out, case, cfg, sd, ref, dtype, shards)


def main():
    out = sys.argv[1]
    want = set(sys.argv[2:])
    enc = [
        ("bert", "bert", "gelu", 1e-12, "base"),
        ("bert-seqcls", "bert", "gelu_new", 1e-7, "seq"),
        ("roberta-tokcls", "roberta", "gelu", 1e-5, "tok"),
        ("xlm-roberta-seqcls", "xlm-roberta", "relu", 1e-5, "seq"),
        ("distilbert-seqcls", "distilbert", "gelu", 0, "seq"),
        ("distilbert", "distilbert", "gelu", 0, "base"),
    ]
    for case, mt, a, eps, head in enc:
        if want and case not in want:
            continue
        with torch.no_grad():
            cfg, sd, inputs, outs = encoder(mt, a, eps, head)
        ref = {"inputs": {k: t2l(v) for k, v in inputs.items()}, "outputs": {k: t2l(v) for k, v in outs.items()}}
        save(out, case, cfg, sd, ref)
    decs = {
        "llama": lambda: llama_like("llama", {}),
        "llama3": lambda: llama_like("llama", {"rope_theta": 500000.0, "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 16}}, tied=True),
        "mistral": lambda: llama_like("mistral", {"rope_scaling": {"type": "linear", "factor": 2.0}, "sliding_window": 4096}, NH=4, KV=1),
        "qwen2": lambda: llama_like("qwen2", {"rope_theta": 1000000.0}, qkv_bias=True),
        # windows shorter than the 5-token prompt, so prefill and every cached step cut keys off
        "mistral-window": lambda: llama_like("mistral", {"sliding_window": 3}, NH=4, KV=1),
        "qwen2-window": lambda: llama_like("qwen2", {"rope_theta": 1000000.0, "use_sliding_window": True, "sliding_window": 4, "max_window_layers": 1}, qkv_bias=True),
        "layer-types": lambda: llama_like("llama", {"sliding_window": 2, "layer_types": ["sliding_attention", "full_attention"]}),
        "qwen3": lambda: llama_like("qwen3", {"rope_theta": 1000000.0}, NH=4, KV=2, D=16, tied=True, qk_norm=True),
        "gpt2": gpt2,
    }
    for case, mk in decs.items():
        if want and case not in want:
            continue
        cfg, sd, fwd = mk()
        if case == "mistral":
            decoder_case(out, case, cfg, sd, fwd, torch.bfloat16, shards=2)
        elif case == "qwen2":
            decoder_case(out, case, cfg, sd, fwd, torch.float16)
        else:
            decoder_case(out, case, cfg, sd, fwd)


if __name__ == "__main__":
    main()

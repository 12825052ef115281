"""Runs the transformers model of a checkpoint on a fixed sample and writes
validation_dir/sample.json + raw .bin files (the format convert.py writes), so
axon compares the native converter's graph with transformers in ONNX Runtime.
Usage: native_check.py SPEC.json with input_dir, validation_dir, head, inputs
(the ONNX graph's input names), kv_heads, head_dim."""
import json, os, sys

import numpy as np
import torch
import transformers

spec = json.load(open(sys.argv[1]))
d, vdir, head = spec["input_dir"], spec["validation_dir"], spec["head"]
auto = {
    "causal-lm": transformers.AutoModelForCausalLM,
    "sequence-classification": transformers.AutoModelForSequenceClassification,
    "token-classification": transformers.AutoModelForTokenClassification,
}.get(head, transformers.AutoModel)
model = auto.from_pretrained(d, torch_dtype=torch.float32)
model.eval()
vocab = model.config.vocab_size
S = 8
ids = (torch.arange(S) * 7 + 3) % vocab
ids = ids[None]
feeds = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
if "token_type_ids" in spec["inputs"]:
    feeds["token_type_ids"] = torch.zeros_like(ids)
with torch.no_grad():
    if head == "causal-lm":
        out = model(input_ids=ids, attention_mask=feeds["attention_mask"], use_cache=False)
        feeds["position_ids"] = torch.arange(S)[None]
        for name in spec["inputs"]:
            if name.startswith("past_key_values."):
                feeds[name] = torch.zeros(1, spec["kv_heads"], 0, spec["head_dim"])
        outputs = {"logits": out.logits}
    else:
        out = model(**{k: v for k, v in feeds.items()})
        outputs = {"last_hidden_state": out.last_hidden_state} if head == "base" else {"logits": out.logits}


def save(prefix, arrays):
    entries = []
    for i, (name, t) in enumerate(arrays.items()):
        a = t.detach().cpu().numpy()
        a = a.astype(np.int64 if a.dtype.kind in "iu" else np.float32)
        fn = f"{prefix}{i}.bin"
        a.tofile(os.path.join(vdir, fn))
        entries.append({"name": name, "dtype": str(a.dtype), "shape": list(a.shape), "file": fn})
    return entries


os.makedirs(vdir, exist_ok=True)
sample = {"reference": "transformers " + transformers.__version__,
          "inputs": save("input", {k: feeds[k] for k in spec["inputs"] if k in feeds}),
          "outputs": save("output", outputs)}
with open(os.path.join(vdir, "sample.json"), "w") as f:
    json.dump(sample, f, indent=1)

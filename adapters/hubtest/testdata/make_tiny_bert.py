#!/usr/bin/python3
"""Writes a tiny BERT-architecture text classifier with random weights, shaped like a
Hugging Face repository: config.json, tokenizer.json (WordPiece), vocab.txt,
tokenizer_config.json, special_tokens_map.json, pytorch_model.bin and onnx/model.onnx
(inputs input_ids / attention_mask / token_type_ids, dynamic batch and sequence axes).

Needs only Debian's python3-torch and python3-onnx (no transformers):
    /usr/bin/python3 make_tiny_bert.py OUTDIR
"""
import json
import math
import os
import sys

import torch
from torch import nn

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "tiny-bert")
torch.manual_seed(0)

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = ("the a an is was be to of and in it that this for on with as at by from hello world good bad "
         "great terrible movie film love hate not very really fun boring happy sad ! . , ?").split()
PIECES = ["##s", "##ed", "##ing", "##ly", "##er"]
VOCAB = SPECIAL + WORDS + PIECES
CFG = dict(vocab_size=len(VOCAB), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
           intermediate_size=64, max_position_embeddings=64, type_vocab_size=2,
           hidden_act="gelu", layer_norm_eps=1e-12, hidden_dropout_prob=0.1,
           attention_probs_dropout_prob=0.1, initializer_range=0.02, pad_token_id=0)


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c["hidden_size"]
        self.heads = c["num_attention_heads"]
        self.q, self.k, self.v, self.o = (nn.Linear(h, h) for _ in range(4))
        self.ln1 = nn.LayerNorm(h, eps=c["layer_norm_eps"])
        self.ff1 = nn.Linear(h, c["intermediate_size"])
        self.ff2 = nn.Linear(c["intermediate_size"], h)
        self.ln2 = nn.LayerNorm(h, eps=c["layer_norm_eps"])

    def forward(self, x, bias):
        b, s, h = x.shape
        d = h // self.heads

        def split(t):
            return t.view(b, s, self.heads, d).transpose(1, 2)

        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d) + bias, dim=-1)
        ctx = (att @ v).transpose(1, 2).reshape(b, s, h)
        x = self.ln1(x + self.o(ctx))
        return self.ln2(x + self.ff2(nn.functional.gelu(self.ff1(x))))


class TinyBert(nn.Module):
    def __init__(self, c, labels):
        super().__init__()
        h = c["hidden_size"]
        self.word = nn.Embedding(c["vocab_size"], h)
        self.pos = nn.Embedding(c["max_position_embeddings"], h)
        self.typ = nn.Embedding(c["type_vocab_size"], h)
        self.ln = nn.LayerNorm(h, eps=c["layer_norm_eps"])
        self.layers = nn.ModuleList(Layer(c) for _ in range(c["num_hidden_layers"]))
        self.pool = nn.Linear(h, h)
        self.cls = nn.Linear(h, labels)

    def forward(self, input_ids, attention_mask, token_type_ids):
        pos = torch.arange(input_ids.shape[1]).unsqueeze(0)
        x = self.ln(self.word(input_ids) + self.pos(pos) + self.typ(token_type_ids))
        bias = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * -10000.0
        for layer in self.layers:
            x = layer(x, bias)
        return self.cls(torch.tanh(self.pool(x[:, 0])))


labels = {0: "NEGATIVE", 1: "POSITIVE"}
model = TinyBert(CFG, len(labels)).eval()
os.makedirs(os.path.join(OUT, "onnx"), exist_ok=True)

config = dict(CFG, architectures=["BertForSequenceClassification"], model_type="bert",
              id2label={str(k): v for k, v in labels.items()},
              label2id={v: k for k, v in labels.items()}, torch_dtype="float32")
with open(os.path.join(OUT, "config.json"), "w") as f:
    json.dump(config, f, indent=2, sort_keys=True)
    f.write("\n")
with open(os.path.join(OUT, "vocab.txt"), "w") as f:
    f.write("\n".join(VOCAB) + "\n")
ids = {t: i for i, t in enumerate(VOCAB)}
special = lambda t: {"id": ids[t], "content": t, "single_word": False, "lstrip": False,
                     "rstrip": False, "normalized": False, "special": True}
tokenizer = {
    "version": "1.0", "truncation": None, "padding": None,
    "added_tokens": [special(t) for t in SPECIAL],
    "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                   "strip_accents": None, "lowercase": True},
    "pre_tokenizer": {"type": "BertPreTokenizer"},
    "post_processor": {
        "type": "TemplateProcessing",
        "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                   {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
        "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                 {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                 {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
        "special_tokens": {t: {"id": t, "ids": [ids[t]], "tokens": [t]} for t in ("[CLS]", "[SEP]")},
    },
    "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
    "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
              "max_input_chars_per_word": 100, "vocab": ids},
}
with open(os.path.join(OUT, "tokenizer.json"), "w") as f:
    json.dump(tokenizer, f, indent=2)
    f.write("\n")
with open(os.path.join(OUT, "tokenizer_config.json"), "w") as f:
    json.dump({"do_lower_case": True, "model_max_length": 64, "tokenizer_class": "BertTokenizer",
               "cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]", "unk_token": "[UNK]",
               "mask_token": "[MASK]"}, f, indent=2)
    f.write("\n")
with open(os.path.join(OUT, "special_tokens_map.json"), "w") as f:
    json.dump({"cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]", "unk_token": "[UNK]",
               "mask_token": "[MASK]"}, f, indent=2)
    f.write("\n")
torch.save(model.state_dict(), os.path.join(OUT, "pytorch_model.bin"))

sample = (torch.tensor([[2, 23, 24, 3]]), torch.ones(1, 4, dtype=torch.int64), torch.zeros(1, 4, dtype=torch.int64))
axes = {0: "batch", 1: "sequence"}
torch.onnx.export(model, sample, os.path.join(OUT, "onnx", "model.onnx"),
                  input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["logits"],
                  dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes,
                                "logits": {0: "batch"}},
                  opset_version=14, do_constant_folding=True)
with open(os.path.join(OUT, "README.md"), "w") as f:
    f.write("---\nlicense: apache-2.0\npipeline_tag: text-classification\n---\n"
            "# tiny-bert\n\nA tiny BERT-architecture text classifier with random weights, for tests.\n"
            "Made by adapters/hubtest/testdata/make_tiny_bert.py.\n")
print(OUT)

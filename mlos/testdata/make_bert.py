"""Builds the runtime's text fixtures with plain torch (no transformers):

- bert.onnx: a tiny BERT-architecture encoder with random weights and a
  3-class head; inputs input_ids/attention_mask/token_type_ids int64
  [batch, sequence], outputs logits [batch, 3] and last_hidden_state
  [batch, sequence, 32];
- lm.onnx: a tiny causal language model, input_ids → logits [batch, sequence, vocab];
- tokenizer.json (WordPiece, Hugging Face format), config.json (id2label, eos);
- reference.json: token ids from an independent WordPiece implementation
  below, torch's class probabilities, mean-pooled L2-normalised embeddings and
  greedy generations.

Usage: make_bert.py OUTDIR
"""
import json
import math
import os
import sys
import unicodedata

import torch
from torch import nn

torch.manual_seed(1234)

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = ["the", "movie", "was", "great", "terrible", "i", "love", "it", "hello",
         "world", "mlos", "play", "good", "bad", "not", "at", "all", "a", "film",
         "story", "##s", "##ing", "##ed", "##ly", ",", "!", ".", "?", "'", "un", "##believ", "##able"]
VOCAB = {t: i for i, t in enumerate(SPECIAL + WORDS)}
LABELS = ["negative", "neutral", "positive"]
SENTENCES = [
    "Hello, world!",
    "The movie was great.",
    "I love it! Unbelievable story",
    "The films were NOT good at all...",
    "playing played plays",
    "Ünknown wörds get lost",
]
PROMPTS = ["hello world", "the movie"]
MAX_NEW = 6
EOS = VOCAB["[SEP]"]


def is_punct(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def basic_tokenize(text):
    # BertNormalizer (lowercase, strip accents) + BertPreTokenizer.
    text = unicodedata.normalize("NFD", text.lower())
    text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    out, cur = [], ""
    for ch in text:
        if ch.isspace():
            if cur:
                out.append(cur)
            cur = ""
        elif is_punct(ch):
            if cur:
                out.append(cur)
            out.append(ch)
            cur = ""
        else:
            cur += ch
    if cur:
        out.append(cur)
    return out


def wordpiece(word):
    pieces, start = [], 0
    while start < len(word):
        end, found = len(word), None
        while start < end:
            sub = word[start:end]
            if start > 0:
                sub = "##" + sub
            if sub in VOCAB:
                found = sub
                break
            end -= 1
        if found is None:
            return ["[UNK]"]
        pieces.append(found)
        start = end
    return pieces


def encode(text):
    toks = ["[CLS]"]
    for w in basic_tokenize(text):
        toks += wordpiece(w)
    toks.append("[SEP]")
    return [VOCAB[t] for t in toks]


class Layer(nn.Module):
    def __init__(self, hidden, heads, inter):
        super().__init__()
        self.heads, self.hd = heads, hidden // heads
        self.q, self.k, self.v, self.o = (nn.Linear(hidden, hidden) for _ in range(4))
        self.ln1, self.ln2 = nn.LayerNorm(hidden, eps=1e-12), nn.LayerNorm(hidden, eps=1e-12)
        self.ff1, self.ff2 = nn.Linear(hidden, inter), nn.Linear(inter, hidden)

    def split(self, x):
        b, s = x.size(0), x.size(1)
        return x.view(b, s, self.heads, self.hd).transpose(1, 2)

    def forward(self, h, ext):
        b, s = h.size(0), h.size(1)
        q, k, v = self.split(self.q(h)), self.split(self.k(h)), self.split(self.v(h))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.hd) + ext
        ctx = torch.matmul(torch.softmax(scores, dim=-1), v).transpose(1, 2).reshape(b, s, self.heads * self.hd)
        h = self.ln1(h + self.o(ctx))
        return self.ln2(h + self.ff2(nn.functional.gelu(self.ff1(h))))


class TinyBert(nn.Module):
    def __init__(self, vocab, hidden=32, layers=2, heads=4, inter=64, max_pos=64, labels=3):
        super().__init__()
        self.word, self.pos, self.typ = nn.Embedding(vocab, hidden), nn.Embedding(max_pos, hidden), nn.Embedding(2, hidden)
        self.ln = nn.LayerNorm(hidden, eps=1e-12)
        self.layers = nn.ModuleList(Layer(hidden, heads, inter) for _ in range(layers))
        self.pool, self.cls = nn.Linear(hidden, hidden), nn.Linear(hidden, labels)

    def forward(self, input_ids, attention_mask, token_type_ids):
        pos = torch.arange(input_ids.size(1)).unsqueeze(0)
        h = self.ln(self.word(input_ids) + self.pos(pos) + self.typ(token_type_ids))
        ext = (1.0 - attention_mask[:, None, None, :].float()) * -10000.0
        for layer in self.layers:
            h = layer(h, ext)
        return self.cls(torch.tanh(self.pool(h[:, 0]))), h


class TinyLM(nn.Module):
    def __init__(self, vocab, hidden=16, max_pos=64):
        super().__init__()
        self.word, self.pos = nn.Embedding(vocab, hidden), nn.Embedding(max_pos, hidden)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, input_ids):
        pos = torch.arange(input_ids.size(1)).unsqueeze(0)
        return self.head(torch.tanh(self.word(input_ids) + self.pos(pos)))


def tokenizer_json():
    added = [{"id": VOCAB[t], "content": t, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for t in SPECIAL]
    return {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
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
            "special_tokens": {t: {"id": t, "ids": [VOCAB[t]], "tokens": [t]} for t in ["[CLS]", "[SEP]"]},
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": VOCAB},
    }


def main(out):
    os.makedirs(out, exist_ok=True)
    bert, lm = TinyBert(len(VOCAB)).eval(), TinyLM(len(VOCAB)).eval()
    ids = [encode(s) for s in SENTENCES]
    ref = {"sentences": SENTENCES, "ids": ids, "probs": [], "embeddings": [], "labels": LABELS, "generations": []}
    with torch.no_grad():
        for seq in ids:
            x = torch.tensor([seq])
            logits, hidden = bert(x, torch.ones_like(x), torch.zeros_like(x))
            ref["probs"].append(torch.softmax(logits[0], -1).tolist())
            emb = hidden[0].mean(0)
            ref["embeddings"].append((emb / emb.norm()).tolist())
        for p in PROMPTS:
            seq = encode(p)
            new = []
            for _ in range(MAX_NEW):
                nxt = int(lm(torch.tensor([seq]))[0, -1].argmax())
                if nxt == EOS:
                    break
                seq.append(nxt)
                new.append(nxt)
            ref["generations"].append({"prompt": p, "max_new_tokens": MAX_NEW, "token_ids": new})
        x = torch.tensor([ids[1]])
        torch.onnx.export(bert, (x, torch.ones_like(x), torch.zeros_like(x)), os.path.join(out, "bert.onnx"),
                          input_names=["input_ids", "attention_mask", "token_type_ids"],
                          output_names=["logits", "last_hidden_state"],
                          dynamic_axes={"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"},
                                        "token_type_ids": {0: "batch", 1: "sequence"}, "logits": {0: "batch"},
                                        "last_hidden_state": {0: "batch", 1: "sequence"}},
                          opset_version=14)
        torch.onnx.export(lm, (x,), os.path.join(out, "lm.onnx"), input_names=["input_ids"], output_names=["logits"],
                          dynamic_axes={"input_ids": {0: "batch", 1: "sequence"}, "logits": {0: "batch", 1: "sequence"}},
                          opset_version=14)
    with open(os.path.join(out, "tokenizer.json"), "w") as f:
        json.dump(tokenizer_json(), f)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump({"model_type": "bert", "id2label": {str(i): l for i, l in enumerate(LABELS)}, "eos_token_id": EOS,
                   "max_position_embeddings": 64}, f)
    with open(os.path.join(out, "reference.json"), "w") as f:
        json.dump(ref, f)


if __name__ == "__main__":
    main(sys.argv[1])

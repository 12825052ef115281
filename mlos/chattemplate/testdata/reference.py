#!/usr/bin/env python3
"""Reference renderer: renders chat templates exactly as Hugging Face transformers'
apply_chat_template(..., tokenize=False) does (transformers/utils/chat_template_utils.py),
using only Python's jinja2, so the Go tests can compare byte for byte.

stdin: a JSON list of cases {"config": PATH to tokenizer_config.json, "messages": [...],
"tools": [...] | null, "add_generation_prompt": bool, "extra": {...}}.
stdout: a JSON list of {"text": ...} or {"error": message, "raised": bool}.
"""
import json
import sys
from datetime import datetime

import jinja2
from jinja2.exceptions import TemplateError
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

# transformers' SpecialTokensMixin.SPECIAL_TOKENS_ATTRIBUTES: what special_tokens_map holds.
SPECIAL = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token",
           "mask_token", "additional_special_tokens"]


def raise_exception(message):
    raise TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    # transformers overrides jinja's tojson: no HTML escaping, json.dumps options.
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def strftime_now(format):
    return datetime.now().strftime(format)


def compile_template(source):
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env.from_string(source)


def token_text(v):
    if isinstance(v, dict):
        return v.get("content")
    return v


def special_tokens(cfg):
    out = {}
    for k in SPECIAL:
        v = cfg.get(k)
        if v is None:
            continue
        if k == "additional_special_tokens":
            toks = [token_text(t) for t in v]
            if toks:
                out[k] = toks
            continue
        t = token_text(v)
        if isinstance(t, str):
            out[k] = t
    return out


def main():
    cases = json.load(sys.stdin)
    compiled = {}
    results = []
    for case in cases:
        path = case["config"]
        if path not in compiled:
            with open(path, encoding="utf-8") as f:
                cfg = json.load(f)
            tmpl = cfg["chat_template"]
            if isinstance(tmpl, list):
                tmpl = {t["name"]: t["template"] for t in tmpl}["default"]
            compiled[path] = (compile_template(tmpl), special_tokens(cfg))
        template, special = compiled[path]
        kwargs = {**special, **case.get("extra", {})}
        try:
            text = template.render(messages=case["messages"], tools=case.get("tools"), documents=None,
                                   add_generation_prompt=case.get("add_generation_prompt", False), **kwargs)
            results.append({"text": text})
        except TemplateError as e:
            # raise_exception raises TemplateError itself; other template errors subclass it.
            results.append({"error": str(e), "raised": type(e) is TemplateError})
        except Exception as e:  # noqa: BLE001 - a template bug on valid data is reported, not fatal
            results.append({"error": "%s: %s" % (type(e).__name__, e), "raised": False})
    json.dump(results, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()

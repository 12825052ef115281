#!/usr/bin/env python3
"""Converts a model to ONNX for axon and records a validation sample.

axon (Go package converter) writes this script and a spec.json to a work
directory and runs `python3 convert.py --spec spec.json`, on the host or in the
converter image (deploy/converter/Dockerfile). It never touches the network:
torch.hub downloads are refused, Hugging Face libraries run offline.

Outputs, in the spec's directories:
  output_dir/model.onnx (+ external data files)
  validation_dir/sample.json + raw little-endian .bin files: the sample input
  and the source framework's outputs on it, which axon compares against ONNX
  Runtime
  result.json (path in the spec): framework, version, exporter

Exit codes: 0 converted, 2 conversion failed, 3 a framework is missing.
The last stderr line starting with "axon-convert: error:" is the message axon
shows to the user.
"""

import argparse
import importlib
import inspect
import json
import os
import re
import shutil
import sys
import tempfile
import traceback

EXIT_FAIL = 2
EXIT_MISSING = 3
SAMPLE_BATCH = 2

# Offline, always: axon has fetched and verified every file already.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


class Missing(Exception):
    """A framework module cannot be imported."""


class Fail(Exception):
    """The model cannot be converted; the message says why."""


def log(msg):
    print("axon-convert: " + msg, file=sys.stderr, flush=True)


def need(module, debian=None, pip=None):
    try:
        return importlib.import_module(module)
    except ImportError as e:
        ways = []
        if debian:
            ways.append("apt install " + debian)
        ways.append("pip install " + (pip or module))
        raise Missing(
            "%s is not importable by %s (%s): install it (%s) or use --converter docker"
            % (module, sys.executable, e, " or ".join(ways))
        )


def inside(base, rel):
    """Joins rel to base, refusing paths that leave base."""
    p = os.path.realpath(os.path.join(base, rel))
    root = os.path.realpath(base)
    if p != root and not p.startswith(root + os.sep):
        raise Fail("path %r leaves the model directory" % rel)
    return p


# ---------------------------------------------------------------- samples


def save_arrays(vdir, prefix, names, arrays):
    np = need("numpy", "python3-numpy")
    entries = []
    for i, (name, a) in enumerate(zip(names, arrays)):
        a = np.ascontiguousarray(a)
        dtype = "bool" if a.dtype == np.bool_ else a.dtype.name
        fn = "%s_%d.bin" % (prefix, i)
        a.astype(a.dtype.newbyteorder("<"), copy=False).tofile(os.path.join(vdir, fn))
        entries.append({"name": name, "dtype": dtype, "shape": [int(d) for d in a.shape], "file": fn})
    return entries


def write_sample(spec, reference, in_names, in_arrays, out_names, out_arrays, sub=""):
    """Saves a sample; sub names an extra sample (another batch size) in a subfolder."""
    vdir = spec.get("validation_dir")
    if not vdir or spec.get("skip_validation"):
        return
    if sub:
        vdir = os.path.join(vdir, sub)
    os.makedirs(vdir, exist_ok=True)
    sample = {
        "reference": reference,
        "inputs": save_arrays(vdir, "input", in_names, in_arrays),
        "outputs": save_arrays(vdir, "output", out_names, out_arrays),
    }
    with open(os.path.join(vdir, "sample.json"), "w") as f:
        json.dump(sample, f, indent=1)


# ---------------------------------------------------------------- torch


def torch_module():
    return need("torch", "python3-torch", "torch")


def flatten(o):
    """Tensors of a model output in order: tensor, tuple/list, dict/ModelOutput."""
    torch = torch_module()
    if isinstance(o, torch.Tensor):
        return [o]
    if isinstance(o, dict):
        return [t for v in o.values() for t in flatten(v)]
    if isinstance(o, (list, tuple)):
        return [t for v in o for t in flatten(v)]
    return []


def output_names(o, prefix=""):
    torch = torch_module()
    if isinstance(o, torch.Tensor):
        return [prefix or "output"]
    if isinstance(o, dict):
        return [n for k, v in o.items() for n in output_names(v, str(k))]
    if isinstance(o, (list, tuple)):
        items = [v for v in o if flatten(v)]
        if len(items) == 1:
            return output_names(items[0], prefix)
        return [n for i, v in enumerate(items) for n in output_names(v, "%s_%d" % (prefix or "output", i))]
    return []


def unique(names):
    seen, out = {}, []
    for n in names:
        n = re.sub(r"[^A-Za-z0-9_.:/-]", "_", n) or "output"
        if n in seen:
            seen[n] += 1
            n = "%s_%d" % (n, seen[n])
        else:
            seen[n] = 0
        out.append(n)
    return out


def max_opset(torch, want):
    try:
        from torch.onnx import _constants

        top = getattr(_constants, "ONNX_MAX_OPSET", None) or getattr(_constants, "onnx_main_opset", None)
        if top and want > top:
            log("torch %s exports up to opset %d; using it" % (torch.__version__, top))
            return int(top)
    except Exception:
        pass
    return want


def torch_export(spec, model, in_names, tensors, dyn_inputs, call_kwargs=False):
    """Exports model(*tensors) (or model(**dict(zip(in_names, tensors)))) with a
    dynamic batch axis and writes the validation sample."""
    torch = torch_module()

    class Flat(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, *xs):
            if call_kwargs:
                out = self.m(**dict(zip(in_names, xs)))
            else:
                out = self.m(*xs)
            return tuple(flatten(out))

    model.eval()
    flat = Flat(model).eval()
    with torch.no_grad():
        raw = model(**dict(zip(in_names, tensors))) if call_kwargs else model(*tensors)
        ref = flatten(raw)
    if not ref:
        raise Fail("the model returned no tensors")
    out_names = unique(output_names(raw))
    dynamic = dict(dyn_inputs)
    # Output axes follow the inputs' dynamic axes: dim 0 of the batch size is "batch",
    # dim 1 of the sequence length (transformers) is "sequence".
    sizes = {}
    for n, t in zip(in_names, tensors):
        for axis, label in dyn_inputs.get(n, {}).items():
            sizes.setdefault(label, int(t.shape[axis]))
    for n, t in zip(out_names, ref):
        axes = {}
        if t.dim() >= 1 and "batch" in sizes and t.shape[0] == sizes["batch"]:
            axes[0] = "batch"
        if t.dim() >= 2 and "sequence" in sizes and t.shape[1] == sizes["sequence"]:
            axes[1] = "sequence"
        if axes:
            dynamic[n] = axes
    out = os.path.join(spec["output_dir"], "model.onnx")
    kwargs = dict(
        input_names=list(in_names),
        output_names=out_names,
        dynamic_axes=dynamic,
        opset_version=max_opset(torch, int(spec.get("opset") or 17)),
        do_constant_folding=True,
    )
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = False  # the TorchScript exporter honours dynamic_axes everywhere
    log("exporting with torch.onnx (opset %d)" % kwargs["opset_version"])
    # A ScriptModule (TorchScript) cannot be traced from inside a wrapper; the
    # exporter reads its graph directly and flattens tuple outputs itself.
    target = model if isinstance(model, torch.jit.ScriptModule) and not call_kwargs else flat
    with torch.no_grad():
        torch.onnx.export(target, tuple(tensors), out, **kwargs)
    def to_np(t):
        t = t.detach().cpu()
        return t.float().numpy() if t.dtype == torch.bfloat16 else t.numpy()

    reference = "torch " + torch.__version__
    write_sample(spec, reference, in_names, [to_np(t) for t in tensors], out_names, [to_np(t) for t in ref])
    if "batch" in sizes:
        # A second sample at another batch size shows whether the batch axis is really
        # dynamic: a graph that baked the traced size in fails or differs there.
        other = 1 if sizes["batch"] != 1 else 2

        def rebatch(n, t):
            if dyn_inputs.get(n, {}).get(0) != "batch":
                return t
            return t[:1] if other == 1 else torch.cat([t, t])

        again = [rebatch(n, t) for n, t in zip(in_names, tensors)]
        with torch.no_grad():
            raw2 = model(**dict(zip(in_names, again))) if call_kwargs else model(*again)
        write_sample(spec, reference, in_names, [to_np(t) for t in again], out_names, [to_np(t) for t in flatten(raw2)], sub="batch%d" % other)
    return {"framework": "pytorch", "framework_version": torch.__version__, "exporter": "torch.onnx"}


def parse_inputs(extra):
    """Input specs from extra: inputs (JSON list) or input_shape/input_dtype/input_name."""
    if extra.get("inputs"):
        try:
            specs = json.loads(extra["inputs"])
            return [
                {"name": s.get("name") or "input_%d" % i, "shape": [int(d) for d in s["shape"]], "dtype": s.get("dtype", "float32"), "high": s.get("high")}
                for i, s in enumerate(specs)
            ]
        except (ValueError, KeyError, TypeError) as e:
            raise Fail("extra inputs must be a JSON list of {name, shape, dtype}: %s" % e)
    if extra.get("input_shape"):
        try:
            shape = [int(d) for d in re.split(r"[,x\s]+", extra["input_shape"].strip()) if d]
        except ValueError:
            raise Fail("input_shape %r is not a list of sizes such as 1,3,224,224" % extra["input_shape"])
        return [{"name": extra.get("input_name") or "input", "shape": shape, "dtype": extra.get("input_dtype") or "float32", "high": None}]
    return None


def guess_inputs(model):
    """The input of the model's first layer, in registration order."""
    for mod in model.modules():
        kind = getattr(mod, "original_name", None) or type(mod).__name__
        w = getattr(mod, "weight", None)
        shape = tuple(w.shape) if w is not None and hasattr(w, "shape") else None
        if not shape:
            continue
        groups = getattr(mod, "groups", 1) or 1
        if kind == "Conv2d" and len(shape) == 4:
            return [{"name": "input", "shape": [SAMPLE_BATCH, shape[1] * groups, 224, 224], "dtype": "float32", "high": None}]
        if kind == "Conv1d" and len(shape) == 3:
            return [{"name": "input", "shape": [SAMPLE_BATCH, shape[1] * groups, 128], "dtype": "float32", "high": None}]
        if kind == "Conv3d" and len(shape) == 5:
            return [{"name": "input", "shape": [SAMPLE_BATCH, shape[1] * groups, 8, 112, 112], "dtype": "float32", "high": None}]
        if kind == "Linear" and len(shape) == 2:
            return [{"name": "input", "shape": [SAMPLE_BATCH, shape[1]], "dtype": "float32", "high": None}]
        if kind in ("Embedding", "EmbeddingBag") and len(shape) == 2:
            return [{"name": "input_ids", "shape": [SAMPLE_BATCH, 16], "dtype": "int64", "high": shape[0]}]
    raise Fail("cannot tell the model's input shape from its layers; pass it with extra input_shape (e.g. 1,3,224,224)")


def make_tensors(specs):
    torch = torch_module()
    gen = torch.Generator().manual_seed(0)
    tensors = []
    for s in specs:
        dt = getattr(torch, s["dtype"], None)
        if not isinstance(dt, torch.dtype):
            raise Fail("unknown input dtype %r" % s["dtype"])
        if dt.is_floating_point:
            tensors.append(torch.randn(*s["shape"], generator=gen).to(dt))
        elif dt == torch.bool:
            tensors.append(torch.randint(0, 2, s["shape"], generator=gen).bool())
        else:
            tensors.append(torch.randint(0, int(s.get("high") or 100), s["shape"], generator=gen, dtype=dt))
    return tensors


def export_module(spec, model):
    specs = parse_inputs(spec.get("extra") or {}) or guess_inputs(model)
    tensors = make_tensors(specs)
    names = [s["name"] for s in specs]
    dyn = {n: {0: "batch"} for n, t in zip(names, tensors) if t.dim() >= 1}
    if str((spec.get("extra") or {}).get("dynamic_batch", "")).lower() in ("false", "0", "no"):
        dyn = {}  # the model cannot run at other batch sizes: export exactly the sample's shapes
    log("sample input: " + ", ".join("%s %s%s" % (n, s["dtype"], list(t.shape)) for n, s, t in zip(names, specs, tensors)))
    return torch_export(spec, model, names, tensors, dyn)


def find_file(spec, exts, what):
    extra = spec.get("extra") or {}
    base = spec["input_dir"]
    if extra.get("model"):
        return inside(base, extra["model"])
    files = spec.get("files") or []
    if not files:
        for root, _, names in os.walk(base):
            files += [os.path.relpath(os.path.join(root, n), base) for n in names]
    cands = sorted(f for f in files if f.lower().endswith(exts))
    if not cands:
        raise Fail("no %s file (%s) among the model's files" % (what, ", ".join(exts)))
    return inside(base, cands[0])


def convert_torchscript(spec):
    torch = torch_module()
    path = find_file(spec, (".pt", ".pth", ".torchscript", ".ptl", ".zip"), "TorchScript")
    log("loading TorchScript %s" % os.path.basename(path))
    try:
        model = torch.jit.load(path, map_location="cpu")
    except Exception as e:
        raise Fail("%s is not a TorchScript archive (torch.jit.load: %s); a plain state dict needs its architecture (hubconf)" % (os.path.basename(path), str(e).splitlines()[0] if str(e) else type(e).__name__))
    return export_module(spec, model)


def find_hubconf(base, extra):
    if extra.get("repo"):
        d = inside(base, extra["repo"])
        if os.path.isfile(os.path.join(d, "hubconf.py")):
            return d
    if os.path.isfile(os.path.join(base, "hubconf.py")):
        return base
    for name in sorted(os.listdir(base)):
        d = os.path.join(base, name)
        if os.path.isfile(os.path.join(d, "hubconf.py")):
            return d
    raise Fail("no hubconf.py in the model directory")


def torch_home(spec):
    """A fresh TORCH_HOME whose hub/checkpoints holds the pre-downloaded checkpoints."""
    extra = spec.get("extra") or {}
    home = tempfile.mkdtemp(prefix="axon-torch-home-")
    ckpt = os.path.join(home, "hub", "checkpoints")
    os.makedirs(ckpt)
    sources = []
    if extra.get("checkpoints"):
        sources.append(inside(spec["input_dir"], extra["checkpoints"]))
    elif os.path.isdir(os.path.join(spec["input_dir"], "checkpoints")):
        sources.append(os.path.join(spec["input_dir"], "checkpoints"))
    if spec.get("torch_home"):
        sources.append(os.path.join(spec["torch_home"], "hub", "checkpoints"))
    for src in sources:
        if not os.path.isdir(src):
            continue
        for name in os.listdir(src):
            p = os.path.join(src, name)
            if os.path.isfile(p) and not os.path.exists(os.path.join(ckpt, name)):
                os.symlink(os.path.realpath(p), os.path.join(ckpt, name))
    return home


def pretrained_kwargs(repo, entry):
    """What asks the entrypoint for its pretrained weights, as a hub user expects:
    torchvision >= 0.13 builds random weights unless weights="DEFAULT"; older
    hubconfs take pretrained=True."""
    import importlib.util

    sys.path.insert(0, repo)
    try:
        spec = importlib.util.spec_from_file_location("axon_hubconf_probe", os.path.join(repo, "hubconf.py"))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        fn = getattr(mod, entry, None)
        params = inspect.signature(fn).parameters if callable(fn) else {}
    except Exception as e:  # torch.hub.load below reports the real problem
        log("cannot inspect %s: %s" % (entry, e))
        return {}
    finally:
        sys.path.remove(repo)
    if "weights" in params:
        return {"weights": "DEFAULT"}
    if "pretrained" in params:
        return {"pretrained": True}
    return {}


def convert_hubconf(spec):
    torch = torch_module()
    extra = spec.get("extra") or {}
    entry = spec.get("entrypoint") or extra.get("entrypoint")
    if not entry:
        raise Fail("a hubconf model needs its entrypoint (the hubconf function to call)")
    repo = find_hubconf(spec["input_dir"], extra)
    home = torch_home(spec)
    os.environ["TORCH_HOME"] = home
    torch.hub.set_dir(os.path.join(home, "hub"))

    def no_download(url, dst, *args, **kwargs):
        raise Fail(
            "the model wants to download %s, which is not among the fetched checkpoints (%s); "
            "axon converts offline (for the untrained architecture pass kwargs {\"weights\": null} or {\"pretrained\": false})"
            % (url, os.path.basename(dst))
        )

    # torch.hub.load_state_dict_from_url (and torchvision's weights API) find files in
    # TORCH_HOME/hub/checkpoints; anything else would be a download, which is refused.
    torch.hub.download_url_to_file = no_download
    try:
        kwargs = json.loads(extra.get("kwargs") or "{}")
    except ValueError as e:
        raise Fail("extra kwargs must be a JSON object: %s" % e)
    if "kwargs" not in extra and not extra.get("weights"):
        kwargs = pretrained_kwargs(repo, entry)
    log("loading %s(%s) from %s" % (entry, ", ".join("%s=%r" % kv for kv in kwargs.items()), os.path.join(os.path.basename(repo), "hubconf.py")))
    sys.path.insert(0, repo)
    load = torch.hub.load
    params = inspect.signature(load).parameters
    if "trust_repo" in params:
        kwargs.setdefault("trust_repo", True)
    if "skip_validation" in params:
        kwargs.setdefault("skip_validation", True)
    model = load(repo, entry, source="local", **kwargs)
    if extra.get("weights"):
        path = inside(spec["input_dir"], extra["weights"])
        log("loading state dict %s" % os.path.basename(path))
        sd = torch.load(path, map_location="cpu")
        for key in ("state_dict", "model_state_dict", "model"):
            if isinstance(sd, dict) and isinstance(sd.get(key), dict):
                sd = sd[key]
        model.load_state_dict(sd)
    if not isinstance(model, torch.nn.Module):
        raise Fail("%s returned %s, not a torch.nn.Module" % (entry, type(model).__name__))
    return export_module(spec, model)


# ---------------------------------------------------------------- transformers

def head(spec):
    """The export axon decided for the task (schemas.HeadForTask): the auto
    class of the reference model and optimum's task, so both build one head."""
    h = spec.get("head") or {}
    return h.get("auto_class") or "AutoModel", h.get("optimum_task") or "feature-extraction"


def transformers_model(spec):
    transformers = need("transformers", None, "transformers")
    cls = getattr(transformers, head(spec)[0])
    log("loading %s with transformers %s" % (cls.__name__, transformers.__version__))
    return transformers, cls.from_pretrained(spec["input_dir"], local_files_only=True).eval()


def transformers_sample(model):
    torch = torch_module()
    cfg = model.config
    gen = torch.Generator().manual_seed(0)
    params = inspect.signature(model.forward).parameters
    names, tensors = [], []
    if "pixel_values" in params and "input_ids" not in params:
        size = getattr(cfg, "image_size", 224)
        size = size if isinstance(size, int) else 224
        names.append("pixel_values")
        tensors.append(torch.randn(SAMPLE_BATCH, getattr(cfg, "num_channels", 3), size, size, generator=gen))
        return names, tensors, {"pixel_values": {0: "batch"}}
    seq = 8
    vocab = getattr(cfg, "vocab_size", 100) or 100
    names.append("input_ids")
    tensors.append(torch.randint(0, min(vocab, 1000), (SAMPLE_BATCH, seq), generator=gen))
    if "attention_mask" in params:
        names.append("attention_mask")
        mask = torch.ones(SAMPLE_BATCH, seq, dtype=torch.long)
        mask[1, -2:] = 0
        tensors.append(mask)
    if "token_type_ids" in params and getattr(cfg, "type_vocab_size", 0):
        names.append("token_type_ids")
        tensors.append(torch.zeros(SAMPLE_BATCH, seq, dtype=torch.long))
    return names, tensors, {n: {0: "batch", 1: "sequence"} for n in names}


def convert_transformers(spec):
    torch = torch_module()
    transformers, model = transformers_model(spec)
    names, tensors, dyn = transformers_sample(model)
    try:
        importlib.import_module("optimum.exporters.onnx")
        have_optimum = True
    except ImportError:
        have_optimum = False
    if not have_optimum:
        log("optimum is not installed; exporting with torch.onnx")
        res = torch_export(spec, model, names, tensors, dyn, call_kwargs=True)
        res["framework"] = "transformers"
        res["framework_version"] = transformers.__version__
        return res

    from optimum.exporters.onnx import main_export

    tmp = tempfile.mkdtemp(prefix="axon-optimum-")
    log("exporting with optimum")
    # The same head as the reference model above, so that the outputs compare.
    task = head(spec)[1]
    kwargs = dict(model_name_or_path=spec["input_dir"], output=tmp, task=task, opset=int(spec.get("opset") or 17), device="cpu", local_files_only=True)
    accepted = inspect.signature(main_export).parameters
    if "do_validation" in accepted:
        kwargs["do_validation"] = False  # axon validates against ONNX Runtime itself
    main_export(**{k: v for k, v in kwargs.items() if k in accepted})
    if not os.path.isfile(os.path.join(tmp, "model.onnx")):
        raise Fail("optimum wrote no model.onnx (files: %s)" % ", ".join(sorted(os.listdir(tmp))))
    # axon keeps model.onnx and the external data it references; the rest (config and
    # tokenizer copies) is left behind with the work directory.
    for name in os.listdir(tmp):
        shutil.move(os.path.join(tmp, name), os.path.join(spec["output_dir"], name))
    with torch.no_grad():
        raw = model(**dict(zip(names, tensors)))
    ref = flatten(raw)
    write_sample(spec, "transformers %s (torch %s)" % (transformers.__version__, torch.__version__), names, [t.numpy() for t in tensors], unique(output_names(raw)), [t.float().numpy() for t in ref])
    return {"framework": "transformers", "framework_version": transformers.__version__, "exporter": "optimum"}


# ---------------------------------------------------------------- tensorflow


def find_saved_model(spec):
    base = spec["input_dir"]
    extra = spec.get("extra") or {}
    if extra.get("saved_model"):
        return inside(base, extra["saved_model"])
    for root, dirs, files in os.walk(base):
        dirs.sort()
        if "saved_model.pb" in files:
            return root
    raise Fail("no saved_model.pb in the model directory")


def convert_savedmodel(spec):
    tf = need("tensorflow", None, "tensorflow")
    tf2onnx = need("tf2onnx", None, "tf2onnx")
    np = need("numpy", "python3-numpy")
    path = find_saved_model(spec)
    log("loading SavedModel with tensorflow %s" % tf.__version__)
    loaded = tf.saved_model.load(path)
    sigs = getattr(loaded, "signatures", {})
    if "serving_default" not in sigs:
        raise Fail("the SavedModel has no serving_default signature (has: %s)" % ", ".join(sigs.keys()))
    fn = sigs["serving_default"]
    in_specs = fn.structured_input_signature[1]
    rng = np.random.default_rng(0)
    feeds = {}
    for name in sorted(in_specs):
        s = in_specs[name]
        shape = [d if d is not None else (SAMPLE_BATCH if i == 0 else 224) for i, d in enumerate(s.shape.as_list())]
        if s.dtype.is_floating:
            feeds[name] = rng.standard_normal(shape).astype(s.dtype.as_numpy_dtype)
        elif s.dtype.is_integer:
            feeds[name] = rng.integers(0, 100, shape).astype(s.dtype.as_numpy_dtype)
        elif s.dtype.is_bool:
            feeds[name] = rng.integers(0, 2, shape).astype(bool)
        else:
            raise Fail("cannot make a sample for input %s of type %s" % (name, s.dtype.name))
    out = os.path.join(spec["output_dir"], "model.onnx")
    log("exporting with tf2onnx %s" % tf2onnx.__version__)
    import subprocess

    cmd = [sys.executable, "-m", "tf2onnx.convert", "--saved-model", path, "--signature_def", "serving_default", "--output", out, "--opset", str(int(spec.get("opset") or 17))]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0 or not os.path.isfile(out):
        raise Fail("tf2onnx failed: " + " | ".join(proc.stdout.strip().splitlines()[-5:]))
    res = fn(**{k: tf.constant(v) for k, v in feeds.items()})
    out_names = sorted(res)
    write_sample(spec, "tensorflow " + tf.__version__, list(feeds), list(feeds.values()), out_names, [res[k].numpy() for k in out_names])
    return {"framework": "tensorflow", "framework_version": tf.__version__, "exporter": "tf2onnx " + tf2onnx.__version__}


# ---------------------------------------------------------------- main

KINDS = {
    "torchscript": convert_torchscript,
    "hubconf": convert_hubconf,
    "transformers": convert_transformers,
    "savedmodel": convert_savedmodel,
}


def main():
    ap = argparse.ArgumentParser(description="Convert a model to ONNX for axon")
    ap.add_argument("--spec", required=True, help="spec.json written by axon")
    args = ap.parse_args()
    with open(args.spec) as f:
        spec = json.load(f)
    kind = spec.get("kind")
    try:
        if kind not in KINDS:
            raise Fail("unknown model kind %r (known: %s)" % (kind, ", ".join(sorted(KINDS))))
        os.makedirs(spec["output_dir"], exist_ok=True)
        res = KINDS[kind](spec)
        res["python"] = sys.version.split()[0]
        with open(spec["result"], "w") as f:
            json.dump(res, f, indent=1)
        log("done")
    except Missing as e:
        print("axon-convert: error: %s" % e, file=sys.stderr, flush=True)
        sys.exit(EXIT_MISSING)
    except Fail as e:
        print("axon-convert: error: %s" % e, file=sys.stderr, flush=True)
        sys.exit(EXIT_FAIL)
    except Exception as e:  # the framework's own error: show the traceback, then one line
        traceback.print_exc()
        msg = str(e).strip().splitlines()
        print("axon-convert: error: %s: %s" % (type(e).__name__, msg[-1] if msg else ""), file=sys.stderr, flush=True)
        sys.exit(EXIT_FAIL)


if __name__ == "__main__":
    main()

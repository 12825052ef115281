// Package converter turns a fetched model into ONNX for an axon package.
//
// Callers (the install verb, adapters) use one function:
//
//	res, err := converter.Convert(ctx, converter.Input{
//		Dir:        m.Dir,        // the fetched files
//		Framework:  m.Framework,  // onnx | pytorch | tensorflow | transformers
//		Kind:       m.Kind,       // onnx | torchscript | hubconf | transformers | savedmodel ("" = Detect)
//		Entrypoint: m.Entrypoint, // hubconf function, for Kind hubconf
//		Task:       m.Task,       // picks the transformers head (text-classification...)
//		Files:      m.Files,      // files of the model, relative to Dir (nil = all of Dir)
//		Extra:      m.Extra,      // converter.Extra* keys, see below
//	}, outDir, converter.Options{Backend: "auto"}) // --converter auto|local|docker
//
// Convert writes outDir/model.onnx and its external data files (Result.External,
// paths relative to outDir), and, for converted models, a hard link or copy of every
// input file under outDir/original/ (Result.Originals); Result.Files lists all of them
// in package order. An ONNX input is passed through: the model (Extra["model"],
// model.onnx, onnx/model.onnx or the only .onnx file) is checked with onnx.Inspect and
// placed as outDir/model.onnx with its external data; originals are not duplicated and
// Result.Validation is nil. Other files of the repository (config.json, tokenizer
// files, README) are not copied by Convert: the caller packs them from Dir.
//
// Everything else runs convert.py (embedded, written to a temp dir) under a python3
// that imports the frameworks: locally (--converter local: Options.Python, else the first
// of $AXON_PYTHON, python3 on PATH, /usr/bin/python3, /usr/local/bin/python3 that
// imports them), or in the converter image (--converter docker: Options.Image, default
// $AXON_CONVERTER_IMAGE or axon-converter:latest, built from deploy/converter/Dockerfile;
// run with --network none as the caller's uid). auto picks docker when `docker info`
// answers and the image is present, else local when the frameworks import, else docker
// when the engine answers, else fails naming both ways (ErrNoBackend).
//
// The script exports with a dynamic batch axis (TorchScript and hubconf through
// torch.onnx; transformers through optimum when installed, else torch.onnx with
// dynamic batch and sequence axes; SavedModel through tf2onnx), runs the source
// framework on a sample input and saves input and outputs. Convert then runs the ONNX
// model in ONNX Runtime (internal/ort) on the same input: the largest absolute
// difference is Result.Validation (schemas.Validation, for manifest.yaml), and above
// Options.Tolerance (default 1e-4) the conversion fails with ErrValidation unless
// Options.SkipValidation. The conversion never touches the network: torch.hub
// downloads are refused and Hugging Face libraries run offline.
//
// Extra keys:
//   - ExtraCheckpoints ("checkpoints"): directory in Dir of pre-downloaded files that
//     torch.hub.load_state_dict_from_url must find (TORCH_HOME/hub/checkpoints); the
//     default is Dir/checkpoints when it exists. ExtraTorchHome: an absolute TORCH_HOME
//     with hub/checkpoints instead (mounted read-only in Docker).
//   - ExtraWeights ("weights"): a state dict file in Dir loaded into the entrypoint's module.
//   - ExtraKwargs ("kwargs"): JSON object of entrypoint keyword arguments.
//   - ExtraRepo ("repo"): the directory in Dir holding hubconf.py, when it is neither Dir
//     nor one of its direct subdirectories (a GitHub zipball's top directory is found).
//   - ExtraInputShape ("input_shape", e.g. "1,3,224,224"), ExtraInputDType, ExtraInputName
//     or ExtraInputs (JSON list of {name, shape, dtype}): the sample input, when the
//     model's first layer (Conv*, Linear, Embedding) does not tell it.
//   - ExtraModel ("model"): the ONNX or TorchScript file in Dir; ExtraSavedModel: the
//     SavedModel directory.
//   - ExtraDynamicBatch ("dynamic_batch"): "false" exports fixed shapes. By default torch
//     exports get a dynamic batch axis, checked on a second sample at another batch size;
//     a model whose trace bakes its batch size in fails there with a message naming this key.
//
// Errors are wrapped sentinels: ErrFrameworkMissing (names the Debian/pip package),
// ErrNoBackend, ErrScriptFailed (with the script's error line), ErrTimeout
// (Options.Timeout, default 30 minutes), ErrValidation, ErrUnsupported.
package converter

// Package mlos is MLOS Core's execution layer, behind mlosd.
//
// A Manager keeps the registered models. Registering a reference
// (HOST/REPO:TAG, HOST/REPO@sha256:..., oci-layout://PATH[:TAG|@sha256:...])
// resolves it to a digest, which is recorded; the Puller copies the package
// with oras-go into a content-addressed cache (an OCI image layout under the
// data directory, every blob verified on its way in, nothing fetched twice),
// checks manifest.yaml against the schema and the layers, and lays the files
// out once per digest. The execution Plugin for the package's format (ONNX
// Runtime is built in) loads one shared session per model and reports its I/O
// once, at load.
//
// Requests reach a Model as named tensors (checked against the I/O specs: a
// wrong shape, datatype or name is a 400 naming the input), or as text, which
// the package's tokenizer.json turns into tensors and task post-processing
// turns back into labels, embeddings or generated text: each task is its own
// TextPipeline type with a typed API (Model.Pipeline: ClassificationPipeline,
// FeatureExtractionPipeline, TextGenerationPipeline, TensorPipeline for the
// tasks answered with raw outputs), chosen at load from the manifest's task or
// config.json's architecture (schemas.TaskFromArchitectures). Models whose tensors
// all have a batch first dimension get dynamic batching. Errors carry the
// HTTP status they map to (StatusOf), so the servers never answer bad input
// with a 500.
//
// Registrations live in DATA/models.json and come back on Restore; a model
// that fails to load is kept with its reason while the others serve.
package mlos

package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mlos-foundation/axon"
	"github.com/mlos-foundation/axon/internal/progress"
)

// installFlags are axon install's flags.
type installFlags struct {
	backend, dtype, name, variant string
	validate, offline, force      bool
	include, exclude              []string
	parallel                      int
}

// NewCmdInstall is axon install.
func NewCmdInstall(o *Options) *cobra.Command {
	var opts installFlags
	var quiet bool
	cmd := &cobra.Command{
		Use:   "install REFERENCE",
		Short: "Fetch a model from a hub, convert it to ONNX and store it as a package",
		Long: `Fetch a model from Hugging Face, PyTorch Hub, TensorFlow Hub, ModelScope or a local
directory, pinned to an immutable revision; convert it to ONNX (a shipped ONNX export
is used as is); generate manifest.yaml; store the package in the local store, tagged
HUB/ID@VERSION as asked and HUB/ID@REVISION.

References:
  hf/ORG/NAME[@REV]              Hugging Face (hf/NAME for legacy ids); @latest = main
                                 (also hf://ORG/NAME, hf.co/ORG/NAME, huggingface.co/ORG/NAME)
  pytorch/OWNER/REPO/MODEL[@REF] PyTorch Hub (hubconf.py entrypoint MODEL); @latest = default branch
  tfhub/PUBLISHER/MODEL/VERSION  TensorFlow Hub; tfhub/PUBLISHER/MODEL@latest = newest version
  modelscope/OWNER/NAME[@REV]    ModelScope; @latest = master (also modelscope://, ms://)
  ./DIR, /DIR, file:///DIR       a local directory
  oci://HOST/REPO[:TAG|@DIGEST]  a ModelPack, ModelKit or Docker Model Runner artifact

Downloads are verified (LFS sha256, git blob ids, Sha256 fields, torchvision hash
prefixes), resumed after a cut and cached by digest under $AXON_HOME/cache/hub, so
installing the same revision again downloads nothing. Files already in the
huggingface_hub cache ($HF_HUB_CACHE, default $HF_HOME/hub) are verified and used
instead of downloaded (the cache is only read); HF_HUB_OFFLINE=1 (or --offline)
installs from axon's store or that cache without any request.

A repository that ships ONNX exports (onnx/model.onnx with external data,
onnx/decoder_model_merged.onnx, model_q4.onnx, model_fp16.onnx...) is installed
without conversion: fp32 model.onnx, else decoder_model_merged.onnx, or the one
--variant names; with only quantized or fp16 exports, --variant is required.

Environment: HF_ENDPOINT, HF_TOKEN (else the token file of 'hf auth login',
$HF_HOME/token), HF_HOME, HF_HUB_CACHE, HF_HUB_OFFLINE; MODELSCOPE_DOMAIN, MODELSCOPE_URL_SCHEME,
MODELSCOPE_API_TOKEN; TFHUB_ENDPOINT; AXON_GITHUB_API, GITHUB_TOKEN (PyTorch Hub);
AXON_PYTHON and AXON_CONVERTER_IMAGE (converter).`,
		Example: `  axon install hf/bert-base-uncased@latest
  axon install hf/google-bert/bert-base-uncased@86b5e0934494bd15c9632b12f734a8a67f723594
  axon install hf.co/onnx-community/Qwen3-0.6B-ONNX --variant q4
  axon install pytorch/pytorch/vision/resnet50@v0.16.0 --converter local
  axon install tfhub/google/imagenet/mobilenet_v2_100_224/classification/5
  axon install ./my-model --name team/my-model`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rep := progress.New(cmd.ErrOrStderr(), quiet)
			res, err := axon.Install(cmd.Context(), args[0], o.api(
				axon.WithConverter(opts.backend), axon.WithDType(opts.dtype), axon.WithValidate(opts.validate),
				axon.WithInclude(opts.include...), axon.WithExclude(opts.exclude...), axon.WithConcurrency(opts.parallel),
				axon.WithName(opts.name), axon.WithVariant(opts.variant), axon.WithOffline(opts.offline), axon.WithForce(opts.force),
				axon.WithProgress(rep))...) // oci://REF too
			rep.Wait()
			if err != nil {
				return ifInterrupted(cmd.Context(), err, "install "+args[0]+": interrupted; run it again to continue (finished downloads are kept)")
			}
			m := res.Model
			w := cmd.OutOrStdout()
			how := "converted (" + res.Backend + ")"
			switch {
			case res.Reused:
				how = "already packaged"
			case res.Backend == axon.ConverterPassthrough:
				how = "ONNX as shipped"
				if m.ONNXFile != "" {
					how += " (variant " + m.Variant + ": " + m.ONNXFile + ")"
				}
			}
			fmt.Fprintf(w, "%s\t%s\t%s\n", strings.Join(res.Tags, " "), res.Descriptor.Digest, progress.Bytes(res.Manifest.Resources.Bytes))
			if !quiet {
				fmt.Fprintf(cmd.ErrOrStderr(), "revision %s: %d files downloaded (%s), %d from cache; %s\n",
					m.Revision, m.Downloaded, progress.Bytes(m.DownloadedBytes), m.Cached, how)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.backend, "converter", axon.ConverterAuto, "conversion backend: auto (native for the transformers architectures it handles, else docker if it answers, else local), native (Go, no Python), local (python3 here) or docker")
	f.StringVar(&opts.dtype, "dtype", "fp32", "weight precision of the native converter: fp32 or fp16")
	f.BoolVar(&opts.validate, "validate", false, "compare a native conversion with the transformers model (needs python3 with transformers; without the flag this runs when transformers is importable)")
	f.StringSliceVar(&opts.include, "include", nil, "also fetch repository files matching these globs (** spans directories)")
	f.StringSliceVar(&opts.exclude, "exclude", nil, "do not fetch repository files matching these globs")
	f.IntVar(&opts.parallel, "concurrency", 4, "files downloaded at once")
	// --parallel was the first name; --concurrency matches push, pull and oras.
	f.IntVar(&opts.parallel, "parallel", 4, "files downloaded at once")
	f.MarkHidden("parallel")
	f.StringVar(&opts.name, "name", "", "store the package as NAMESPACE/NAME (default HUB/ID)")
	f.StringVar(&opts.variant, "variant", "", "ONNX export to install when the repository ships several: fp32, fp16, q4, q4f16, quantized, int8... or a file name (default: fp32 model.onnx, else decoder_model_merged.onnx)")
	f.BoolVar(&opts.offline, "offline", false, "send no request: install from the local store or the Hugging Face cache (like HF_HUB_OFFLINE=1)")
	f.BoolVar(&opts.force, "force", false, "convert and package again even if this revision is already stored")
	f.BoolVarP(&quiet, "quiet", "q", false, "no progress output")
	return cmd
}

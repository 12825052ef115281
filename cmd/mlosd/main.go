// Command mlosd is MLOS Core: it pulls axon packages by digest from any OCI
// registry (or an OCI layout on disk), runs them with ONNX Runtime and serves
// inference over the seed API and the KServe v2 REST protocol.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/mlos-foundation/axon/internal/ort"
	"github.com/mlos-foundation/axon/internal/version"
	"github.com/mlos-foundation/axon/mlos"
	"github.com/mlos-foundation/axon/mlos/server"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "mlosd:", err)
		os.Exit(1)
	}
}

func defaultData() string {
	home := os.Getenv("AXON_HOME")
	if home == "" {
		if h, err := os.UserHomeDir(); err == nil {
			home = filepath.Join(h, ".axon")
		}
	}
	return filepath.Join(home, "mlosd")
}

func run() error {
	fs := flag.NewFlagSet("mlosd", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `mlosd (MLOS Core) serves axon packages with ONNX Runtime.

Usage: mlosd [flags]

Declare models with --model REF[=NAME], --models FILE (re-read on SIGHUP) or
--model-dir DIR; or register them with POST /models {"ref": "HOST/REPO@sha256:..."}
or "axon register REF" (guard that with --admin-token, or turn it off with
--admin-api=false). Infer with POST /models/{name}/inference or the KServe v2 API
under /v2; /v2/health/ready answers 200 once every declared model has loaded.

Flags:
`)
		fs.PrintDefaults()
	}
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	data := fs.String("data", defaultData(), "pull cache and registrations ($AXON_HOME/mlosd)")
	ortLib := fs.String("ort-lib", "", "ONNX Runtime shared library (default $"+ort.EnvLibrary+", then standard locations)")
	intra := fs.Int("intra-op-threads", 0, "ONNX Runtime intra-op threads per model (0 = ONNX Runtime default)")
	inter := fs.Int("inter-op-threads", 0, "ONNX Runtime inter-op threads per model (0 = default)")
	spin := fs.Bool("intra-op-spin", false, "let idle ONNX Runtime intra-op threads busy-wait for the next run (off: they sleep, leaving the cores to request handling)")
	maxBatch := fs.Int("max-batch-size", 32, "dynamic batching: most rows per execution for models with a dynamic batch dimension (0 or 1 = off)")
	delay := fs.Duration("max-queue-delay", 0, "dynamic batching: how long a request waits for others to share its execution (0 = only what is already queued)")
	executors := fs.Int("batch-executors", 1, "dynamic batching: batches that may run at once per model (one lets the queue fill the next batch while ONNX Runtime uses its own threads)")
	maxNew := fs.Int("max-new-tokens", mlos.DefaultMaxNewTokensCap, "generation: the most tokens one request may ask for (larger max_new_tokens/max_tokens get 400)")
	maxBody := fs.Int64("max-body", 64<<20, "largest request body in bytes (larger gets 413)")
	insecure := fs.String("plain-http", "", "comma-separated registry hosts spoken to over plain HTTP (loopback always is)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	showVersion := fs.Bool("version", false, "print the version and exit")
	cpuProfile := fs.String("cpu-profile", "", "write a Go CPU profile to this file until mlosd stops (for finding where request time goes)")
	maxInFlight := fs.Int("max-in-flight", 0, "POST requests served at once; more get 429 (0 = max(64, 8 x CPUs))")
	maxInFlightBytes := fs.Int64("max-in-flight-bytes", 0, "sum of request bodies served at once; more get 429 (0 = 4 x --max-body)")
	requireSig := fs.Bool("require-signature", false, "refuse to register packages without a cosign signature that verifies with a --trust-key")
	var trustKeys keyFiles
	fs.Var(&trustKeys, "trust-key", "public key (cosign.pub PEM) whose signatures are trusted (repeatable; see docs/signing.md)")
	var layouts layoutDirs
	fs.Var(&layouts, "allow-layout", "directory whose OCI layouts POST /models may read as oci-layout://PATH (repeatable; default $AXON_HOME, the local axon store; \"none\" allows no layout)")
	var decl declaredFlags
	fs.Func("model", "serve REF (HOST/REPO:TAG, HOST/REPO@sha256:..., oci-layout://PATH@...), optionally as NAME: REF[=NAME]; repeatable", decl.addRef)
	fs.Func("model-dir", "serve the unpacked axon package in DIR (what axon export writes; KServe's /mnt/models), optionally as NAME: DIR[=NAME]; repeatable", decl.addDir)
	fs.StringVar(&decl.file, "models", "", "YAML file of models to serve (models: [{ref|dir, name, options}]); re-read on SIGHUP")
	fs.DurationVar(&decl.poll, "models-poll", 0, "also re-read --models when its content changes, checked this often (for a mounted ConfigMap; 0: only on SIGHUP)")
	adminToken := fs.String("admin-token", os.Getenv("MLOSD_ADMIN_TOKEN"), "require Authorization: Bearer TOKEN on POST/DELETE /models and /v2/repository (default $MLOSD_ADMIN_TOKEN)")
	healthcheck := fs.Bool("healthcheck", false, "ask the mlosd at --addr for /healthz and exit 0 if it answers (a container HEALTHCHECK; the image has no curl)")
	adminAPI := fs.Bool("admin-api", true, "serve the imperative API (POST/DELETE /models, /v2/repository load/unload); false: only declared models")
	// A mistyped flag gets one line and a pointer to --help, not the whole usage.
	fs.SetOutput(io.Discard)
	for _, a := range os.Args[1:] {
		if a == "-h" || a == "-help" || a == "--help" || a == "--h" {
			fs.SetOutput(os.Stderr)
		}
	}
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return fmt.Errorf("%w (see mlosd --help)", err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: mlosd takes only flags (see mlosd --help)", fs.Arg(0))
	}
	if *showVersion {
		fmt.Println("mlosd", version.String())
		return nil
	}
	if *requireSig && len(trustKeys.keys) == 0 {
		return errors.New("--require-signature needs at least one --trust-key PUB")
	}
	if *healthcheck {
		return probe(*addr)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("--log-level %q: %w", *logLevel, err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("--cpu-profile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return fmt.Errorf("--cpu-profile: %w", err)
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	slog.SetDefault(log)

	plain := map[string]bool{}
	for _, h := range strings.Split(*insecure, ",") {
		if h = strings.TrimSpace(h); h != "" {
			plain[h] = true
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// SIGHUP re-reads the declared models (and must not end the process).
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	if _, err := decl.list(); err != nil {
		return err
	}

	mgr, err := mlos.NewManager(ctx, mlos.Options{
		DataDir:      *data,
		ORTLib:       *ortLib,
		Threads:      mlos.Threads{IntraOp: *intra, InterOp: *inter, Spin: *spin},
		Batch:        mlos.BatchOptions{MaxBatchSize: *maxBatch, MaxQueueDelay: *delay, Executors: *executors},
		MaxNewTokens: *maxNew,
		PlainHTTP:    func(host string) bool { return plain[host] },
		Logger:       log,
		// oci-layout:// reads only where the operator allows (see layouts.go).
		RestrictLayouts:  true,
		AllowLayouts:     layouts.dirs(),
		RequireSignature: *requireSig,
		TrustKeys:        trustKeys.keys,
	})
	if err != nil {
		return err
	}
	defer mgr.Close()
	srv := server.New(mgr, server.Options{MaxBody: *maxBody, Logger: log,
		Limits: server.Limits{MaxInFlight: *maxInFlight, MaxInFlightBytes: *maxInFlightBytes},
		Admin:  server.AdminOptions{Token: *adminToken, Disabled: !*adminAPI}})

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 30 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	log.Info("mlosd listening", "addr", ln.Addr().String(), "data", *data, "onnxruntime", ort.LibraryPath(), "version", version.String())

	// Registrations come back in the background; readiness waits for them and
	// for every declared model.
	go func() {
		if err := mgr.Restore(ctx); err != nil {
			log.Error("restore registrations", "err", err)
		}
		serveDeclared(ctx, mgr, srv, &decl, hup, log)
	}()

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		// Requests still running past the deadline are cut off.
		hs.Close()
		return fmt.Errorf("shutdown: requests still running after 15s were cut off: %w", err)
	}
	log.Info("stopped")
	return nil
}

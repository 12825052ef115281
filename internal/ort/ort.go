// Package ort finds the ONNX Runtime shared library and initialises the one
// process-wide ONNX Runtime environment that onnxruntime_go needs.
package ort

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	ortgo "github.com/yalue/onnxruntime_go"
)

// Version is the ONNX Runtime release this project is built and tested against.
const Version = "1.24.1"

// EnvLibrary names the environment variable that points at the library.
const EnvLibrary = "ONNXRUNTIME_LIB"

var (
	mu      sync.Mutex
	libPath string
	initErr error
	inited  bool
)

// ErrNotFound is returned when no ONNX Runtime library can be found.
var ErrNotFound = errors.New("ONNX Runtime library not found")

// Candidates lists where the library is looked for, in order, when no path is given.
func Candidates() []string {
	var c []string
	if p := os.Getenv(EnvLibrary); p != "" {
		c = append(c, p)
	}
	tools := os.Getenv("AXON_TOOLS")
	if tools == "" {
		if home, err := os.UserHomeDir(); err == nil {
			tools = filepath.Join(home, ".cache", "axon-tools")
		}
	}
	if tools != "" {
		c = append(c, filepath.Join(tools, "onnxruntime-"+Version, "libonnxruntime.so"))
	}
	for _, d := range []string{"/usr/lib", "/usr/local/lib", "/opt/onnxruntime/lib", "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu"} {
		c = append(c, filepath.Join(d, "libonnxruntime.so"), filepath.Join(d, "libonnxruntime.so."+Version))
	}
	return c
}

// Find returns the library path Init would use for libPath ("" = discover).
func Find(path string) (string, error) {
	if path != "" {
		if _, err := os.Stat(path); err != nil {
			return "", fmt.Errorf("%w at %s (set %s or run `go tool task ort`)", ErrNotFound, path, EnvLibrary)
		}
		return path, nil
	}
	if p := os.Getenv(EnvLibrary); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%w: %s=%s does not exist (run `go tool task ort`)", ErrNotFound, EnvLibrary, p)
		}
		return p, nil
	}
	for _, p := range Candidates() {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: set %s to libonnxruntime.so %s (install it with `go tool task ort`)", ErrNotFound, EnvLibrary, Version)
}

// Init loads the library and creates the ONNX Runtime environment once per
// process. Later calls return the first call's result, whatever path they
// pass, because onnxruntime_go holds a single global environment.
func Init(path string) error {
	mu.Lock()
	defer mu.Unlock()
	if inited {
		return initErr
	}
	p, err := Find(path)
	if err != nil {
		// Not finding the library is not sticky: the caller may fix the path and retry.
		return err
	}
	inited = true
	ortgo.SetSharedLibraryPath(p)
	// Every ONNX Runtime error also comes back as a status that the caller
	// reports (a 422 for an out-of-range token id, a load failure...); at
	// error level ORT would print each one again, in colour, on stderr.
	if err := ortgo.InitializeEnvironment(ortgo.WithLogLevelFatal()); err != nil {
		initErr = fmt.Errorf("load ONNX Runtime from %s: %w", p, err)
		return initErr
	}
	libPath = p
	return nil
}

// LibraryPath is the library Init loaded ("" before a successful Init).
func LibraryPath() string {
	mu.Lock()
	defer mu.Unlock()
	return libPath
}

// RuntimeVersion is the loaded library's version string ("" before Init).
func RuntimeVersion() string {
	if !ortgo.IsInitialized() {
		return ""
	}
	return ortgo.GetVersion()
}

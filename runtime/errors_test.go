package runtime_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"

	"github.com/mlos-foundation/axon/internal/testutil"
	"github.com/mlos-foundation/axon/runtime"
)

// A cause written with %w stays reachable for errors.Is/As, while the status
// and the one-line message are what they were with %v.
func TestErrorUnwrap(t *testing.T) {
	cause := context.DeadlineExceeded
	err := runtime.BadGateway("resolve %s: %w", "host/repo:1", cause)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("errors.Is(%v, DeadlineExceeded) = false", err)
	}
	if got, want := err.Error(), "resolve host/repo:1: "+cause.Error(); got != want {
		t.Fatalf("message %q, want %q", got, want)
	}
	if runtime.StatusOf(err) != http.StatusBadGateway {
		t.Fatalf("status %d", runtime.StatusOf(err))
	}
	// Without %w there is nothing to unwrap, and nothing is claimed.
	if plain := runtime.BadRequest("input %q: %v", "x", cause); errors.Is(plain, cause) || errors.Unwrap(plain) != nil {
		t.Fatalf("%v unwraps to %v", plain, errors.Unwrap(plain))
	}
	p := runtime.BadParam("max_new_tokens", "max_new_tokens %d is too many", 9)
	if runtime.ParamOf(p) != "max_new_tokens" || runtime.StatusOf(p) != http.StatusBadRequest {
		t.Fatalf("BadParam: %#v", p)
	}
	// Named further down the chain, under an error that names none.
	if outer := runtime.Unavailable("generation: %w", p); runtime.ParamOf(outer) != "max_new_tokens" || runtime.ParamOf(err) != "" {
		t.Fatalf("ParamOf(%v) = %q", outer, runtime.ParamOf(outer))
	}
	nf := runtime.WithParam("model", runtime.NotFound("the model %q is %w", "x", runtime.ErrNotRegistered))
	if runtime.ParamOf(nf) != "model" || runtime.StatusOf(nf) != http.StatusNotFound || !errors.Is(nf, runtime.ErrNotRegistered) {
		t.Fatalf("WithParam: %#v", nf)
	}
}

// The manager's errors keep their causes: an unknown name is ErrNotRegistered,
// a registry that cannot be reached is the network error underneath the 502.
func TestManagerErrorsUnwrap(t *testing.T) {
	m := newManager(t, t.TempDir(), runtime.BatchOptions{})
	err := m.Unregister("no/such-model")
	if !errors.Is(err, runtime.ErrNotRegistered) || runtime.StatusOf(err) != http.StatusNotFound {
		t.Fatalf("Unregister of an unknown name: %v (status %d), want ErrNotRegistered 404", err, runtime.StatusOf(err))
	}
	if err.Error() != `model "no/such-model" is not registered` {
		t.Fatalf("message changed: %q", err.Error())
	}
	// A port nothing listens on (it was free a moment ago).
	addr := testutil.FreeAddr(t)
	_, err = m.Register(context.Background(), addr+"/test/affine:v1", "")
	var oe *net.OpError
	if !errors.As(err, &oe) || runtime.StatusOf(err) != http.StatusBadGateway {
		t.Fatalf("register from a closed port: %v (status %d), want a *net.OpError under a 502", err, runtime.StatusOf(err))
	}
}

package mlos_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"

	"github.com/mlos-foundation/axon/internal/testutil"
	"github.com/mlos-foundation/axon/mlos"
)

// A cause written with %w stays reachable for errors.Is/As, while the status
// and the one-line message are what they were with %v.
func TestErrorUnwrap(t *testing.T) {
	cause := context.DeadlineExceeded
	err := mlos.BadGateway("resolve %s: %w", "host/repo:1", cause)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("errors.Is(%v, DeadlineExceeded) = false", err)
	}
	if got, want := err.Error(), "resolve host/repo:1: "+cause.Error(); got != want {
		t.Fatalf("message %q, want %q", got, want)
	}
	if mlos.StatusOf(err) != http.StatusBadGateway {
		t.Fatalf("status %d", mlos.StatusOf(err))
	}
	// Without %w there is nothing to unwrap, and nothing is claimed.
	if plain := mlos.BadRequest("input %q: %v", "x", cause); errors.Is(plain, cause) || errors.Unwrap(plain) != nil {
		t.Fatalf("%v unwraps to %v", plain, errors.Unwrap(plain))
	}
	p := mlos.BadParam("max_new_tokens", "max_new_tokens %d is too many", 9)
	if mlos.ParamOf(p) != "max_new_tokens" || mlos.StatusOf(p) != http.StatusBadRequest {
		t.Fatalf("BadParam: %#v", p)
	}
	// Named further down the chain, under an error that names none.
	if outer := mlos.Unavailable("generation: %w", p); mlos.ParamOf(outer) != "max_new_tokens" || mlos.ParamOf(err) != "" {
		t.Fatalf("ParamOf(%v) = %q", outer, mlos.ParamOf(outer))
	}
	nf := mlos.WithParam("model", mlos.NotFound("the model %q is %w", "x", mlos.ErrNotRegistered))
	if mlos.ParamOf(nf) != "model" || mlos.StatusOf(nf) != http.StatusNotFound || !errors.Is(nf, mlos.ErrNotRegistered) {
		t.Fatalf("WithParam: %#v", nf)
	}
}

// The manager's errors keep their causes: an unknown name is ErrNotRegistered,
// a registry that cannot be reached is the network error underneath the 502.
func TestManagerErrorsUnwrap(t *testing.T) {
	m := newManager(t, t.TempDir(), mlos.BatchOptions{})
	err := m.Unregister("no/such-model")
	if !errors.Is(err, mlos.ErrNotRegistered) || mlos.StatusOf(err) != http.StatusNotFound {
		t.Fatalf("Unregister of an unknown name: %v (status %d), want ErrNotRegistered 404", err, mlos.StatusOf(err))
	}
	if err.Error() != `model "no/such-model" is not registered` {
		t.Fatalf("message changed: %q", err.Error())
	}
	// A port nothing listens on (it was free a moment ago).
	addr := testutil.FreeAddr(t)
	_, err = m.Register(context.Background(), addr+"/test/affine:v1", "")
	var oe *net.OpError
	if !errors.As(err, &oe) || mlos.StatusOf(err) != http.StatusBadGateway {
		t.Fatalf("register from a closed port: %v (status %d), want a *net.OpError under a 502", err, mlos.StatusOf(err))
	}
}

package axon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/mlos-foundation/axon/internal/reference"
	"github.com/mlos-foundation/axon/mlos/api"
	"github.com/mlos-foundation/axon/mlos/client"
)

// Model is what mlosd says of a model it serves.
type Model = api.Info

// LayoutScheme prefixes a reference into an OCI image layout on the machine
// mlosd runs on (oci-layout://PATH@sha256:...).
const LayoutScheme = api.LayoutScheme

// Registration is what Register did: the model mlosd now serves and the
// reference (pinned by digest where axon could) it was asked to pull.
type Registration struct {
	Model *Model
	Ref   string
}

// MLOSURL is the mlosd address the options name: WithMLOSURL, else
// $MLOS_URL, else http://localhost:8080.
func MLOSURL(opts ...Option) string { return makeOptions(opts).mlosURLOrDefault() }

func (o *options) mlosURLOrDefault() string {
	if o.mlosURL != "" {
		return o.mlosURL
	}
	if u := os.Getenv(client.EnvURL); u != "" {
		return u
	}
	return client.DefaultURL
}

// runtimeClient passes "" on to client.New when no URL was given, so that it
// applies $MLOS_URL and the admin token the same way for every caller.
func (o *options) runtimeClient() *client.Client { return client.New(o.mlosURL) }

// Register asks mlosd (WithMLOSURL) to pull the package ref by digest, load
// it and serve it, under WithName or the package's NAMESPACE/NAME. A local
// package is registered by digest from the registry it was pushed to or, when
// never pushed, from the local store's OCI layout (mlosd on the same
// machine): see RegistrationRef. mlosd never talks to a hub or converts.
func Register(ctx context.Context, ref string, opts ...Option) (*Registration, error) {
	o := makeOptions(opts)
	rref, err := registrationRef(ctx, ref, o)
	if err != nil {
		return nil, err
	}
	info, err := o.runtimeClient().Register(ctx, rref, o.name)
	if err != nil {
		return nil, fmt.Errorf("register %s: %w", ref, err)
	}
	return &Registration{Model: info, Ref: rref}, nil
}

// Unregister stops mlosd serving the model name.
func Unregister(ctx context.Context, name string, opts ...Option) error {
	if err := makeOptions(opts).runtimeClient().Unregister(ctx, name); err != nil {
		return fmt.Errorf("unregister %s: %w", name, err)
	}
	return nil
}

// Served lists the models mlosd serves.
func Served(ctx context.Context, opts ...Option) ([]Model, error) {
	return client.New(makeOptions(opts).mlosURLOrDefault()).List(ctx)
}

// RegistrationRef turns what a user names into a reference mlosd can pull by
// digest, so that a later push of the same tag cannot change what runs: a
// package of the local store becomes HOST/REPO@sha256:... when it was pushed,
// else oci-layout://$AXON_HOME@sha256:...; a registry reference or an
// oci-layout:// reference passes as it is (mlosd resolves its tag).
func RegistrationRef(ctx context.Context, ref string, opts ...Option) (string, error) {
	return registrationRef(ctx, ref, makeOptions(opts))
}

func registrationRef(ctx context.Context, ref string, o *options) (string, error) {
	if strings.HasPrefix(ref, LayoutScheme) {
		return ref, nil
	}
	remote := reference.HasHost(ref)
	st, err := openStore(o)
	if err == nil {
		desc, rerr := st.Resolve(ctx, ref)
		if rerr == nil {
			if remotes := st.Remotes(desc.Digest); len(remotes) > 0 {
				return remotes[0] + "@" + desc.Digest.String(), nil
			}
			return LayoutScheme + st.Path() + "@" + desc.Digest.String(), nil
		}
		if !errors.Is(rerr, ErrNotFound) && !remote {
			return "", rerr
		}
	}
	if remote {
		return ref, nil
	}
	if err != nil {
		return "", fmt.Errorf("open local store: %w", err)
	}
	return "", fmt.Errorf("%s: %w; nor is it a registry reference (HOST/REPO:TAG)", ref, ErrNotFound)
}

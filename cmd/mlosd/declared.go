package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/mlos-foundation/axon/mlos"
	"github.com/mlos-foundation/axon/mlos/server"
)

// declaredFlags collects --model, --model-dir and --models.
type declaredFlags struct {
	flags []mlos.DeclaredModel
	file  string
	poll  time.Duration // re-read file this often (0: only on SIGHUP)
}

func (d *declaredFlags) addRef(s string) error {
	m, err := mlos.ParseModelFlag(s)
	if err != nil {
		return err
	}
	d.flags = append(d.flags, m)
	return nil
}

func (d *declaredFlags) addDir(s string) error {
	m := mlos.DeclaredModel{Dir: s}
	if i := strings.LastIndex(s, "="); i >= 0 {
		m.Dir, m.Name = s[:i], s[i+1:]
	}
	if m.Dir == "" || (strings.Contains(s, "=") && m.Name == "") {
		return fmt.Errorf("--model-dir %q: use DIR or DIR=NAME", s)
	}
	d.flags = append(d.flags, m)
	return nil
}

// list is what is declared now: the flags, then the file as it reads now.
func (d *declaredFlags) list() ([]mlos.DeclaredModel, error) {
	out := append([]mlos.DeclaredModel(nil), d.flags...)
	if d.file != "" {
		more, err := mlos.ReadModelsFile(d.file)
		if err != nil {
			return nil, err
		}
		out = append(out, more...)
	}
	return out, nil
}

// retryEvery is how often declared models that failed to load are tried again.
const retryEvery = 10 * time.Second

// serveDeclared applies the declared models, keeps readiness equal to "every
// declared model loaded", retries failures and re-reads the file on SIGHUP.
// A file that no longer parses on SIGHUP changes nothing.
func serveDeclared(ctx context.Context, mgr *mlos.Manager, srv *server.Server, d *declaredFlags, hup <-chan os.Signal, log *slog.Logger) {
	decls, err := d.list()
	if err != nil {
		log.Error("declared models", "err", err)
	}
	// A mounted ConfigMap changes under the process: --models-poll notices
	// without a signal (Kubernetes swaps the file, mlosd reloads in place).
	var poll <-chan time.Time
	var last []byte
	if d.poll > 0 && d.file != "" {
		t := time.NewTicker(d.poll)
		defer t.Stop()
		poll = t.C
		last, _ = os.ReadFile(d.file)
	}
	// reread reads the declared models again after what happened; a file
	// that does not parse keeps the ones applied (false).
	reread := func(what string) bool {
		next, err := d.list()
		if err != nil {
			log.Error(what+": declared models unchanged", "err", err)
			return false
		}
		log.Info(what+": applying declared models", "count", len(next))
		decls = next
		return true
	}
	var retry <-chan time.Time
	for {
		retry = nil
		if decls != nil || d.file != "" {
			if err := mgr.ApplyDeclared(ctx, decls); err != nil {
				log.Error("declared models not all loaded; retrying", "err", err, "in", retryEvery.String())
				retry = time.After(retryEvery)
			}
		}
		ready := mgr.DeclaredReady()
		srv.SetReady(ready)
		if ready && len(decls) > 0 {
			log.Info("declared models ready", "models", mgr.DeclaredNames())
		}
		// Wait for something to apply: a retry, a changed file, a signal.
		// Nothing is pulled or hashed again while nothing changed.
	wait:
		for {
			select {
			case <-ctx.Done():
				return
			case <-retry:
				break wait
			case <-poll:
				b, err := os.ReadFile(d.file)
				if err != nil || bytes.Equal(b, last) {
					continue
				}
				last = b
				if reread("models file changed") {
					break wait
				}
			case <-hup:
				if reread("SIGHUP") {
					break wait
				}
			}
		}
	}
}

// probe is --healthcheck: GET /healthz on the local listener.
func probe(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--healthcheck: --addr %q: %w", addr, err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + net.JoinHostPort(host, port) + "/healthz")
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: /healthz answers %s", resp.Status)
	}
	return nil
}

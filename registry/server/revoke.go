package server

import (
	"context"
	"encoding/hex"
	"errors"
	"sync"
	"time"

	"github.com/mlos-foundation/axon/registry/storage/driver"
)

// SessionRevocations keeps the web UI's logged-out sessions in the registry's
// storage, so every replica sharing it (and the session key) refuses them.
// It satisfies ui.Revocations.
type SessionRevocations struct {
	s    *Server
	mu   sync.Mutex
	seen map[string]time.Time // revoked ids known here, until their expiry
	live map[string]time.Time // ids found not revoked, until when that answer is reused
}

// liveFor is how long a "not revoked" answer is reused: a logout on another
// replica takes effect here within that (on this replica at once).
const liveFor = 2 * time.Second

// Revocations returns the storage-backed session revocations.
func (s *Server) Revocations() *SessionRevocations {
	return &SessionRevocations{s: s, seen: map[string]time.Time{}, live: map[string]time.Time{}}
}

func revokedPath(id string) string { return "_auth/revoked/" + id }

func validID(id string) bool {
	b, err := hex.DecodeString(id)
	return err == nil && len(b) == 16
}

// Revoke records that session id ended; it is refused until until.
func (r *SessionRevocations) Revoke(id string, until time.Time) {
	if !validID(id) {
		return
	}
	r.mu.Lock()
	r.seen[id] = until
	delete(r.live, id)
	r.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.s.store.Driver().PutContent(ctx, revokedPath(id), []byte(until.UTC().Format(time.RFC3339))); err != nil {
		r.s.log.Warn("record logout", "err", err)
	}
}

// Revoked reports whether session id was logged out (on any replica).
func (r *SessionRevocations) Revoked(id string) bool {
	if !validID(id) {
		return true
	}
	r.mu.Lock()
	_, ok := r.seen[id]
	liveUntil, checked := r.live[id]
	r.mu.Unlock()
	if ok {
		return true
	}
	if checked && time.Now().Before(liveUntil) {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := r.s.store.Driver().GetContent(ctx, revokedPath(id))
	if errors.Is(err, driver.ErrNotFound) {
		r.mu.Lock()
		if len(r.live) > 10000 {
			clear(r.live)
		}
		r.live[id] = time.Now().Add(liveFor)
		r.mu.Unlock()
		return false
	}
	if err != nil {
		return true // cannot tell: refuse, the user logs in again
	}
	until, _ := time.Parse(time.RFC3339, string(b))
	r.mu.Lock()
	r.seen[id] = until
	for k, t := range r.seen {
		if time.Now().After(t) {
			delete(r.seen, k)
		}
	}
	r.mu.Unlock()
	return true
}

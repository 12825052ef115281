package repostore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/mlos-foundation/axon/registry/storage/driver"
)

// Leases exclude other registry processes sharing the storage (replicas on one
// bucket, or on one directory): an upload is written by one request at a time,
// and one GC runs at a time. A lease is a small file created with a
// conditional write (driver.Conditional); its holder renews it while working
// and deletes it when done. One whose holder died is taken over once its
// expiry passed, again by a conditional write, so two takers cannot both win.

// ErrLeaseHeld is returned when another process holds the lease.
var ErrLeaseHeld = errors.New("held by another request")

type leaseDoc struct {
	Owner   string    `json:"owner"`
	Expires time.Time `json:"expires"`
}

type lease struct {
	s    *Store
	path string
	ttl  time.Duration

	mu      sync.Mutex
	doc     leaseDoc
	version string
	lost    bool
	stop    chan struct{}
	done    chan struct{}
}

func newOwner() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// acquireLease takes the lease at p for ttl, renewing it every ttl/3 until
// release. Without a conditional driver it returns a no-op lease: one process
// only.
func (s *Store) acquireLease(ctx context.Context, p string, ttl time.Duration) (*lease, error) {
	c, ok := s.d.(driver.Conditional)
	l := &lease{s: s, path: p, ttl: ttl, stop: make(chan struct{}), done: make(chan struct{})}
	if !ok {
		close(l.done)
		return l, nil
	}
	l.doc = leaseDoc{Owner: newOwner(), Expires: time.Now().Add(ttl)}
	b, _ := json.Marshal(l.doc)
	// take ends the attempt when a conditional write took the lease (l, renewed
	// from now on) or failed; a lost race (nil, nil) goes on.
	take := func(v string, err error) (*lease, error) {
		switch {
		case err == nil:
			l.version = v
			go l.renew(c)
			return l, nil
		case errors.Is(err, driver.ErrPrecondition):
			return nil, nil
		}
		return nil, fmt.Errorf("lease %s: %w", p, err)
	}
	for range 3 {
		if got, err := take(c.PutIfAbsent(ctx, p, b)); got != nil || err != nil {
			return got, err
		}
		cur, ver, err := c.GetVersioned(ctx, p)
		if isNotFound(err) {
			continue // released meanwhile: try again
		}
		if err != nil {
			return nil, fmt.Errorf("lease %s: %w", p, err)
		}
		var held leaseDoc
		if json.Unmarshal(cur, &held) == nil && time.Now().Before(held.Expires) {
			return nil, ErrLeaseHeld
		}
		// expired (its holder died) or unreadable: take it over, unless someone else does first
		if got, err := take(c.PutIfMatch(ctx, p, b, ver)); got != nil || err != nil {
			return got, err
		}
	}
	return nil, ErrLeaseHeld
}

func (l *lease) renew(c driver.Conditional) {
	defer close(l.done)
	t := time.NewTicker(l.ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		l.mu.Lock()
		doc := leaseDoc{Owner: l.doc.Owner, Expires: time.Now().Add(l.ttl)}
		b, _ := json.Marshal(doc)
		ctx, cancel := context.WithTimeout(context.Background(), l.ttl/3)
		v, err := c.PutIfMatch(ctx, l.path, b, l.version)
		cancel()
		if err == nil {
			l.doc, l.version = doc, v
		} else if errors.Is(err, driver.ErrPrecondition) {
			l.lost = true
		} // other errors: try again next tick; the expiry still has 2/3 of ttl
		lost := l.lost
		l.mu.Unlock()
		if lost {
			l.s.log.Warn("lease lost", "path", l.path)
			return
		}
	}
}

// held reports whether the lease is still ours (renewals kept succeeding).
func (l *lease) held() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.version == "" {
		return true // no conditional driver: one process, nothing to lose
	}
	return !l.lost && time.Now().Before(l.doc.Expires)
}

// release ends the lease: the file goes if it is still ours.
func (l *lease) release(ctx context.Context) {
	select {
	case <-l.done:
	default:
		close(l.stop)
		<-l.done
	}
	c, ok := l.s.d.(driver.Conditional)
	if !ok || l.version == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lost {
		return
	}
	// leave it expired rather than delete it: a plain delete could remove the
	// lease of a taker who came in between; the next acquirer takes it over
	b, _ := json.Marshal(leaseDoc{Owner: l.doc.Owner})
	if _, err := c.PutIfMatch(ctx, l.path, b, l.version); err != nil && !errors.Is(err, driver.ErrPrecondition) {
		l.s.log.Warn("release lease", "path", l.path, "err", err)
	}
}

package server

import (
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Failed logins are throttled per user name and per client address: each
// attempt takes a token from both buckets (given back when it succeeds), and a
// login is refused with 429 (before any bcrypt work) while either is empty.
// Successful logins cost nothing, so a user who knows the password is refused only while someone is
// guessing it. Requests with a token or cached credentials are never checked.
const (
	userFailBurst = 10
	userFailEvery = 6 * time.Second // refill: 10 per minute
	addrFailBurst = 30
	addrFailEvery = time.Second
	throttleKeys  = 10000 // buckets kept per kind before full ones are dropped
)

type throttle struct {
	mu     sync.Mutex
	byUser map[string]*rate.Limiter
	byAddr map[string]*rate.Limiter
}

func newThrottle() *throttle {
	return &throttle{byUser: map[string]*rate.Limiter{}, byAddr: map[string]*rate.Limiter{}}
}

func bucket(m map[string]*rate.Limiter, k string, every time.Duration, burst int) *rate.Limiter {
	l, ok := m[k]
	if !ok {
		if len(m) >= throttleKeys {
			for k2, l2 := range m {
				if l2.Tokens() >= float64(l2.Burst()) {
					delete(m, k2) // full again: forgetting it changes nothing
				}
			}
		}
		l = rate.NewLimiter(rate.Every(every), burst)
		m[k] = l
	}
	return l
}

// attempt takes one token from the user's and the address's bucket before the
// password is checked, so that many concurrent guesses cannot all pass the
// check first. It returns a refund for a successful login, or how long to wait.
func (th *throttle) attempt(user, addr string) (refund func(), retry time.Duration) {
	th.mu.Lock()
	defer th.mu.Unlock()
	now := time.Now()
	var taken []*rate.Reservation
	for _, l := range []*rate.Limiter{bucket(th.byUser, user, userFailEvery, userFailBurst), bucket(th.byAddr, addr, addrFailEvery, addrFailBurst)} {
		r := l.ReserveN(now, 1)
		if d := r.DelayFrom(now); d > 0 {
			r.CancelAt(now)
			for _, t := range taken {
				t.CancelAt(now)
			}
			return nil, max(d, time.Second)
		}
		taken = append(taken, r)
	}
	return func() {
		th.mu.Lock()
		defer th.mu.Unlock()
		for _, t := range taken {
			t.Cancel()
		}
	}, 0
}

// clientAddr is the connection's address: not X-Forwarded-For, which a client
// writes itself (behind a proxy all clients share the proxy's budget).
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

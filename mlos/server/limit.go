package server

import (
	"fmt"
	"net/http"
	"runtime"
	"sync"

	"github.com/labstack/echo/v4"
)

// Limits bound what POST requests (inference, registration) hold at once, so
// a burst of large requests is answered 429 instead of exhausting memory.
type Limits struct {
	// MaxInFlight is how many POST requests run at once (default 64: dynamic
	// batching wants concurrency).
	MaxInFlight int
	// MaxInFlightBytes bounds the sum of their bodies (Content-Length; a body
	// of unknown length counts as the body limit). Default 4x the body
	// limit. One request is always admitted when none runs.
	MaxInFlightBytes int64
}

type gate struct {
	mu       sync.Mutex
	n        int
	bytes    int64
	maxN     int
	maxBytes int64
}

func (g *gate) enter(weight int64) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.n > 0 && (g.n >= g.maxN || g.bytes+weight > g.maxBytes) {
		return false
	}
	g.n++
	g.bytes += weight
	return true
}

func (g *gate) leave(weight int64) {
	g.mu.Lock()
	g.n--
	g.bytes -= weight
	g.mu.Unlock()
}

// admit is the middleware that applies the limits to POST requests.
func (s *Server) admit(l Limits) echo.MiddlewareFunc {
	if l.MaxInFlight <= 0 {
		l.MaxInFlight = max(64, 8*runtime.GOMAXPROCS(0))
	}
	if l.MaxInFlightBytes <= 0 {
		l.MaxInFlightBytes = 4 * s.max
	}
	s.gate = &gate{maxN: l.MaxInFlight, maxBytes: l.MaxInFlightBytes}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if c.Request().Method != http.MethodPost {
				return next(c)
			}
			weight := c.Request().ContentLength
			if weight < 0 || weight > s.max {
				weight = s.max
			}
			if !s.gate.enter(weight) {
				c.Response().Header().Set("Retry-After", "1")
				return echo.NewHTTPError(http.StatusTooManyRequests, fmt.Sprintf("mlosd is busy (at most %d requests or %d bytes of request bodies at once); retry shortly", l.MaxInFlight, l.MaxInFlightBytes))
			}
			defer s.gate.leave(weight)
			return next(c)
		}
	}
}

package ui

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// UI serves the pages and the API from its index.
type UI struct {
	src   Source
	opts  Options
	log   *slog.Logger
	idx   *index
	pages *pages

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	pending map[string]time.Time // repository → time of the first unprocessed push
	busy    bool
	wake    chan struct{}
}

// New builds the UI and starts seeding its index from src in the background;
// Ready reports when the seed is done. Close stops the background work.
func New(src Source, opts Options) (*UI, error) {
	if src == nil {
		return nil, errors.New("ui: no source")
	}
	if opts.RuntimeURL == "" {
		opts.RuntimeURL = "localhost:8080"
	}
	if opts.PerPage <= 0 {
		opts.PerPage = 24
	}
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = 12 * time.Hour
	}
	if len(opts.SessionKey) == 0 {
		opts.SessionKey = make([]byte, 32)
		rand.Read(opts.SessionKey)
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	p, err := newPages()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	u := &UI{
		src: src, opts: opts, log: log.With("component", "ui"), idx: newIndex(src), pages: p,
		ctx: ctx, cancel: cancel, done: make(chan struct{}),
		pending: map[string]time.Time{}, wake: make(chan struct{}, 1),
	}
	go u.run()
	return u, nil
}

// run seeds the index, then applies queued changes. Changes that arrive during
// the seed wait in the queue, so a slow seed never overwrites a newer state.
func (u *UI) run() {
	defer close(u.done)
	start := time.Now()
	if err := u.idx.seed(u.ctx, 8); err != nil && u.ctx.Err() == nil {
		u.log.Warn("index seed incomplete", "err", err)
	}
	u.idx.ready.Store(true)
	u.log.Info("index ready", "repositories", u.idx.stats().Repositories, "took", time.Since(start).Round(time.Millisecond))
	for {
		u.mu.Lock()
		batch := u.pending
		u.pending = map[string]time.Time{}
		u.busy = len(batch) > 0
		u.mu.Unlock()
		for repo, pushed := range batch {
			if err := u.idx.refresh(u.ctx, repo, pushed); err != nil && u.ctx.Err() == nil {
				u.log.Warn("index refresh", "repository", repo, "err", err)
			}
		}
		u.mu.Lock()
		u.busy = false
		u.mu.Unlock()
		if len(batch) > 0 {
			continue
		}
		select {
		case <-u.wake:
		case <-u.ctx.Done():
			return
		}
	}
}

// Notify records a change in the registry. It never blocks on storage: the
// repository is queued and re-read by the index's worker.
func (u *UI) Notify(ev Event) {
	if ev.Repository == "" {
		return
	}
	var pushed time.Time
	if ev.Action == ActionPush {
		pushed = u.idx.now()
	}
	u.mu.Lock()
	// Keep the first push time of a batch: it is when the change became visible.
	if prev, ok := u.pending[ev.Repository]; !ok || prev.IsZero() {
		u.pending[ev.Repository] = pushed
	}
	u.mu.Unlock()
	select {
	case u.wake <- struct{}{}:
	default:
	}
}

// Ready reports whether the startup seed of the index is done.
func (u *UI) Ready() bool { return u.idx.ready.Load() }

// Sync waits until the seed is done and every change notified so far is in the
// index. Tests and tools use it; the registry need not.
func (u *UI) Sync(ctx context.Context) error {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		u.mu.Lock()
		idle := len(u.pending) == 0 && !u.busy
		u.mu.Unlock()
		if idle && u.Ready() {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-u.done:
			return errors.New("ui: closed")
		case <-t.C:
		}
	}
}

// Close stops the index's background work.
func (u *UI) Close() error {
	u.cancel()
	<-u.done
	return nil
}

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
	pending map[string]change // repositories to re-read
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
	if opts.Revocations == nil {
		opts.Revocations = NewMemRevocations()
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
		src: src, opts: opts, log: log.With("component", "ui"), idx: newIndex(src, log.With("component", "ui")), pages: p,
		ctx: ctx, cancel: cancel, done: make(chan struct{}),
		pending: map[string]change{}, wake: make(chan struct{}, 1),
	}
	go u.run()
	return u, nil
}

// run seeds the index, then applies queued changes. Changes that arrive during
// the seed wait in the queue, so a slow seed never overwrites a newer state.
func (u *UI) run() {
	defer close(u.done)
	start := time.Now()
	// A registry whose storage is not reachable yet (S3 starting) is retried; the
	// pages say "indexing" meanwhile and changes wait in the queue.
	for wait := time.Second; ; wait = min(2*wait, 30*time.Second) {
		err := u.idx.seed(u.ctx, 8, false)
		if err == nil || u.ctx.Err() != nil {
			break
		}
		u.log.Warn("index seed failed; retrying", "err", err, "in", wait)
		select {
		case <-time.After(wait):
		case <-u.ctx.Done():
			return
		}
	}
	var resync <-chan time.Time
	if u.opts.ResyncInterval > 0 {
		t := time.NewTicker(u.opts.ResyncInterval)
		defer t.Stop()
		resync = t.C
	}
	u.idx.ready.Store(true)
	u.log.Info("index ready", "repositories", u.idx.stats().Repositories, "took", time.Since(start).Round(time.Millisecond))
	for {
		u.mu.Lock()
		batch := u.pending
		u.pending = map[string]change{}
		u.busy = len(batch) > 0
		u.mu.Unlock()
		// A few repositories at a time: a burst of pushes to S3-backed storage
		// should not queue behind one slow read.
		sem := make(chan struct{}, 4)
		var wg sync.WaitGroup
		for repo, ch := range batch {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				if err := u.idx.refresh(u.ctx, repo, ch.pushed, ch.byDigest, ch.pushed.IsZero()); err != nil && u.ctx.Err() == nil {
					u.log.Warn("index refresh", "repository", repo, "err", err)
				}
			})
		}
		wg.Wait()
		u.mu.Lock()
		u.busy = false
		u.mu.Unlock()
		if len(batch) > 0 {
			continue
		}
		select {
		case <-u.wake:
		case <-resync:
			// Runs here, between batches, so it never races a Notify refresh.
			if err := u.idx.seed(u.ctx, 4, true); err != nil && u.ctx.Err() == nil {
				u.log.Warn("index resync", "err", err)
			}
		case <-u.ctx.Done():
			return
		}
	}
}

// change is what is queued for one repository.
type change struct {
	pushed   time.Time // first push seen since the last refresh (zero: only deletes)
	byDigest bool      // a manifest pushed or deleted by digest: maybe a referrer
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
	ch := u.pending[ev.Repository]
	// Keep the first push time of a batch: it is when the change became visible.
	if ch.pushed.IsZero() {
		ch.pushed = pushed
	}
	ch.byDigest = ch.byDigest || ev.Tag == ""
	u.pending[ev.Repository] = ch
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
	t := time.NewTicker(time.Millisecond)
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

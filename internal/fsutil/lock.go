package fsutil

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// lockPoll is how often a waiting Lock tries again. flock(2) has no timeout and
// a blocking flock ignores signals' cancellation, so the wait polls instead and
// ends as soon as ctx does (ctrl-C while another process holds the lock).
const lockPoll = 50 * time.Millisecond

// Lock takes an exclusive advisory lock (flock) on path, creating the file when
// needed, and waits until it is free or ctx ends. The returned func releases it.
// The lock is per open file: it also excludes other goroutines of this process.
func Lock(ctx context.Context, path string) (unlock func(), err error) {
	return lock(ctx, path, syscall.LOCK_EX)
}

// LockShared is Lock for a shared lock: many holders at once, none while an
// exclusive Lock is held.
func LockShared(ctx context.Context, path string) (unlock func(), err error) {
	return lock(ctx, path, syscall.LOCK_SH)
}

func lock(ctx context.Context, path string, how int) (func(), error) {
	f, err := lockFile(ctx, path, how)
	if err != nil {
		return nil, err
	}
	return func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}

// lockFile opens path (creating it) and locks the open file.
func lockFile(ctx context.Context, path string, how int) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	var t *time.Timer
	for {
		err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if t == nil {
			t = time.NewTimer(lockPoll)
			defer t.Stop()
		} else {
			t.Reset(lockPoll)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, &LockError{Path: path, Err: ctx.Err()}
		case <-t.C:
		}
	}
}

// LockError: the wait for a lock another process holds ended (ctrl-C, a
// deadline). errors.Is matches context.Canceled / DeadlineExceeded.
type LockError struct {
	Path string
	Err  error
}

func (e *LockError) Error() string {
	return fmt.Sprintf("gave up waiting for %s, held by another axon process: %v", e.Path, e.Err)
}

func (e *LockError) Unwrap() error { return e.Err }

package fsutil

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A generous bound: Lock must return once ctx ends, however loaded the machine.
const returnsWithin = 30 * time.Second

// lockResult runs Lock in a goroutine and waits (at most returnsWithin) for it.
func lockResult(t *testing.T, ctx context.Context, path string) (func(), error) {
	t.Helper()
	type res struct {
		unlock func()
		err    error
	}
	ch := make(chan res, 1)
	go func() {
		u, err := Lock(ctx, path)
		ch <- res{u, err}
	}()
	select {
	case r := <-ch:
		return r.unlock, r.err
	case <-time.After(returnsWithin):
		t.Fatalf("Lock(%s) did not return after its context ended", path)
		return nil, nil
	}
}

func TestLockCancelWhileHeld(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	unlock, err := Lock(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(100 * time.Millisecond); cancel() }() // ctrl-C while waiting
	_, err = lockResult(t, ctx, path)
	var le *LockError
	if !errors.Is(err, context.Canceled) || !errors.As(err, &le) || !strings.Contains(err.Error(), "held by another axon process") {
		t.Fatalf("cancelled wait: %v, want a LockError wrapping context.Canceled", err)
	}
	// Already cancelled: no wait at all, same answer.
	if _, err := lockResult(t, ctx, path); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled before waiting: %v", err)
	}
	unlock()
	u2, err := Lock(context.Background(), path)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	u2()
}

func TestLockShared(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.lock")
	a, err := LockShared(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := LockShared(context.Background(), path)
	if err != nil {
		t.Fatalf("second shared lock: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := lockResult(t, ctx, path); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("exclusive lock while shared ones are held: %v", err)
	}
	a()
	b()
	u, err := Lock(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	u()
}

// holderEnv makes the re-executed test binary hold a lock for its parent.
const holderEnv = "FSUTIL_TEST_LOCK_HOLDER"

func TestMain(m *testing.M) {
	if p := os.Getenv(holderEnv); p != "" {
		unlock, err := Lock(context.Background(), p)
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println("locked")
		bufio.NewReader(os.Stdin).ReadString('\n') // until the parent closes stdin
		unlock()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestLockHeldByAnotherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.lock")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), holderEnv+"="+path)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "locked\n" {
		t.Fatalf("holder process: %q %v", line, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(200 * time.Millisecond); cancel() }()
	if _, err := lockResult(t, ctx, path); !errors.Is(err, context.Canceled) {
		t.Fatalf("lock held by another process, cancelled: %v", err)
	}
	stdin.Close() // the holder releases and exits
	unlock, err := lockResult(t, context.Background(), path)
	if err != nil {
		t.Fatalf("lock after the other process released it: %v", err)
	}
	unlock()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("holder process: %v", err)
	}
}

package testutil

import "sync"

// Repeat calls f over and over in n goroutines (a load generator) until stop
// is called; f returning false ends its goroutine early. stop waits for the
// goroutines to end.
func Repeat(n int, f func() bool) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				if !f() {
					return
				}
			}
		}()
	}
	return func() {
		close(done)
		wg.Wait()
	}
}

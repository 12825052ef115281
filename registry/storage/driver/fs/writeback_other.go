//go:build !linux

package fs

// startWriteback is a no-op where sync_file_range(2) does not exist: the fsync
// at commit writes everything.
func startWriteback(fd uintptr, off, n int64) {}

package fs

import "golang.org/x/sys/unix"

// startWriteback starts writing [off, off+n) of the file to disk without
// waiting for it (sync_file_range(2), SYNC_FILE_RANGE_WRITE). An error only
// means the later fsync has more to do, so it is ignored.
func startWriteback(fd uintptr, off, n int64) {
	unix.SyncFileRange(int(fd), off, n, unix.SYNC_FILE_RANGE_WRITE)
}

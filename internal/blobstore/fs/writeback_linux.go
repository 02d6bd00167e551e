package fs

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to start writing the range to disk now,
// without waiting for it. Streaming a layer then overlaps the disk's work
// with the network's, and the fsync that acknowledges the part waits only
// for the tail. A failure is ignored: the fsync that follows is what
// guarantees durability, and reports any error.
func startWriteback(f *os.File, off, n int64) {
	_ = unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE)
}

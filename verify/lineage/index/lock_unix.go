//go:build unix

package index

import (
	"os"
	"syscall"
)

// fileLock is an advisory lock on a file beside the SQLite database, held across processes
// while the schema is made and while a write transaction runs. Waiters sleep in the kernel and
// wake the moment the holder lets go, where SQLite's busy handler polls with sleeps of up to
// 100 ms; and opening a new file at once from several processes no longer races to create its
// schema and to switch it to WAL.
type fileLock struct{ f *os.File }

// openLock opens (creating it if need be) the lock file at path; nil when it cannot, and then
// SQLite's own locking, with its busy timeout, is all there is.
func openLock(path string) *fileLock {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil
	}
	return &fileLock{f}
}

func (l *fileLock) lock() {
	if l == nil {
		return
	}
	for {
		if err := syscall.Flock(int(l.f.Fd()), syscall.LOCK_EX); err != syscall.EINTR {
			return
		}
	}
}

func (l *fileLock) unlock() {
	if l != nil {
		syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	}
}

func (l *fileLock) close() {
	if l != nil {
		l.f.Close()
	}
}

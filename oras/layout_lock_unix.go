//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package oras

import (
	"errors"
	"os"
	"syscall"
)

// lockFile takes an exclusive lock on the file at path, creating it, and returns the function
// that releases it. It blocks while another process holds the lock. On Linux, flock(2) on NFS
// is carried out as a POSIX lock, which NFS servers honour across clients.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

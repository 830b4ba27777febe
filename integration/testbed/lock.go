package testbed

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// Lock holds an exclusive flock(2) on a file: one test bed command at a
// time changes a work dir's services. The kernel drops the lock when the
// process dies, so a crashed holder never blocks the next one.
type Lock struct{ f *os.File }

// ErrLockTimeout is returned when the lock stayed taken for the whole wait.
var ErrLockTimeout = errors.New("lock held by another process")

// TakeLock locks path, waiting at most wait (polling; a zero wait tries
// once). waiting, when not nil, is called once if the lock is taken.
func TakeLock(path string, wait time.Duration, waiting func()) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(wait)
	for told := false; ; {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return &Lock{f: f}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("flock %s: %w", path, err)
		}
		if !time.Now().Before(deadline) {
			f.Close()
			return nil, fmt.Errorf("%s: %w for %s", path, ErrLockTimeout, wait)
		}
		if !told && waiting != nil {
			waiting()
			told = true
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Release unlocks (closing the file drops the flock).
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

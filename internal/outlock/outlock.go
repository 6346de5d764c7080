// Package outlock makes sure that one process at a time writes a set of output files: the
// writer holds an advisory lock (flock) on a lock file beside them, which records its
// process id. The kernel drops the lock when the process ends, however it ends, so a lock
// file left by a killed run is stale: the next run takes it over.
package outlock

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/segment-dev/segment/internal/regular"
)

// afterOpen, when a test sets it, runs between Acquire's open and its lock: where another
// process's Release can remove the file.
var afterOpen func(path string)

// A Lock is held on a lock file until Release.
type Lock struct {
	path string
	f    *os.File
}

// HeldError says that another process holds the lock.
type HeldError struct {
	Path string // the lock file
	PID  int    // the holder's process id, as it recorded it; 0 if unknown
}

func (e *HeldError) Error() string {
	who := "another process"
	if e.PID > 0 {
		who = fmt.Sprintf("another process (pid %d)", e.PID)
	}
	return fmt.Sprintf("%s: locked by %s that writes the same outputs; wait for it to end, or choose another output name", e.Path, who)
}

// Acquire takes the lock file at path, creating it, without waiting: when another process
// holds it the error is a *HeldError naming that process.
func Acquire(path string) (*Lock, error) {
	for range 100 {
		// A named pipe or a device in the lock's place is no lock file: refused by its type
		// before it is opened, and so never removed below as a lock file left empty.
		if err := regular.Check(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o666)
		if err != nil {
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if afterOpen != nil {
			afterOpen(path)
		}
		if err := lockNow(f); err != nil {
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, &HeldError{Path: path, PID: readPID(path)}
			}
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		// The holder before us may have removed the file between our open and our lock:
		// the lock is then on a file no one else will find. Lock the file at path instead.
		if !samePath(f, path) {
			f.Close()
			continue
		}
		if err := writePID(f); err != nil {
			// We hold the lock, so the file is ours to remove (as Release does): a full
			// disk must not leave an empty lock file behind.
			os.Remove(path)
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		return &Lock{path: path, f: f}, nil
	}
	return nil, fmt.Errorf("lock %s: the file keeps being replaced", path)
}

// Check reports whether another process holds the lock file at path, without taking it or
// creating it: nil when it is free (or absent), else a *HeldError. It lets a command fail
// at once, before work that comes ahead of its Acquire. It holds a shared lock for a
// moment, which an Acquire at that moment tells apart from a holder.
func Check(path string) error {
	f, err := regular.Open(path)
	if errors.Is(err, regular.ErrNotRegular) {
		return fmt.Errorf("lock %s: %w", path, err)
	}
	if err != nil {
		return nil // no lock file: no holder; Acquire reports any other problem
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return &HeldError{Path: path, PID: readPID(path)}
		}
		return nil
	}
	return syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
}

// Release removes the lock file and drops the lock. It is safe to call more than once.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	// Removed while still locked, so that no one takes a lock on it that a new file at
	// path would not see (Acquire checks for that too).
	err := os.Remove(l.path)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	return err
}

// lockNow takes the exclusive lock of f without waiting for a holder. Another process's
// Check holds the lock for a moment, which is not a holder: a few tries over 50 ms tell the
// two apart.
func lockNow(f *os.File) error {
	var err error
	for try := range 5 {
		if try > 0 {
			time.Sleep(10 * time.Millisecond)
		}
		if err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); !errors.Is(err, syscall.EWOULDBLOCK) {
			return err
		}
	}
	return err
}

// samePath says whether the open file f is the file now at path.
func samePath(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(path)
	return err == nil && os.SameFile(a, b)
}

// writePID records the holder's process id, for the message of the next process.
func writePID(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return err
}

// readPID reads the holder's process id from the lock file, 0 when it cannot.
func readPID(path string) int {
	b, err := regular.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid < 0 {
		return 0
	}
	return pid
}

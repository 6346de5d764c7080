package outlock

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/segment-dev/segment/internal/regular"
	"github.com/segment-dev/segment/internal/sharedtest"
)

// The test binary doubles as the other process: with OUTLOCK_HELPER set it takes that lock,
// says "locked" and holds it until its standard input closes or it is killed.
func TestMain(m *testing.M) {
	if path := os.Getenv("OUTLOCK_HELPER"); path != "" {
		l, err := Acquire(path)
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(3)
		}
		fmt.Println("locked")
		bufio.NewReader(os.Stdin).ReadString('\n')
		l.Release()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// holder starts a helper process holding the lock at path and waits until it has it.
func holder(t *testing.T, path string) (*exec.Cmd, func()) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "OUTLOCK_HELPER="+path)
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
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	if strings.TrimSpace(line) != "locked" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper: %q", line)
	}
	return cmd, func() { stdin.Close(); cmd.Wait() }
}

func TestSecondProcessIsRefusedWithTheHoldersPID(t *testing.T) {
	path := filepath.Join(t.TempDir(), "model.lock")
	cmd, stop := holder(t, path)
	defer stop()

	if err := Check(path); err == nil {
		t.Fatal("Check: the lock held by the helper reads as free")
	}
	l, err := Acquire(path)
	var held *HeldError
	if !errors.As(err, &held) {
		l.Release()
		t.Fatalf("Acquire while the helper holds the lock: %v, want a HeldError", err)
	}
	if held.PID != cmd.Process.Pid {
		t.Errorf("HeldError.PID = %d, want the helper's %d", held.PID, cmd.Process.Pid)
	}
	if msg := err.Error(); !strings.Contains(msg, strconv.Itoa(cmd.Process.Pid)) || !strings.Contains(msg, path) {
		t.Errorf("message %q does not name the lock file and the helper's pid", msg)
	}

	// Released by the helper: the lock is free, and the file is gone.
	stop()
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lock file after release: %v, want it removed", err)
	}
	l, err = Acquire(path)
	if err != nil {
		t.Fatalf("Acquire after the helper released: %v", err)
	}
	l.Release()
}

func TestStaleLockOfAKilledProcessIsTakenOver(t *testing.T) {
	path := filepath.Join(t.TempDir(), "model.lock")
	cmd, stop := holder(t, path)
	cmd.Process.Kill() // kill -9: no Release, the lock file stays
	stop()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the killed helper's lock file: %v", err)
	}
	if err := Check(path); err != nil {
		t.Fatalf("Check on a stale lock: %v", err)
	}
	l, err := Acquire(path)
	if err != nil {
		t.Fatalf("Acquire on a stale lock: %v", err)
	}
	defer l.Release()
	if got := readPID(path); got != os.Getpid() {
		t.Errorf("lock file records pid %d, want ours %d", got, os.Getpid())
	}
	// Held by us, a second holder (the helper again) is refused.
	c := exec.Command(os.Args[0], "-test.run=^$")
	c.Env = append(os.Environ(), "OUTLOCK_HELPER="+path)
	out, err := c.Output()
	if err == nil || !strings.Contains(string(out), strconv.Itoa(os.Getpid())) {
		t.Errorf("a second process while we hold the lock: %v, %q; want refused naming pid %d", err, out, os.Getpid())
	}
}

func TestReleaseTwiceAndCheckWithoutFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	if err := Check(path); err != nil {
		t.Errorf("Check without a lock file: %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Check created the lock file")
	}
	l, err := Acquire(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(); err != nil {
		t.Errorf("second Release: %v", err)
	}
}

func TestAcquireInAMissingFolderNamesThePath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "x.lock")
	_, err := Acquire(path)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("Acquire in a missing folder: %v", err)
	}
}

// TestAcquireLocksTheFileAtPath: the holder releases (removing the file) and a third
// process takes a new file at path, all between Acquire's open and its lock. Acquire must
// not keep its lock on the removed file, which no one else sees, but find the new holder.
func TestAcquireLocksTheFileAtPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.lock")
	var other *os.File
	defer func() {
		if other != nil {
			other.Close()
		}
	}()
	afterOpen = func(p string) {
		afterOpen = nil
		os.Remove(p)
		f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o666)
		if err != nil {
			t.Fatal(err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			t.Fatal(err)
		}
		other = f
	}
	defer func() { afterOpen = nil }()
	l, err := Acquire(path)
	var held *HeldError
	if !errors.As(err, &held) {
		l.Release()
		t.Fatalf("Acquire while the file at path is held: %v, want a HeldError", err)
	}
}

// A named pipe where the lock file goes is refused by its type, naming it: Check does not
// block on opening it (as a plain open of a pipe does until a writer comes), and Acquire
// leaves it where it is.
func TestLockFileOfAnotherTypeRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.lock")
	if err := syscall.Mkfifo(path, 0o666); err != nil {
		t.Skipf("cannot make a named pipe here: %v", err)
	}
	var err error
	if !sharedtest.Returns(5*time.Second, func() { err = Check(path) }) {
		t.Fatal("Check blocks on a named pipe at the lock's path")
	}
	if !errors.Is(err, regular.ErrNotRegular) || !strings.Contains(err.Error(), path) {
		t.Errorf("Check: %v; want an error naming %s and saying it is not a regular file", err, path)
	}
	l, err := Acquire(path)
	if !errors.Is(err, regular.ErrNotRegular) || !strings.Contains(err.Error(), path) {
		l.Release()
		t.Errorf("Acquire: %v; want an error naming %s and saying it is not a regular file", err, path)
	}
	if fi, err := os.Lstat(path); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the named pipe at %s is gone or replaced (%v)", path, err)
	}
}

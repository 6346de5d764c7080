// Package regular opens the files a user names for reading, refusing everything that is not
// a regular file. Opening a named pipe blocks until something writes to it, and reading a
// device or a socket may never end: a process stuck so ignores its context, so the type is
// checked before the file is opened, and once more on the open file, in case the name was
// swapped between the two. Every command reads its inputs (images, masks, models, stacks)
// through Open.
package regular

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// ErrNotRegular is the problem of a path that names a folder, a named pipe, a socket, a
// device or anything else that is not a regular file. Errors of this package wrap it in an
// *fs.PathError naming the path.
var ErrNotRegular = errors.New("not a regular file")

// betweenCheckAndOpen, when a test sets it, runs after Open's check and before it opens the
// file, so that the test can swap the file for a named pipe there.
var betweenCheckAndOpen func(path string)

// Check returns nil when path is a regular file or a symbolic link to one; otherwise an
// *fs.PathError naming path: its Err wraps ErrNotRegular and says what the path is, or is
// the error of os.Stat (a missing file, a loop of symbolic links). It opens nothing.
func Check(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	return checkMode(path, st.Mode())
}

// Open opens path for reading when it is a regular file (see Check). The file is opened
// without blocking, so that a named pipe put in its place after the check cannot hold the
// process, and the open file is checked again.
func Open(path string) (*os.File, error) {
	if err := Check(path); err != nil {
		return nil, err
	}
	if betweenCheckAndOpen != nil {
		betweenCheckAndOpen(path)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err == nil {
		err = checkMode(path, st.Mode())
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// ReadFile reads the whole of path, as os.ReadFile does, when it is a regular file.
func ReadFile(path string) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// checkMode gives the error of a path whose mode is not a regular file's.
func checkMode(path string, m fs.FileMode) error {
	if m.IsRegular() {
		return nil
	}
	return &fs.PathError{Op: "open", Path: path, Err: fmt.Errorf("%w: %s", ErrNotRegular, describe(m))}
}

// describe names the kind of file of mode m for people.
func describe(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "it is a folder"
	case m&fs.ModeNamedPipe != 0:
		return "it is a named pipe (FIFO), which would block the read"
	case m&fs.ModeSocket != 0:
		return "it is a socket"
	case m&fs.ModeCharDevice != 0:
		return "it is a character device"
	case m&fs.ModeDevice != 0:
		return "it is a block device"
	}
	return fmt.Sprintf("its type is %v", m.Type())
}

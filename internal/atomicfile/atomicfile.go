// Package atomicfile writes files so that a reader never sees half of one: the content goes
// to a temporary file in the same directory, which is synced, closed and renamed over the
// destination. On any error the temporary file is removed and whatever was at the
// destination stays as it was. Every file the project writes (models, checkpoints, logs,
// pictures, masks) goes through it.
package atomicfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"

	"github.com/segment-dev/segment/internal/killpoint"
)

// beforeRename, when a test sets it, runs after the temporary file is written and synced and
// before it is renamed; an error from it fails the write there.
var beforeRename func(tmp string) error

// SetBeforeRenameHook makes every write call f just before its rename, so that tests can
// fail a write at its last moment; the returned function removes the hook.
func SetBeforeRenameHook(f func(tmp string) error) (restore func()) {
	old := beforeRename
	beforeRename = f
	return func() { beforeRename = old }
}

// Write writes the file at path with write, which gets a buffered writer. A new file gets
// mode 0666 less the umask; a file that replaces another keeps the other's permissions.
// Errors read "write PATH: problem".
func Write(path string, write func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if base == "" {
		return fmt.Errorf("write %s: no file name", path)
	}
	if dir == "" {
		dir = "."
	}
	tmp, f, err := createTemp(dir, base)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close() // a second Close of a closed file only returns an error
			os.Remove(tmp)
			err = fmt.Errorf("write %s: %w", path, err)
		}
	}()
	killpoint.HereFor("write-begin", base)
	if st, statErr := os.Stat(path); statErr == nil && st.Mode().IsRegular() {
		if err := f.Chmod(st.Mode().Perm()); err != nil {
			return err
		}
	}
	bw := bufio.NewWriterSize(f, 1<<16)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if beforeRename != nil {
		if err := beforeRename(tmp); err != nil {
			return err
		}
	}
	killpoint.HereFor("write-rename", base)
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	killpoint.HereFor("write-done", base)
	// Make the rename itself durable. The file is in place whatever happens here, so a
	// directory that cannot be synced (some file systems refuse) is not an error.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// WriteBytes writes data to path, atomically, as Write does.
func WriteBytes(path string, data []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// createTemp makes a new file ".BASE.tmp-RANDOM" in dir, created with mode 0666 so that the
// umask applies as it does to any new file.
func createTemp(dir, base string) (string, *os.File, error) {
	for range 100 {
		name := filepath.Join(dir, "."+base+".tmp-"+strconv.FormatUint(rand.Uint64(), 36))
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return name, f, err
	}
	return "", nil, errors.New("cannot find an unused temporary file name")
}

// RemoveStale removes the temporary files that writes of path left behind when their
// process was killed before the rename (".BASE.tmp-*" beside it), and returns how many it
// removed. Only a run that owns path should call it: a temporary file of a write still in
// progress elsewhere would go too.
func RemoveStale(path string) (int, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	matches, err := filepath.Glob(filepath.Join(dir, "."+globEscape(base)+".tmp-*"))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, m := range matches {
		if err := os.Remove(m); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return n, err
		}
		n++
	}
	return n, nil
}

// globEscape quotes the characters filepath.Match gives a meaning to.
func globEscape(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', '\\':
			b = append(b, '\\')
		}
		b = append(b, s[i])
	}
	return string(b)
}

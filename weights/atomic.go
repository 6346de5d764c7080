package weights

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
)

// testHookBeforeRename, when set by a test, runs after the temporary file is written and
// synced and before it is renamed; an error from it fails the write there.
var testHookBeforeRename func(tmp string) error

// writeAtomic writes a file at path with write, through a temporary file in the same
// directory that is synced, closed and renamed over path. On any error the temporary file is
// removed and whatever was at path stays as it was. A new file gets mode 0666 less the umask;
// a file that replaces another keeps the other's permissions.
func writeAtomic(path string, write func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if base == "" {
		return fmt.Errorf("weights: write %s: no file name", path)
	}
	if dir == "" {
		dir = "."
	}
	tmp, f, err := createTemp(dir, base)
	if err != nil {
		return fmt.Errorf("weights: write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close() // a second Close of a closed file only returns an error
			os.Remove(tmp)
			err = fmt.Errorf("weights: write %s: %w", path, err)
		}
	}()
	if st, statErr := os.Stat(path); statErr == nil && st.Mode().IsRegular() {
		if err := f.Chmod(st.Mode().Perm()); err != nil {
			return err
		}
	}
	if err := write(f); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if testHookBeforeRename != nil {
		if err := testHookBeforeRename(tmp); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	// Make the rename itself durable. The file is in place whatever happens here, so a
	// directory that cannot be synced (some file systems refuse) is not an error.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
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

package chart

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
)

// WritePNG writes img to path as a PNG file, atomically: it writes a temporary file in the
// same directory, syncs it and renames it over path. On any error the temporary file is
// removed and whatever was at path is left as it was. A new file gets mode 0666 less the
// umask; a file that replaces another keeps the other's permissions.
func WritePNG(path string, img image.Image) (err error) {
	if img == nil {
		return fmt.Errorf("chart: write %s: nil image", path)
	}
	dir, base := filepath.Split(path)
	if base == "" {
		return fmt.Errorf("chart: write %s: no file name", path)
	}
	if dir == "" {
		dir = "."
	}
	tmp, f, err := createTemp(dir, base)
	if err != nil {
		return fmt.Errorf("chart: write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close() // a second Close only returns an error
			os.Remove(tmp)
			err = fmt.Errorf("chart: write %s: %w", path, err)
		}
	}()
	if st, err := os.Stat(path); err == nil && st.Mode().IsRegular() {
		if err := f.Chmod(st.Mode().Perm()); err != nil {
			return err
		}
	}
	bw := bufio.NewWriter(f)
	if err := png.Encode(bw, img); err != nil {
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
	return os.Rename(tmp, path)
}

// createTemp makes a new file ".BASE.tmp-RANDOM" in dir, with mode 0666 so that the umask
// applies as it does to any new file.
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

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
	"image"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

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
func Write(path string, write func(io.Writer) error) error {
	var g Group
	if err := g.Write(path, write); err != nil {
		return err
	}
	return g.Commit()
}

// A Group writes files that belong together, such as the outputs of one image, so that
// either all of them are in place or none is: Write puts each, whole and synced, under a
// temporary name (where a full disk or any other failure shows), and Commit renames them
// all. The zero Group is ready to use.
type Group struct {
	files []pending
}

// pending is a file of a group written under its temporary name.
type pending struct{ tmp, path, dir string }

// Write writes the file at path, as the package's Write does, under a temporary name until
// Commit. On an error the group's other files are dropped too (see Abort).
func (g *Group) Write(path string, write func(io.Writer) error) (err error) {
	defer func() {
		if err != nil {
			g.Abort()
			err = fmt.Errorf("write %s: %w", path, err)
		}
	}()
	dir, base := filepath.Split(path)
	if base == "" {
		return errors.New("no file name")
	}
	if dir == "" {
		dir = "."
	}
	tmp, f, err := createTemp(dir, base)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close() // a second Close of a closed file only returns an error
			os.Remove(tmp)
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
	g.files = append(g.files, pending{tmp: tmp, path: path, dir: dir})
	return nil
}

// WritePNG writes img to path as a PNG file (see the package's WritePNG), under a temporary
// name until Commit. A software other than "" is recorded in the file as its "Software"
// text, which PNGSoftware reads: how a program knows its own outputs from other files.
func (g *Group) WritePNG(path string, img image.Image, software string) error {
	if img == nil {
		g.Abort()
		return fmt.Errorf("write %s: %w", path, errNilImage)
	}
	return g.Write(path, func(w io.Writer) error { return encodePNG(w, img, software) })
}

// Commit renames the group's files into place, the last written first, so that the first
// file (an image's mask) appears only once the others are in place: a reader that finds it
// finds them all. If a rename fails, the files already renamed are removed and the others
// dropped, so that none of the group stays (a file it replaced is then gone too).
func (g *Group) Commit() error {
	files := g.files
	g.files = nil
	for k := len(files) - 1; k >= 0; k-- {
		p := files[k]
		killpoint.HereFor("write-rename", filepath.Base(p.path))
		if err := os.Rename(p.tmp, p.path); err != nil {
			for _, q := range files[k+1:] {
				os.Remove(q.path)
			}
			for _, q := range files[:k+1] {
				os.Remove(q.tmp)
			}
			return fmt.Errorf("write %s: %w", p.path, err)
		}
		killpoint.HereFor("write-done", filepath.Base(p.path))
	}
	// Make the renames themselves durable. The files are in place whatever happens here, so
	// a directory that cannot be synced (some file systems refuse) is not an error.
	synced := map[string]bool{}
	for _, p := range files {
		if synced[p.dir] {
			continue
		}
		synced[p.dir] = true
		if d, err := os.Open(p.dir); err == nil {
			d.Sync()
			d.Close()
		}
	}
	return nil
}

// Abort drops the files written and not yet committed.
func (g *Group) Abort() {
	for _, p := range g.files {
		os.Remove(p.tmp)
	}
	g.files = nil
}

// WriteBytes writes data to path, atomically, as Write does.
func WriteBytes(path string, data []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// CheckDir says why files cannot be written in the folder dir, or nil: it does not exist,
// is not a folder, or refuses a new file (read-only, no permission). It makes a file there
// and removes it: the only test that holds on every file system, read-only mounts and
// access lists included, and for root, whom permission bits do not stop.
func CheckDir(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case os.IsNotExist(err):
		return fmt.Errorf("folder %s does not exist", dir)
	case err != nil:
		return err
	case !fi.IsDir():
		return fmt.Errorf("%s is not a folder", dir)
	}
	f, err := os.CreateTemp(dir, ".segment-write-check-*")
	if err != nil {
		if pe, ok := err.(*os.PathError); ok {
			err = pe.Err
		}
		return fmt.Errorf("folder %s cannot be written: %w", dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
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

// FileID identifies a file whatever the path that leads to it (hard and symbolic links,
// "./"): how the guards that keep a run from writing over its inputs compare many files at
// once, by map, where os.SameFile compares two.
type FileID struct{ Dev, Ino uint64 }

// IDOf gives the identity of the file fi describes (from os.Stat), and false when the
// system gives none.
func IDOf(fi os.FileInfo) (FileID, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return FileID{}, false
	}
	return FileID{uint64(st.Dev), uint64(st.Ino)}, true
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

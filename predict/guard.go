package predict

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/segment-dev/segment/internal/atomicfile"
	"github.com/segment-dev/segment/tiffstack"
)

// The guard of Files: before any image is predicted, every output path is checked, so that
// a run never writes over one of its inputs or over a file it did not make (a ground-truth
// mask a_mask.png beside a.png is exactly a_mask.png, the name of a.png's mask), and so
// that a path that cannot be written fails at once rather than after the work.

// guard holds the run's inputs and the folders already checked.
type guard struct {
	inputs map[atomicfile.FileID]string // each input file, by identity, with the path it was given as
	dirs   map[string]error             // each output folder's problem, nil when it can be written
}

func newGuard(paths []string) *guard {
	g := &guard{inputs: map[atomicfile.FileID]string{}, dirs: map[string]error{}}
	for _, p := range paths {
		if fi, err := os.Stat(p); err == nil {
			if id, ok := atomicfile.IDOf(fi); ok {
				g.inputs[id] = p
			}
		}
	}
	return g
}

// check says why the outputs at paths may not be written, or nil: one of them is an input,
// is a folder or some other thing than a file, is a PNG file that predict did not write, or
// sits in a folder that cannot be written.
func (g *guard) check(paths []string) error {
	for _, p := range paths {
		if err := g.dir(filepath.Dir(p)); err != nil {
			return fmt.Errorf("its output %s: %w", p, err)
		}
		fi, err := os.Stat(p)
		if err != nil {
			continue // nothing there (or nothing that can be read), written afresh
		}
		if id, ok := atomicfile.IDOf(fi); ok && g.inputs[id] != "" {
			return fmt.Errorf("its output %s would overwrite the input %s (give --out for another folder)", p, g.inputs[id])
		}
		if fi.IsDir() {
			return fmt.Errorf("its output %s is a folder", p)
		}
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("its output %s is not a regular file", p)
		}
		if sw, ok := softwareOf(p); ok && sw != Software {
			return fmt.Errorf("its output %s exists and was not written by segment predict (a ground-truth mask?): move it, or give --out for another folder", p)
		}
	}
	return nil
}

// dir says why files cannot be written in the folder dir (atomicfile.CheckDir), or nil,
// checking each folder once.
func (g *guard) dir(dir string) error {
	if err, ok := g.dirs[dir]; ok {
		return err
	}
	err := atomicfile.CheckDir(dir)
	g.dirs[dir] = err
	return err
}

// softwareOf reads the program that wrote the image at path, from a PNG's Software text or
// a TIFF's Software tag; ok is false for other files (CSV, JSON), which the guard does not
// mark. A file that cannot be read as its kind says "" and ok: it was not predict's.
func softwareOf(path string) (sw string, ok bool) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".png":
		sw, _ = atomicfile.PNGSoftware(path)
		return sw, true
	case ".tif", ".tiff":
		st, err := tiffstack.Open(path, 0)
		if st == nil {
			return "", true
		}
		defer st.Close()
		if err != nil {
			return "", true
		}
		return st.Software, true
	}
	return "", false
}

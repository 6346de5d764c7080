package train

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/segment-dev/segment/internal/atomicfile"
	"github.com/segment-dev/segment/internal/outlock"
)

// files lists every file of the run, the lock last: the models, the checkpoint, the log,
// the curves and, with a gradient log, its two files.
func (p Paths) files(gradLog bool) []string {
	fs := []string{p.Best, p.Last, p.State, p.CSV, p.Curves}
	if gradLog {
		c, g := GradLogPaths(p.Best)
		fs = append(fs, c, g)
	}
	return append(fs, p.Lock)
}

// removeStale removes the temporary files that a killed run left of the run's files (see
// atomicfile.RemoveStale), the gradient log's included whether or not this run writes one.
// Run calls it only while it holds the lock, so that the temporary files of another run's
// writes in progress are never taken for stale ones.
func removeStale(p Paths) {
	for _, f := range p.files(true) {
		atomicfile.RemoveStale(f) // a file it cannot remove is no reason not to train
	}
}

// CheckOutputs says why the run o asks for cannot write its files, before any work: Out is
// a folder; a file of the run would replace one of the data set's files, or stands where a
// folder is; their folder cannot be made or written; or another run holds their lock. Run
// checks it first; a command calls it before its own preparation too, to fail at once.
func CheckOutputs(o Options) error {
	o = o.withDefaults()
	if fi, err := os.Stat(o.Out); err == nil && fi.IsDir() {
		return fmt.Errorf("%s is a folder; the model file goes inside it, e.g. %s", o.Out, filepath.Join(o.Out, "model.safetensors"))
	}
	paths := PathsFor(o.Out)
	if err := checkOutDir(filepath.Dir(o.Out)); err != nil {
		return err
	}
	var inputs map[atomicfile.FileID]string
	for _, p := range paths.files(o.GradLog > 0) {
		fi, err := os.Stat(p)
		if err != nil {
			continue // nothing there: a new file, which replaces nothing
		}
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("%s is not a regular file; the run writes its %s there", p, describe(paths, p))
		}
		if inputs == nil {
			inputs = dataFiles(o.Data)
		}
		if id, ok := atomicfile.IDOf(fi); ok && inputs[id] != "" {
			same := ""
			if filepath.Clean(inputs[id]) != filepath.Clean(p) {
				same = " (" + inputs[id] + ")"
			}
			return fmt.Errorf("%s: the run would write its %s over this file of the data set%s: choose another --out", p, describe(paths, p), same)
		}
	}
	return outlock.Check(paths.Lock)
}

// describe names the file p of the run, for messages.
func describe(paths Paths, p string) string {
	switch p {
	case paths.Best:
		return "best model"
	case paths.Last:
		return "last model"
	case paths.State:
		return "checkpoint"
	case paths.CSV:
		return "log"
	case paths.Curves:
		return "curves"
	case paths.Lock:
		return "lock"
	}
	return "gradient log"
}

// checkOutDir says why the folder dir cannot hold the run's files: a part of its path is a
// file, or the folder (or, when it is to be made, the nearest folder above it that exists)
// cannot be written.
func checkOutDir(dir string) error {
	for p := dir; ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err == nil {
			if !fi.IsDir() {
				return fmt.Errorf("%s is a file, not a folder: the run's files cannot go in %s", p, dir)
			}
			return atomicfile.CheckDir(p)
		}
		if p == filepath.Dir(p) {
			return err
		}
	}
}

// dataFiles gives every regular file under the data folder by its identity, with its path.
// It is walked only when a file of the run exists already, which is what could be one.
func dataFiles(dir string) map[atomicfile.FileID]string {
	ids := map[atomicfile.FileID]string{}
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real // WalkDir does not follow a link, even at the root
	}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if fi, err := os.Stat(p); err == nil {
			if id, ok := atomicfile.IDOf(fi); ok {
				ids[id] = p
			}
		}
		return nil
	})
	return ids
}

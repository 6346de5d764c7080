package dataset

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/disintegration/imaging"
)

// The names a split folder may have, in the order Diagnose reports them.
var splitNames = []struct {
	name    string
	folders []string
}{
	{"train", []string{"train"}},
	{"val", []string{"val", "valid", "validation"}},
	{"test", []string{"test"}},
}

// maskSuffixes are what a mask's stem may add to its image's stem: "cell01_mask.png"
// pairs with "cell01.png".
var maskSuffixes = []string{"", "_mask"}

// entry is an image file in a folder.
type entry struct {
	stem, path string
}

// folder is one split's images/ and masks/ folders and what they hold.
type folder struct {
	split     string // "train", "val" or "test"
	dir       string // the folder that holds images/ and masks/
	images    []entry
	masks     []entry
	ignored   []string // files that are not images, as paths
	nested    []string // folders inside images/ or masks/, which are not read, as paths
	pairs     []Pair
	noMask    []string // images without a mask, as paths
	noImage   []string // masks without an image, as paths
	problems  []*Error
	imagesDir string
	masksDir  string
}

func isDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}

// findFolders finds the layout of the data set at dir. A problem here is fatal: nothing
// more can be said about the data set.
func findFolders(dir string) (flat bool, folders []*folder, err *Error) {
	st, serr := os.Stat(dir)
	if serr != nil {
		var pe *fs.PathError
		if errors.As(serr, &pe) {
			serr = pe.Err
		}
		return false, nil, fileError(dir, serr)
	}
	if !st.IsDir() {
		return false, nil, fileError(dir, fmt.Errorf("%w: it is a file, not a folder", ErrLayout))
	}
	hasPair := func(d string) bool {
		return isDir(filepath.Join(d, "images")) || isDir(filepath.Join(d, "masks"))
	}
	if hasPair(dir) {
		return true, []*folder{{split: "train", dir: dir}}, nil
	}
	for _, s := range splitNames {
		for _, name := range s.folders {
			d := filepath.Join(dir, name)
			if isDir(d) {
				folders = append(folders, &folder{split: s.name, dir: d})
				break
			}
		}
	}
	if len(folders) == 0 || folders[0].split != "train" {
		return false, nil, fileError(dir, ErrLayout)
	}
	for _, f := range folders {
		if !hasPair(f.dir) {
			return false, nil, fileError(f.dir, fmt.Errorf("%w: %s/ has no images/ and masks/ folders", ErrLayout, f.split))
		}
	}
	return false, folders, nil
}

// listImages reads the image files of one folder, sorted by name. Hidden files and folders are
// skipped; other files go to ignored, and folders (or links to folders) to nested: images are
// not looked for below the folder, and the user is told so.
func listImages(dir string) (files []entry, ignored, nested []string, err *Error) {
	des, rerr := os.ReadDir(dir)
	if rerr != nil {
		var pe *fs.PathError
		if errors.As(rerr, &pe) {
			rerr = pe.Err
		}
		return nil, nil, nil, fileError(dir, rerr)
	}
	for _, de := range des {
		name := de.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		p := filepath.Join(dir, name)
		if de.IsDir() || (de.Type()&fs.ModeSymlink != 0 && isDir(p)) {
			nested = append(nested, p)
			continue
		}
		if _, ferr := imaging.FormatFromFilename(name); ferr != nil {
			ignored = append(ignored, p)
			continue
		}
		files = append(files, entry{stem: strings.TrimSuffix(name, filepath.Ext(name)), path: p})
	}
	return files, ignored, nested, nil
}

// pairUp lists f's images/ and masks/ and pairs them by stem. Unpaired files and
// duplicate stems become problems.
func (f *folder) pairUp() {
	f.imagesDir, f.masksDir = filepath.Join(f.dir, "images"), filepath.Join(f.dir, "masks")
	var err *Error
	var ign, nest []string
	for _, d := range []string{f.imagesDir, f.masksDir} {
		if !isDir(d) {
			f.problems = append(f.problems, fileError(d, fmt.Errorf("%w: missing folder: %s needs both images/ and masks/", ErrLayout, f.dir)))
			return
		}
	}
	if f.images, f.ignored, f.nested, err = listImages(f.imagesDir); err != nil {
		f.problems = append(f.problems, err)
		return
	}
	if f.masks, ign, nest, err = listImages(f.masksDir); err != nil {
		f.problems = append(f.problems, err)
		return
	}
	f.ignored = append(f.ignored, ign...)
	f.nested = append(f.nested, nest...)
	const want = "no PNG, JPEG, TIFF, BMP or GIF files"
	if len(f.images) == 0 {
		f.problems = append(f.problems, fileError(f.imagesDir, fmt.Errorf("%w: %s", ErrEmpty, want)))
		return
	}
	if len(f.masks) == 0 {
		f.problems = append(f.problems, fileError(f.masksDir, fmt.Errorf("%w: %s (for %d images)", ErrEmpty, want, len(f.images))))
		return
	}
	masks := make(map[string]entry, len(f.masks))
	for _, m := range f.masks {
		if prev, ok := masks[m.stem]; ok {
			f.problems = append(f.problems, fileError(m.path, fmt.Errorf("%w: %s is also a mask", ErrDuplicate, filepath.Base(prev.path))))
			continue
		}
		masks[m.stem] = m
	}
	used := make(map[string]bool, len(f.masks))
	seen := make(map[string]string, len(f.images))
	for _, im := range f.images {
		if prev, ok := seen[im.stem]; ok {
			f.problems = append(f.problems, fileError(im.path, fmt.Errorf("%w: %s is also an image", ErrDuplicate, filepath.Base(prev))))
			continue
		}
		seen[im.stem] = im.path
		var m entry
		var ok bool
		for _, suf := range maskSuffixes {
			if m, ok = masks[im.stem+suf]; ok && !used[m.stem] {
				break
			}
			ok = false
		}
		if !ok {
			f.noMask = append(f.noMask, im.path)
			f.problems = append(f.problems, fileError(im.path, fmt.Errorf("%w: no %s.* or %s_mask.* in %s", ErrNoMask, im.stem, im.stem, f.masksDir)))
			continue
		}
		used[m.stem] = true
		f.pairs = append(f.pairs, Pair{Name: im.stem, Image: im.path, Mask: m.path})
	}
	f.expandPages()
	for _, m := range f.masks {
		if !used[m.stem] && masks[m.stem].path == m.path {
			f.noImage = append(f.noImage, m.path)
			f.problems = append(f.problems, fileError(m.path, fmt.Errorf("%w: no image %s.* in %s", ErrNoImage, strings.TrimSuffix(m.stem, "_mask"), f.imagesDir)))
		}
	}
}

// nestedWarnings are the warnings about the folders found inside images/ and masks/: one
// line per folder, naming it, since a user who keeps a batch of images in a sub-folder
// expects it to be read.
func nestedWarnings(folders []*folder) []string {
	var w []string
	for _, f := range folders {
		for _, d := range f.nested {
			w = append(w, fmt.Sprintf("%s: folder not read: images and masks are taken from %s only, not from folders inside it; move its files up if they belong to the data set",
				d, filepath.Dir(d)))
		}
	}
	return w
}

package predict

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// imageExts are the file name extensions of the formats read, as a folder is listed.
var imageExts = []string{".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif"}

// outputStem matches the stems OutputPaths gives, so that predicting a folder a second time
// does not predict the first run's outputs.
var outputStem = regexp.MustCompile(`_(mask|overlay|probs(_[0-9a-f]+)?|instances)$`)

// Inputs expands command-line arguments into image files. A folder gives its image files
// (by extension, sorted by name, without recursing, skipping hidden files and the outputs of
// an earlier prediction: *_mask, *_overlay, *_probs*, *_instances); a pattern holding *, ? or [ gives its
// matches, sorted; anything else is taken as a file, which is read (and may fail) later. A
// file named twice is kept once. An argument that gives no file is a problem, returned
// alongside the files of the others.
func Inputs(args []string) (files []string, problems []error) {
	seen := make(map[string]bool)
	add := func(p string) {
		key := filepath.Clean(p)
		if !seen[key] {
			seen[key] = true
			files = append(files, p)
		}
	}
	for _, a := range args {
		switch {
		case isDir(a):
			des, err := os.ReadDir(a)
			if err != nil {
				problems = append(problems, pathError(a, err))
				continue
			}
			n := 0
			for _, de := range des {
				name := de.Name()
				stem := strings.TrimSuffix(name, filepath.Ext(name))
				if de.IsDir() || strings.HasPrefix(name, ".") || !isImageName(name) || outputStem.MatchString(stem) {
					continue
				}
				add(filepath.Join(a, name))
				n++
			}
			if n == 0 {
				problems = append(problems, fmt.Errorf("%s: no PNG, JPEG, TIFF, BMP or GIF files in the folder", a))
			}
		case strings.ContainsAny(a, "*?["):
			matches, err := filepath.Glob(a)
			if err != nil {
				problems = append(problems, fmt.Errorf("%s: %w", a, err))
				continue
			}
			slices.Sort(matches)
			n := 0
			for _, m := range matches {
				if !isDir(m) {
					add(m)
					n++
				}
			}
			if n == 0 {
				problems = append(problems, fmt.Errorf("%s: no file matches", a))
			}
		default:
			add(a)
		}
	}
	return files, problems
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

func isImageName(name string) bool {
	return slices.Contains(imageExts, strings.ToLower(filepath.Ext(name)))
}

// pathError gives "path: problem" without the operation that os adds.
func pathError(p string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("%s: %w", p, err)
}

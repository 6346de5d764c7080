package dataset

import (
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/segment-dev/segment/tiffstack"
)

// A page of a TIFF stack in a data set is a sample of its own, named by the stack's path
// with "#pN" added (N from 1, as ImageJ numbers slices): "train-volume.tif#p3". Pairs hold
// such names as their Image and Mask, and probe and decode read the one page they name, so
// that the loader, the cache and the checks treat a page as they treat a file.

// pageSuffix matches the "#pN" that names a page.
var pageSuffix = regexp.MustCompile(`#p([1-9][0-9]*)$`)

// pagePath names page (from 1) of the stack at path.
func pagePath(path string, page int) string { return path + "#p" + strconv.Itoa(page) }

// PagePath names page (from 1) of the TIFF stack at path, "PATH#pN": ReadMask (and the data
// sets' loading) read that one page of the stack.
func PagePath(path string, page int) string { return pagePath(path, page) }

// Pages returns the number of pages of the image file at path: more than 1 for a TIFF
// stack, 1 for anything else (and for a file that cannot be read as a stack at all, left
// to the reading of single images to report). The error says which pages of a stack cannot
// be found; the pages before them are counted.
func Pages(path string) (int, error) {
	n, err := pageCount(path)
	if err != nil {
		return n, err
	}
	return n, nil
}

// splitPage returns the stack and the page a page name names, or path and 0 for a file.
func splitPage(path string) (string, int) {
	m := pageSuffix.FindStringSubmatchIndex(path)
	if m == nil {
		return path, 0
	}
	if _, err := os.Stat(path); err == nil {
		return path, 0 // a file whose name ends so
	}
	n, err := strconv.Atoi(path[m[2]:m[3]])
	if err != nil {
		return path, 0
	}
	return path[:m[0]], n
}

// isTIFFName says whether a file name has a TIFF extension.
func isTIFFName(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return ext == ".tif" || ext == ".tiff"
}

// pageCount returns the pages of a TIFF file (1 for any other file, or one tiffstack
// cannot read at all: that is left to the single-image path to report), with the problem
// of a stack whose pages cannot all be found.
func pageCount(path string) (int, *Error) {
	if !isTIFFName(path) {
		return 1, nil
	}
	s, err := tiffstack.Open(path, 0)
	if s == nil {
		return 1, nil
	}
	defer s.Close()
	if err != nil && s.Len() > 0 {
		return s.Len(), fileError(path, fmt.Errorf("%w: %v", ErrStack, pageProblem(err)))
	}
	return s.Len(), nil
}

// readPage decodes the page a page name names, checking its size against maxPixels.
func readPage(path string, maxPixels int) (image.Image, error) {
	file, page := splitPage(path)
	if maxPixels <= 0 {
		maxPixels = DefaultMaxPixels
	}
	s, err := tiffstack.Open(file, maxPixels)
	if s == nil {
		return nil, fileError(path, err)
	}
	defer s.Close()
	if page > s.Len() {
		return nil, fileError(path, fmt.Errorf("%w: no page %d: the file has %d", ErrStack, page, s.Len()))
	}
	img, err := s.Page(page - 1)
	if err != nil {
		var te *tiffstack.Error
		if errors.Is(err, tiffstack.ErrTooLarge) {
			return nil, fileError(path, fmt.Errorf("%w: %v", ErrTooLarge, err))
		}
		if errors.As(err, &te) {
			return nil, fileError(path, FormatError(te.Err.Error()))
		}
		return nil, fileError(path, err)
	}
	return img, nil
}

// probePage is probe for a page of a stack: it decodes the page (the page's description
// does not tell a gray palette from a colour one) and describes it.
func probePage(path string, maxPixels int) (fileInfo, error) {
	img, err := readPage(path, maxPixels)
	if err != nil {
		return fileInfo{}, err
	}
	b := img.Bounds()
	fi := fileInfo{Format: formatTIFF, Width: b.Dx(), Height: b.Dy(), Bits: 8}
	fi.colourModel(img.ColorModel())
	return fi, nil
}

// expandPages replaces a pair of which the image or the mask is a stack by one pair per
// page, named "NAME#pN". Pages of the image without a page of the mask, and the reverse,
// are problems naming the first such page, as an image without a mask is.
func (f *folder) expandPages() {
	var out []Pair
	for _, p := range f.pairs {
		ni, ierr := pageCount(p.Image)
		nm, merr := pageCount(p.Mask)
		if ierr != nil || merr != nil {
			for _, e := range []*Error{ierr, merr} {
				if e != nil {
					f.problems = append(f.problems, e)
				}
			}
			continue
		}
		if ni == 1 && nm == 1 {
			out = append(out, p)
			continue
		}
		for k := 1; k <= min(ni, nm); k++ {
			out = append(out, Pair{Name: p.Name + "#p" + strconv.Itoa(k), Image: pagePath(p.Image, k), Mask: pagePath(p.Mask, k)})
		}
		switch {
		case ni > nm:
			first := pagePath(p.Image, nm+1)
			f.noMask = append(f.noMask, first)
			f.problems = append(f.problems, fileError(first, fmt.Errorf("%w: the image has %d pages, its mask %s %d: pages %d to %d have no mask",
				ErrNoMask, ni, p.Mask, nm, nm+1, ni)))
		case nm > ni:
			first := pagePath(p.Mask, ni+1)
			f.noImage = append(f.noImage, first)
			f.problems = append(f.problems, fileError(first, fmt.Errorf("%w: the mask has %d pages, its image %s %d: pages %d to %d have no image",
				ErrNoImage, nm, p.Image, ni, ni+1, nm)))
		}
	}
	f.pairs = out
}

package dataset

import (
	"errors"
	"image"
	"path/filepath"
	"strings"
	"testing"

	"github.com/segment-dev/segment/tiffstack"
)

// A multi-page TIFF is never read as its first page: ReadImage, ReadMask and Open refuse
// it with an error naming the file and its page count. A one-page TIFF reads as before.
func TestStacksRefused(t *testing.T) {
	dir := t.TempDir()
	img, mask := grayImage(16, 12)
	write := func(path string, pages ...image.Image) {
		err := tiffstack.WriteFile(path, tiffstack.None, func(w *tiffstack.Writer) error {
			for _, p := range pages {
				if err := w.WritePage(p); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	stack := filepath.Join(dir, "images", "a.tif")
	writeFile(t, stack, nil)
	write(stack, img, img, img)
	writeFile(t, filepath.Join(dir, "masks", "a.tif"), nil)
	write(filepath.Join(dir, "masks", "a.tif"), mask, mask, mask)
	single := filepath.Join(dir, "one.tif")
	write(single, img)

	check := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, ErrStack) || !strings.Contains(err.Error(), "a.tif") || !strings.Contains(err.Error(), "3 pages") {
			t.Errorf("%s: %v; want ErrStack naming the file and its 3 pages", what, err)
		}
	}
	_, err := ReadImage(stack, 1, 0)
	check("ReadImage", err)
	_, _, _, err = Classes{Values: []int{0, 255}}.ReadMask(filepath.Join(dir, "masks", "a.tif"), 0)
	check("ReadMask", err)
	_, err = Open(dir, Options{})
	check("Open", err)
	if _, err := ReadImage(single, 1, 0); err != nil {
		t.Errorf("one-page TIFF: %v", err)
	}
}

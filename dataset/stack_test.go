package dataset

import (
	"errors"
	"image"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/segment-dev/segment/tiffstack"
)

// writeStack writes the pages as a multi-page TIFF at path.
func writeStack(t *testing.T, path string, pages ...image.Image) {
	t.Helper()
	writeFile(t, path, nil)
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

// A stack read where single images are (ReadImage, ReadMask: predict's inputs and eval's
// masks) is refused by name with its page count, never read as its first page. A one-page
// TIFF reads as before.
func TestStacksRefusedAsImages(t *testing.T) {
	dir := t.TempDir()
	img, mask := grayImage(16, 12)
	stack, masks, single := filepath.Join(dir, "a.tif"), filepath.Join(dir, "m.tif"), filepath.Join(dir, "one.tif")
	writeStack(t, stack, img, img, img)
	writeStack(t, masks, mask, mask, mask)
	writeStack(t, single, img)
	check := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, ErrStack) || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "3 pages") {
			t.Errorf("%s: %v; want ErrStack naming the file and its 3 pages", what, err)
		}
	}
	_, err := ReadImage(stack, 1, 0)
	check("ReadImage", err)
	_, _, _, err = Classes{Values: []int{0, 255}}.ReadMask(masks, 0)
	check("ReadMask", err)
	if _, err := ReadImage(single, 1, 0); err != nil {
		t.Errorf("one-page TIFF: %v", err)
	}
}

// A data set whose image and mask are stacks has a pair per page, named NAME#pN, each
// loading its own page. Page counts or page sizes that disagree are the errors of single
// images, naming the file and the page.
func TestStackDataset(t *testing.T) {
	var imgs, masks []image.Image
	for k := range 3 {
		img, mask := grayImage(16+2*k, 12)
		imgs, masks = append(imgs, img), append(masks, mask)
	}
	dir := t.TempDir()
	writeStack(t, filepath.Join(dir, "images", "vol.tif"), imgs...)
	writeStack(t, filepath.Join(dir, "masks", "vol.tif"), masks...)
	d, err := Open(dir, Options{ValFraction: -1})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Train) != 3 {
		t.Fatalf("%d pairs, want one per page", len(d.Train))
	}
	for k, p := range d.Train {
		if want := "vol#p" + strconv.Itoa(k+1); p.Name != want {
			t.Errorf("pair %d named %q, want %q", k, p.Name, want)
		}
		s, err := d.Load(p)
		if err != nil {
			t.Fatal(err)
		}
		if s.W != 16+2*k || s.H != 12 {
			t.Errorf("page %d: %dx%d, want page %d's size", k+1, s.W, s.H, k+1)
		}
		fg := 0
		for _, v := range s.Mask {
			fg += int(v)
		}
		want := 0
		for _, v := range masks[k].(*image.Gray).Pix {
			want += int(v) / 255
		}
		if fg != want {
			t.Errorf("page %d: %d foreground pixels, want %d", k+1, fg, want)
		}
	}

	// The mask has a page fewer than its image.
	short := t.TempDir()
	writeStack(t, filepath.Join(short, "images", "vol.tif"), imgs...)
	writeStack(t, filepath.Join(short, "masks", "vol.tif"), masks[:2]...)
	_, err = Open(short, Options{ValFraction: -1})
	if !errors.Is(err, ErrNoMask) || !strings.Contains(err.Error(), filepath.Join(short, "images", "vol.tif#p3")) {
		t.Errorf("mask a page short: %v; want ErrNoMask naming page 3 of the image", err)
	}
	// Page 2 of the mask is of another size than page 2 of the image.
	sizes := t.TempDir()
	writeStack(t, filepath.Join(sizes, "images", "vol.tif"), imgs...)
	writeStack(t, filepath.Join(sizes, "masks", "vol.tif"), masks[0], masks[0], masks[2])
	_, err = Open(sizes, Options{ValFraction: -1})
	if !errors.Is(err, ErrSize) || !strings.Contains(err.Error(), "vol.tif#p2") {
		t.Errorf("page sizes differ: %v; want ErrSize naming page 2", err)
	}
}

// A TIFF whose colour planes are stored apart (tifffile's planarconfig="separate":
// tiffstack/testdata/planar.tif) is refused as unsupported, naming the file and the page,
// where golang.org/x/image/tiff took it for a truncated file.
func TestPlanarTIFFUnsupported(t *testing.T) {
	path := filepath.Join("..", "tiffstack", "testdata", "planar.tif")
	_, err := ReadImage(path, 3, 0)
	var unsupported UnsupportedError
	if !errors.As(err, &unsupported) || !strings.Contains(err.Error(), path+": ") ||
		!strings.Contains(err.Error(), "page 1: planar configuration 2") || strings.Contains(err.Error(), "truncated") {
		t.Errorf("ReadImage: %v; want an UnsupportedError naming the file, its page and planar configuration 2", err)
	}
}

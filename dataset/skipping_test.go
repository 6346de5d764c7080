package dataset

import (
	"errors"
	"image"
	"image/color"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
)

// OpenSkipping keeps every good pair of a data set and lists the bad ones, each by its file
// (issue 18, finding 9: eval scores the good pairs; issue 15: a short stack mask does not stop
// the others), where Open stops at the first.
func TestOpenSkippingKeepsGoodPairs(t *testing.T) {
	dir := t.TempDir()
	goodSet(t, dir, 3) // a, b, c
	img, mask := grayImage(32, 32)
	_, small := grayImage(16, 32)
	odd := image.NewGray(mask.Bounds())
	copy(odd.Pix, mask.Pix)
	odd.SetGray(0, 0, color.Gray{7}) // a value that is not a class's
	good := pngBytes(t, mask)
	writeFile(t, filepath.Join(dir, "images/t.png"), pngBytes(t, img))
	writeFile(t, filepath.Join(dir, "masks/t.png"), good[:len(good)/2])
	writeFile(t, filepath.Join(dir, "images/s.png"), pngBytes(t, img))
	writeFile(t, filepath.Join(dir, "masks/s.png"), pngBytes(t, small))
	writeFile(t, filepath.Join(dir, "images/v.png"), pngBytes(t, img))
	writeFile(t, filepath.Join(dir, "masks/v.png"), pngBytes(t, odd))
	writeFile(t, filepath.Join(dir, "masks/f.png"), good)
	if err := syscall.Mkfifo(filepath.Join(dir, "images/f.png"), 0o644); err != nil {
		t.Fatal(err)
	}
	writeStack(t, filepath.Join(dir, "images/vol.tif"), img, img, img)
	writeStack(t, filepath.Join(dir, "masks/vol.tif"), mask, mask)

	opts := Options{MaskValues: []int{0, 255}, ValFraction: -1}
	if _, err := Open(dir, opts); err == nil {
		t.Fatal("Open accepted a data set with bad pairs")
	}
	d, skipped, err := OpenSkipping(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range d.Train {
		names = append(names, p.Name)
		if _, err := d.Load(p); err != nil {
			t.Errorf("good pair %s: %v", p.Name, err)
		}
	}
	if want := []string{"a", "b", "c", "vol#p1", "vol#p2"}; !slices.Equal(names, want) {
		t.Errorf("pairs %v, want %v", names, want)
	}
	want := []struct {
		file string
		is   error
	}{
		{"images/vol.tif#p3", ErrNoMask},
		{"images/f.png", nil},
		{"masks/s.png", ErrSize},
		{"masks/t.png", nil},
		{"masks/v.png", ErrValues},
	}
	if len(skipped) != len(want) {
		t.Fatalf("skipped %v, want one problem for each of %v", skipped, want)
	}
	for _, w := range want {
		found := false
		for _, e := range skipped {
			if e.Path == filepath.Join(dir, w.file) && (w.is == nil || errors.Is(e, w.is)) {
				found = true
			}
		}
		if !found {
			t.Errorf("no problem naming %s in %v", w.file, skipped)
		}
	}

	// What concerns the whole data set still stops it.
	if _, _, err := OpenSkipping(t.TempDir(), opts); !errors.Is(err, ErrLayout) {
		t.Errorf("an empty folder: %v, want ErrLayout", err)
	}
	allBad := t.TempDir()
	writeFile(t, filepath.Join(allBad, "images/t.png"), pngBytes(t, img))
	writeFile(t, filepath.Join(allBad, "masks/t.png"), good[:len(good)/2])
	if _, _, err := OpenSkipping(allBad, opts); err == nil {
		t.Error("a data set without a good pair was opened")
	}
}

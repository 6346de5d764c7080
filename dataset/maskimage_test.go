package dataset

import (
	"image"
	"image/color"
	"path/filepath"
	"slices"
	"testing"
)

// TestMaskImageRoundTrip writes masks from class indices and reads them back through Open
// and Load: the same indices come back, for gray, 16-bit and colour value spaces.
func TestMaskImageRoundTrip(t *testing.T) {
	const w, h = 6, 4
	idx := []int32{
		0, 0, 1, 1, 2, 2,
		0, 1, 1, 2, 2, IgnoreIndex,
		0, 0, 1, 1, 2, 2,
		2, 2, 1, 1, 0, 0,
	}
	for _, c := range []Classes{
		{Values: []int{0, 128, 255}, Ignore: intp(7)},
		{Values: []int{0, 1000, 40000}, Ignore: intp(5)},
		{Values: []int{0x000000, 0xff0000, 0x00ff00}, Ignore: intp(0xffffff), Colour: true},
	} {
		m, err := c.MaskImage(idx, w, h)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		img := image.NewGray(image.Rect(0, 0, w, h))
		img.Set(0, 0, color.Gray{9})
		writeFile(t, filepath.Join(dir, "images/a.png"), pngBytes(t, img))
		writeFile(t, filepath.Join(dir, "masks/a.png"), pngBytes(t, m))
		d, err := Open(dir, Options{MaskValues: c.Values, Ignore: c.Ignore})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(d.Classes.Values, c.Values) || d.Classes.Colour != c.Colour {
			t.Errorf("%T mask read back as %v", m, d.Classes)
		}
		s, err := d.Load(d.Train[0])
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(s.Mask, idx) {
			t.Errorf("%T mask: indices %v, want %v", m, s.Mask, idx)
		}
	}
	if _, err := (Classes{Values: []int{0, 1}}).MaskImage([]int32{0, 2}, 2, 1); err == nil {
		t.Error("index 2 of 2 classes accepted")
	}
}

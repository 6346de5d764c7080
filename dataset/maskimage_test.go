package dataset

import (
	"image"
	"image/color"
	"path/filepath"
	"slices"
	"testing"
)

// maskImage turns class indices (w*h, row-major) into a mask in c's values, as the masks
// of a data set hold them: gray 8-bit when every value fits in a byte, gray 16-bit when it
// fits in two, RGB for colour masks. IgnoreIndex becomes the ignore value.
func maskImage(t *testing.T, c Classes, indices []int32, w, h int) image.Image {
	t.Helper()
	value := func(k int32) int {
		switch {
		case k == IgnoreIndex && c.Ignore != nil:
			return *c.Ignore
		case k < 0 || int(k) >= len(c.Values):
			t.Fatalf("class index %d of %d classes", k, len(c.Values))
		}
		return c.Values[k]
	}
	maxV := slices.Max(c.Values)
	if c.Ignore != nil {
		maxV = max(maxV, *c.Ignore)
	}
	r := image.Rect(0, 0, w, h)
	switch {
	case c.Colour:
		m := image.NewRGBA(r)
		for i, k := range indices {
			v := value(k)
			m.Set(i%w, i/w, color.RGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 0xff})
		}
		return m
	case maxV < 1<<8:
		m := image.NewGray(r)
		for i, k := range indices {
			m.Pix[i] = uint8(value(k))
		}
		return m
	default:
		m := image.NewGray16(r)
		for i, k := range indices {
			m.SetGray16(i%w, i/w, color.Gray16{Y: uint16(value(k))})
		}
		return m
	}
}

// TestMaskRoundTrip writes masks from class indices and reads them back through Open and
// Load: the same indices come back, for gray, 16-bit and colour value spaces.
func TestMaskRoundTrip(t *testing.T) {
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
		m := maskImage(t, c, idx, w, h)
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
}

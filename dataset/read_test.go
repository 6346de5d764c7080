package dataset

import (
	"errors"
	"image"
	"image/color"
	"math"
	"path/filepath"
	"slices"
	"testing"
)

// TestReadImageRows reads rows of a gray and an RGB file, as one and three channels, and
// checks them against values worked out by hand.
func TestReadImageRows(t *testing.T) {
	dir := t.TempDir()
	gray := image.NewGray(image.Rect(0, 0, 3, 2))
	copy(gray.Pix, []uint8{0, 51, 102, 153, 204, 255})
	gp := filepath.Join(dir, "g.png")
	writeFile(t, gp, pngBytes(t, gray))
	rgb := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	rgb.SetNRGBA(0, 0, color.NRGBA{255, 0, 0, 255})
	rgb.SetNRGBA(1, 0, color.NRGBA{0, 0, 255, 255})
	cp := filepath.Join(dir, "c.png")
	writeFile(t, cp, pngBytes(t, rgb))

	near := func(got, want []float32) bool {
		if len(got) != len(want) {
			return false
		}
		for i := range got {
			if math.Abs(float64(got[i]-want[i])) > 1e-6 {
				return false
			}
		}
		return true
	}
	im, err := ReadImage(gp, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if im.Width != 3 || im.Height != 2 || im.Channels != 1 || im.FileChannels != 1 {
		t.Fatalf("gray image read as %dx%d, %d channels (file %d)", im.Width, im.Height, im.Channels, im.FileChannels)
	}
	row := make([]float32, 3)
	if err := im.Rows(row, 1, 1); err != nil {
		t.Fatal(err)
	}
	if !near(row, []float32{0.6, 0.8, 1}) {
		t.Errorf("row 1 of the gray image: %v, want [0.6 0.8 1]", row)
	}
	if all := im.Planes(); !near(all, []float32{0, 0.2, 0.4, 0.6, 0.8, 1}) {
		t.Errorf("gray planes %v", all)
	}
	// As RGB the gray level is replicated to the three planes.
	im3, err := ReadImage(gp, 3, 0)
	if err != nil {
		t.Fatal(err)
	}
	rows := make([]float32, 3*2*3)
	if err := im3.Rows(rows, 0, 2); err != nil {
		t.Fatal(err)
	}
	for c := 0; c < 3; c++ {
		if !near(rows[c*6:(c+1)*6], []float32{0, 0.2, 0.4, 0.6, 0.8, 1}) {
			t.Errorf("plane %d of gray as RGB: %v", c, rows[c*6:(c+1)*6])
		}
	}
	// Colour as gray is the luma: 0.299 for pure red, 0.114 for pure blue.
	imc, err := ReadImage(cp, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	row = make([]float32, 2)
	if err := imc.Rows(row, 0, 1); err != nil {
		t.Fatal(err)
	}
	if imc.FileChannels != 3 || !near(row, []float32{0.299, 0.114}) {
		t.Errorf("colour as gray: %v (file channels %d), want [0.299 0.114]", row, imc.FileChannels)
	}
	for _, c := range []struct{ y0, n, size int }{{-1, 1, 3}, {1, 2, 6}, {0, 1, 4}, {0, 0, 0}} {
		if err := im.Rows(make([]float32, c.size), c.y0, c.n); err == nil {
			t.Errorf("Rows(y0 %d, n %d) into %d values: no error", c.y0, c.n, c.size)
		}
	}
}

// TestReadImageErrors: every failure is an *Error naming the file.
func TestReadImageErrors(t *testing.T) {
	dir := t.TempDir()
	img, _ := grayImage(20, 10)
	good := pngBytes(t, img)
	trunc := filepath.Join(dir, "trunc.png")
	writeFile(t, trunc, good[:len(good)/2])
	junk := filepath.Join(dir, "junk.png")
	writeFile(t, junk, []byte("not an image at all, just text"))
	big := filepath.Join(dir, "big.png")
	writeFile(t, big, good)
	for _, c := range []struct {
		path      string
		channels  int
		maxPixels int
		want      error
	}{
		{trunc, 0, 0, nil},
		{junk, 0, 0, nil},
		{filepath.Join(dir, "missing.png"), 0, 0, nil},
		{big, 0, 199, ErrTooLarge},
		{big, 2, 0, ErrBadOptions},
	} {
		_, err := ReadImage(c.path, c.channels, c.maxPixels)
		var de *Error
		if !errors.As(err, &de) || de.Path != c.path {
			t.Errorf("ReadImage(%s): %v, want an *Error naming the file", filepath.Base(c.path), err)
			continue
		}
		if c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("ReadImage(%s): %v, want %v", filepath.Base(c.path), err, c.want)
		}
	}
	if _, err := ReadImage(big, 1, 200); err != nil {
		t.Errorf("a 20x10 image with a limit of 200 pixels: %v", err)
	}
}

// TestReadMask reads gray, 16-bit and colour masks back as class indices, with the ignore
// value, and refuses a value that is not a class.
func TestReadMask(t *testing.T) {
	const w, h = 4, 2
	idx := []int32{0, 1, 2, IgnoreIndex, 2, 1, 0, 0}
	dir := t.TempDir()
	for i, c := range []Classes{
		{Values: []int{0, 128, 255}, Ignore: intp(7)},
		{Values: []int{0, 1000, 40000}, Ignore: intp(5)},
		{Values: []int{0x000000, 0xff0000, 0x00ff00}, Ignore: intp(0xffffff), Colour: true},
	} {
		m := maskImage(t, c, idx, w, h)
		p := filepath.Join(dir, "m"+string(rune('0'+i))+".png")
		writeFile(t, p, pngBytes(t, m))
		got, gw, gh, err := c.ReadMask(p, 0)
		if err != nil {
			t.Fatalf("%v: %v", c, err)
		}
		if gw != w || gh != h || !slices.Equal(got, idx) {
			t.Errorf("%v: read %dx%d %v, want %dx%d %v", c, gw, gh, got, w, h, idx)
		}
	}
	// 0/255 read with the classes 0/1: 255 is no class.
	mask := image.NewGray(image.Rect(0, 0, 2, 1))
	mask.Pix[1] = 255
	p := filepath.Join(dir, "bin.png")
	writeFile(t, p, pngBytes(t, mask))
	if _, _, _, err := (Classes{Values: []int{0, 1}}).ReadMask(p, 0); !errors.Is(err, ErrValues) {
		t.Errorf("a 0/255 mask read as 0/1 classes: %v, want ErrValues", err)
	}
	got, _, _, err := (Classes{Values: []int{0, 255}}).ReadMask(p, 0)
	if err != nil || !slices.Equal(got, []int32{0, 1}) {
		t.Errorf("0/255 mask: %v %v", got, err)
	}
}

// TestMaskClasses infers the classes of loose mask files, and checks them against given
// mask values.
func TestMaskClasses(t *testing.T) {
	dir := t.TempDir()
	a := image.NewGray(image.Rect(0, 0, 2, 2))
	copy(a.Pix, []uint8{0, 255, 255, 0})
	b := image.NewGray(image.Rect(0, 0, 2, 2))
	copy(b.Pix, []uint8{0, 0, 128, 9})
	pa, pb := filepath.Join(dir, "a.png"), filepath.Join(dir, "b.png")
	writeFile(t, pa, pngBytes(t, a))
	writeFile(t, pb, pngBytes(t, b))
	c, err := MaskClasses([]string{pa}, Options{})
	if err != nil || !slices.Equal(c.Values, []int{0, 255}) || c.Colour {
		t.Errorf("one 0/255 mask: %v, %v; want values [0 255]", c, err)
	}
	c, err = MaskClasses([]string{pa, pb}, Options{Ignore: intp(9)})
	if err != nil || !slices.Equal(c.Values, []int{0, 128, 255}) || c.Ignore == nil || *c.Ignore != 9 {
		t.Errorf("two masks, ignore 9: %v, %v; want values [0 128 255] ignore 9", c, err)
	}
	if _, err := MaskClasses([]string{pa, pb}, Options{Classes: 1}); !errors.Is(err, ErrValues) {
		t.Errorf("four values as binary: %v, want ErrValues", err)
	}
	_, err = MaskClasses([]string{pa, pb}, Options{MaskValues: []int{0, 255}})
	var de *Error
	if !errors.As(err, &de) || de.Path != pb || !errors.Is(err, ErrValues) {
		t.Errorf("a mask with values outside the mask values: %v, want ErrValues naming %s", err, pb)
	}
	if _, err := MaskClasses(nil, Options{}); err == nil {
		t.Error("no masks: no error")
	}
}

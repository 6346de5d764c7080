package dataset

import (
	"bytes"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
)

// fill makes an 8x8 image whose left half holds colour a and right half colour b.
func fill(img interface {
	image.Image
	Set(x, y int, c color.Color)
}, a, b color.Color) {
	r := img.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if x < r.Dx()/2 {
				img.Set(x, y, a)
			} else {
				img.Set(x, y, b)
			}
		}
	}
}

func encode(t *testing.T, format string, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	var err error
	switch format {
	case "png":
		return pngBytes(t, img)
	case "jpg":
		err = jpeg.Encode(&b, img, &jpeg.Options{Quality: 100})
	case "tif":
		err = tiff.Encode(&b, img, nil)
	case "bmp":
		err = bmp.Encode(&b, img)
	case "gif":
		err = gif.Encode(&b, img, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestFormats(t *testing.T) {
	r := image.Rect(0, 0, 8, 8)
	gray8 := image.NewGray(r)
	fill(gray8, color.Gray{0}, color.Gray{255})
	gray16 := image.NewGray16(r)
	fill(gray16, color.Gray16{0}, color.Gray16{65535})
	rgb := image.NewRGBA(r)
	fill(rgb, color.RGBA{255, 0, 0, 255}, color.RGBA{0, 0, 255, 255})
	rgba := image.NewNRGBA(r)
	fill(rgba, color.NRGBA{255, 0, 0, 10}, color.NRGBA{0, 0, 255, 128})
	pal := image.NewPaletted(r, color.Palette{color.RGBA{0, 0, 0, 255}, color.RGBA{255, 0, 0, 255}, color.RGBA{0, 0, 255, 255}})
	fill(pal, pal.Palette[1], pal.Palette[2])
	grayPal := image.NewPaletted(r, color.Palette{color.Gray{0}, color.Gray{255}})
	fill(grayPal, grayPal.Palette[0], grayPal.Palette[1])
	mask01 := image.NewGray(r)
	fill(mask01, color.Gray{0}, color.Gray{1})
	mask16 := image.NewGray16(r)
	fill(mask16, color.Gray16{0}, color.Gray16{1000})
	colourMask := image.NewRGBA(r)
	fill(colourMask, color.RGBA{128, 64, 0, 255}, color.RGBA{0, 128, 192, 255})
	colourMask.Set(0, 0, color.RGBA{0, 0, 0, 255})
	bwRGB := image.NewRGBA(r)
	fill(bwRGB, color.RGBA{0, 0, 0, 255}, color.RGBA{255, 255, 255, 255})
	palMask := image.NewPaletted(r, color.Palette{color.Gray{0}, color.RGBA{255, 0, 0, 255}, color.RGBA{0, 255, 0, 255}})
	fill(palMask, palMask.Palette[1], palMask.Palette[2])
	palMask.SetColorIndex(0, 0, 0)

	tests := []struct {
		name       string
		img        image.Image
		imgFormat  string
		mask       image.Image
		maskFormat string
		opts       Options
		channels   int
		left       []float32 // the image's channels at (1, 4) and (6, 4)
		right      []float32
		values     []int
		colour     bool
		maskLR     [2]int32 // class of (1, 4) and (6, 4)
	}{
		{"gray PNG", gray8, "png", mask01, "png", Options{}, 1, []float32{0}, []float32{1}, []int{0, 1}, false, [2]int32{0, 1}},
		{"gray16 PNG", gray16, "png", mask16, "png", Options{}, 1, []float32{0}, []float32{1}, []int{0, 1000}, false, [2]int32{0, 1}},
		{"RGB PNG", rgb, "png", bwRGB, "png", Options{}, 3, []float32{1, 0, 0}, []float32{0, 0, 1}, []int{0, 255}, false, [2]int32{0, 1}},
		{"RGBA PNG, alpha dropped", rgba, "png", gray8, "png", Options{}, 3, []float32{1, 0, 0}, []float32{0, 0, 1}, []int{0, 255}, false, [2]int32{0, 1}},
		{"RGB to gray", rgb, "png", gray8, "png", Options{Channels: 1}, 1, []float32{lumaR}, []float32{lumaB}, []int{0, 255}, false, [2]int32{0, 1}},
		{"gray to RGB", gray8, "png", gray8, "png", Options{Channels: 3}, 3, []float32{0, 0, 0}, []float32{1, 1, 1}, []int{0, 255}, false, [2]int32{0, 1}},
		{"JPEG colour", rgb, "jpg", gray8, "png", Options{}, 3, []float32{1, 0, 0}, []float32{0, 0, 1}, []int{0, 255}, false, [2]int32{0, 1}},
		{"JPEG gray", gray8, "jpg", gray8, "png", Options{}, 1, []float32{0}, []float32{1}, []int{0, 255}, false, [2]int32{0, 1}},
		{"TIFF", gray16, "tif", gray8, "tif", Options{}, 1, []float32{0}, []float32{1}, []int{0, 255}, false, [2]int32{0, 1}},
		{"BMP", rgb, "bmp", gray8, "bmp", Options{}, 3, []float32{1, 0, 0}, []float32{0, 0, 1}, []int{0, 255}, false, [2]int32{0, 1}},
		{"GIF palette", pal, "gif", grayPal, "gif", Options{}, 3, []float32{1, 0, 0}, []float32{0, 0, 1}, []int{0, 1}, false, [2]int32{0, 1}},
		{"gray palette image", grayPal, "png", gray8, "png", Options{}, 1, []float32{0}, []float32{1}, []int{0, 255}, false, [2]int32{0, 1}},
		{"palette mask: indices", gray8, "png", palMask, "png", Options{}, 1, []float32{0}, []float32{1}, []int{0, 1, 2}, false, [2]int32{1, 2}},
		{"colour mask", gray8, "png", colourMask, "png", Options{}, 1, []float32{0}, []float32{1}, []int{0, 0x0080c0, 0x804000}, true, [2]int32{2, 1}},
		{"class indices with a missing class", gray8, "png", mask01, "png", Options{Classes: 4}, 1, []float32{0}, []float32{1}, []int{0, 1, 2, 3}, false, [2]int32{0, 1}},
		{"explicit values, ignore", gray8, "png", palMask, "png", Options{MaskValues: []int{2, 1}, Ignore: intp(0)}, 1, []float32{0}, []float32{1}, []int{2, 1}, false, [2]int32{1, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "images", "x."+tt.imgFormat), encode(t, tt.imgFormat, tt.img))
			writeFile(t, filepath.Join(dir, "masks", "x."+tt.maskFormat), encode(t, tt.maskFormat, tt.mask))
			d, err := Open(dir, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if d.Channels != tt.channels || !slices.Equal(d.Classes.Values, tt.values) || d.Classes.Colour != tt.colour {
				t.Fatalf("channels %d, classes %v %v; want %d, %v", d.Channels, d.Classes, d.Classes.Values, tt.channels, tt.values)
			}
			s, err := d.Load(d.Train[0])
			if err != nil {
				t.Fatal(err)
			}
			for c := range s.C {
				l, r := s.Image[(c*8+4)*8+1], s.Image[(c*8+4)*8+6]
				if math.Abs(float64(l-tt.left[c])) > 0.02 || math.Abs(float64(r-tt.right[c])) > 0.02 {
					t.Errorf("channel %d: %g, %g; want %g, %g", c, l, r, tt.left[c], tt.right[c])
				}
			}
			if got := [2]int32{s.Mask[4*8+1], s.Mask[4*8+6]}; got != tt.maskLR {
				t.Errorf("mask classes %v, want %v", got, tt.maskLR)
			}
		})
	}
}

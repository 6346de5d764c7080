package report

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"

	"github.com/disintegration/imaging"
)

// ThumbSize is the largest side of a thumbnail, in pixels.
const ThumbSize = 128

// The error map's colours; see the package documentation for why these.
var (
	colTN      = color.RGBA{0, 0, 0, 255}
	colTP      = color.RGBA{0xC8, 0xC8, 0xC8, 255}
	colFP      = color.RGBA{0xD5, 0x5E, 0x00, 255} // Okabe–Ito vermillion
	colFN      = color.RGBA{0x56, 0xB4, 0xE9, 255} // Okabe–Ito sky blue
	colWrong   = color.RGBA{0xF0, 0xE4, 0x42, 255} // Okabe–Ito yellow
	colIgnored = color.RGBA{0x50, 0x50, 0x50, 255}
	colNoClass = color.RGBA{0x80, 0x80, 0x80, 255} // a mask pixel of no class
)

// The indices of errorPalette.
const (
	errTN = iota
	errTP
	errFP
	errFN
	errWrong
	errIgnored
)

var errorPalette = color.Palette{colTN, colTP, colFP, colFN, colWrong, colIgnored}

// okabeIto is the palette of the classes after the background in a multi-class mask without
// colours of its own: orange, sky blue, bluish green, yellow, blue, vermillion, reddish
// purple.
var okabeIto = []color.RGBA{
	{0xE6, 0x9F, 0x00, 255}, {0x56, 0xB4, 0xE9, 255}, {0x00, 0x9E, 0x73, 255},
	{0xF0, 0xE4, 0x42, 255}, {0x00, 0x72, 0xB2, 255}, {0xD5, 0x5E, 0x00, 255},
	{0xCC, 0x79, 0xA7, 255},
}

// maskPalette gives the colour of each class index, then the colour of "no class".
func maskPalette(classes []Class) color.Palette {
	p := make(color.Palette, 0, len(classes)+1)
	for i, c := range classes {
		switch {
		case c.Colour != nil:
			p = append(p, c.Colour)
		case len(classes) == 2:
			p = append(p, []color.Color{color.Black, color.White}[i])
		case i == 0:
			p = append(p, color.Black)
		default:
			p = append(p, okabeIto[(i-1)%len(okabeIto)])
		}
	}
	return append(p, colNoClass)
}

// maskImage draws a class-index map in the palette's colours; an index outside the classes
// is drawn as "no class", the palette's last colour.
func maskImage(m []int32, w, h int, pal color.Palette) image.Image {
	noClass := len(pal) - 1
	if len(pal) <= 256 {
		img := image.NewPaletted(image.Rect(0, 0, w, h), pal)
		for i, v := range m {
			if v < 0 || int(v) >= noClass {
				v = int32(noClass)
			}
			img.Pix[i] = uint8(v)
		}
		return img
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i, v := range m {
		if v < 0 || int(v) >= noClass {
			v = int32(noClass)
		}
		r, g, b, a := pal[v].RGBA()
		img.Pix[4*i], img.Pix[4*i+1], img.Pix[4*i+2], img.Pix[4*i+3] = uint8(r>>8), uint8(g>>8), uint8(b>>8), uint8(a>>8)
	}
	return img
}

// classError draws the error map of class c among k classes: each pixel is a true or false
// positive or negative of c, or ignored where the ground truth is no class (its ignore
// value). A prediction of no class is a negative, as in package metrics.
func classError(truth, pred []int32, w, h, k int, c int32) *image.Paletted {
	img := image.NewPaletted(image.Rect(0, 0, w, h), errorPalette)
	for i, g := range truth {
		p := pred[i]
		switch {
		case g < 0 || int(g) >= k:
			img.Pix[i] = errIgnored
		case g == c && p == c:
			img.Pix[i] = errTP
		case p == c:
			img.Pix[i] = errFP
		case g == c:
			img.Pix[i] = errFN
		default:
			img.Pix[i] = errTN
		}
	}
	return img
}

// foregroundError draws the error map of all the foreground classes (1..k-1) together: a
// foreground pixel predicted as its class is a true positive, background predicted as
// foreground a false positive, foreground predicted as background (or no class) a false
// negative, and foreground predicted as another foreground class a wrong class. With two
// classes it is classError of class 1.
func foregroundError(truth, pred []int32, w, h, k int) *image.Paletted {
	img := image.NewPaletted(image.Rect(0, 0, w, h), errorPalette)
	fg := func(v int32) bool { return v >= 1 && int(v) < k }
	for i, g := range truth {
		p := pred[i]
		switch {
		case g < 0 || int(g) >= k:
			img.Pix[i] = errIgnored
		case g == 0 && !fg(p):
			img.Pix[i] = errTN
		case g == 0:
			img.Pix[i] = errFP
		case g == p:
			img.Pix[i] = errTP
		case !fg(p):
			img.Pix[i] = errFN
		default:
			img.Pix[i] = errWrong
		}
	}
	return img
}

// picture is one full-size picture of a row, written with its thumbnail.
type picture struct {
	img image.Image
	// mask says the picture is a map of classes or errors: it is shrunk by averaging
	// areas (Box), which keeps thin structures and single-pixel errors visible as a tint,
	// where the photo gets Lanczos.
	mask bool
}

// writePicture writes img as base.png and its thumbnail as base.t.png, and returns the
// thumbnail's size.
func writePicture(base string, p picture) (image.Point, error) {
	level := png.DefaultCompression
	if !p.mask {
		level = png.BestSpeed // a photo hardly compresses; speed matters for thousands
	}
	if err := writePNG(base+".png", p.img, level); err != nil {
		return image.Point{}, err
	}
	filter := imaging.Lanczos
	if p.mask {
		filter = imaging.Box
	}
	var t image.Image = p.img
	if b := p.img.Bounds(); b.Dx() > ThumbSize || b.Dy() > ThumbSize {
		t = imaging.Fit(p.img, ThumbSize, ThumbSize, filter)
	}
	if err := writePNG(base+".t.png", t, png.DefaultCompression); err != nil {
		return image.Point{}, err
	}
	return t.Bounds().Size(), nil
}

// writePNG writes img to path. The report's folder is renamed into place only when
// complete, so its files need no atomic write of their own.
func writePNG(path string, img image.Image, level png.CompressionLevel) error {
	var b bytes.Buffer
	enc := png.Encoder{CompressionLevel: level}
	if err := enc.Encode(&b, img); err != nil {
		return fmt.Errorf("report: write %s: %w", path, err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o666); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// displayable returns img in a form a PNG shows as people see it: 8 bits a channel (a
// 16-bit gray scan becomes 8-bit gray, keeping its high byte).
func displayable(img image.Image) image.Image {
	switch img.(type) {
	case *image.Gray, *image.RGBA, *image.NRGBA, *image.Paletted:
		return img
	case *image.Gray16:
		b := img.Bounds()
		g := image.NewGray(b)
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				g.SetGray(x, y, color.GrayModel.Convert(img.At(x, y)).(color.Gray))
			}
		}
		return g
	}
	return imaging.Clone(img)
}

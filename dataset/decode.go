package dataset

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"strings"

	"github.com/segment-dev/segment/internal/regular"
	"github.com/segment-dev/segment/tiffstack"
	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
)

// DefaultMaxPixels is the largest image, in pixels (width times height), that Open and
// Diagnose read when Options.MaxPixels is zero: 8192x8192. A header that claims more is
// refused before anything is decoded.
const DefaultMaxPixels = 8192 * 8192

// The image formats read, as named in messages and reports.
const (
	formatPNG  = "PNG"
	formatJPEG = "JPEG"
	formatTIFF = "TIFF"
	formatBMP  = "BMP"
	formatGIF  = "GIF"
)

// kind says how a file stores its pixels, which decides how mask values are read.
type kind uint8

const (
	kindGray    kind = iota // one gray level per pixel (8 or 16 bits)
	kindPalette             // palette indices
	kindColour              // RGB or RGBA, YCbCr, CMYK: colours
)

// fileInfo is what a file's header says about it.
type fileInfo struct {
	Format        string // formatPNG, ...
	Width, Height int
	Kind          kind
	Channels      int  // 1 when every pixel is gray (gray, gray+alpha, gray palette), else 3
	Alpha         bool // the file has an alpha channel, which is dropped
	Bits          int  // 8 or 16 bits per sample
}

// describe names the colour type, as reports show it: "gray 8-bit", "RGBA 16-bit", ...
func (fi fileInfo) describe() string {
	var s string
	switch {
	case fi.Kind == kindPalette && fi.Channels == 1:
		s = "gray palette"
	case fi.Kind == kindPalette:
		s = "palette"
	case fi.Channels == 1 && fi.Alpha:
		s = "gray+alpha"
	case fi.Channels == 1:
		s = "gray"
	case fi.Alpha:
		s = "RGBA"
	default:
		s = "RGB"
	}
	return fmt.Sprintf("%s %d-bit", s, fi.Bits)
}

// sniff names the format of a file from its first bytes, or returns "".
func sniff(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return formatPNG
	case bytes.HasPrefix(head, []byte("\xff\xd8")):
		return formatJPEG
	case bytes.HasPrefix(head, []byte("II*\x00")), bytes.HasPrefix(head, []byte("MM\x00*")):
		return formatTIFF
	case bytes.HasPrefix(head, []byte("BM")):
		return formatBMP
	case bytes.HasPrefix(head, []byte("GIF87a")), bytes.HasPrefix(head, []byte("GIF89a")):
		return formatGIF
	}
	return ""
}

// decodeProblem turns a decoder's error into the problem an Error reports.
func decodeProblem(format string, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		strings.Contains(err.Error(), "EOF") || strings.Contains(err.Error(), "not enough pixel data") {
		return FormatError(fmt.Sprintf("truncated %s file (%v)", format, err))
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return FormatError(fmt.Sprintf("corrupt %s file (%v)", format, err))
}

// probe reads the header of the image file at path, checks its size against maxPixels
// and says what it holds, without decoding any pixel.
func probe(path string, maxPixels int) (fileInfo, error) {
	if _, page := splitPage(path); page > 0 {
		return probePage(path, maxPixels)
	}
	f, err := regular.Open(path)
	if err != nil {
		return fileInfo{}, fileError(path, decodeProblem("", err))
	}
	defer f.Close()
	head := make([]byte, 33)
	n, err := io.ReadFull(f, head)
	if err != nil && n == 0 {
		if err == io.EOF {
			return fileInfo{}, fileError(path, FormatError("empty file"))
		}
		return fileInfo{}, fileError(path, decodeProblem("", err))
	}
	head = head[:n]
	fi := fileInfo{Format: sniff(head), Bits: 8}
	if fi.Format == "" {
		return fileInfo{}, fileError(path, FormatError("not a PNG, JPEG, TIFF, BMP or GIF file"))
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fileInfo{}, fileError(path, err)
	}
	var cfg image.Config
	switch fi.Format {
	case formatPNG:
		cfg, err = png.DecodeConfig(bufio.NewReader(f))
	case formatJPEG:
		cfg, err = jpeg.DecodeConfig(bufio.NewReader(f))
	case formatTIFF:
		cfg, err = tiff.DecodeConfig(f) // tiff wants an io.ReaderAt to avoid reading it all
	case formatBMP:
		cfg, err = bmp.DecodeConfig(bufio.NewReader(f))
	case formatGIF:
		cfg, err = gif.DecodeConfig(bufio.NewReader(f))
	}
	if err != nil {
		return fileInfo{}, fileError(path, decodeProblem(fi.Format, err))
	}
	fi.Width, fi.Height = cfg.Width, cfg.Height
	if fi.Width <= 0 || fi.Height <= 0 {
		return fileInfo{}, fileError(path, FormatError(fmt.Sprintf("%s header gives a size of %dx%d", fi.Format, fi.Width, fi.Height)))
	}
	if maxPixels <= 0 {
		maxPixels = DefaultMaxPixels
	}
	if int64(fi.Width)*int64(fi.Height) > int64(maxPixels) {
		return fileInfo{}, fileError(path, fmt.Errorf("%w: header says %dx%d pixels, more than the limit of %d (Options.MaxPixels); not decoded",
			ErrTooLarge, fi.Width, fi.Height, maxPixels))
	}
	fi.colourModel(cfg.ColorModel)
	if fi.Format == formatTIFF {
		if err := singlePage(f, path, maxPixels); err != nil {
			return fileInfo{}, err
		}
	}
	if fi.Format == formatPNG && len(head) >= 26 {
		// The IHDR colour type tells gray+alpha from RGBA, which the colour model cannot.
		switch head[25] {
		case 0: // gray
		case 2: // RGB
			fi.Alpha = false
		case 4: // gray + alpha
			fi.Channels, fi.Alpha = 1, true
		case 6: // RGBA
			fi.Alpha = true
		}
	}
	return fi, nil
}

// colourModel sets the kind, channels, alpha and bits that a decoder's colour model gives.
func (fi *fileInfo) colourModel(cm color.Model) {
	switch m := cm.(type) {
	case color.Palette:
		fi.Kind, fi.Channels = kindPalette, 1
		for _, c := range m {
			r, g, b, a := c.RGBA()
			if r != g || g != b {
				fi.Channels = 3
			}
			if a != 0xffff {
				fi.Alpha = true
			}
		}
	default:
		switch cm {
		case color.GrayModel:
			fi.Kind, fi.Channels = kindGray, 1
		case color.Gray16Model:
			fi.Kind, fi.Channels, fi.Bits = kindGray, 1, 16
		case color.RGBA64Model, color.NRGBA64Model:
			fi.Kind, fi.Channels, fi.Bits = kindColour, 3, 16
			fi.Alpha = cm == color.NRGBA64Model
		default:
			fi.Kind, fi.Channels = kindColour, 3
			fi.Alpha = cm == color.NRGBAModel
		}
	}
}

// singlePage refuses a TIFF file of more than one page, a stack, which golang.org/x/image/tiff
// would silently read as its first page, and a page whose colour planes are stored apart,
// which it would report as truncated (see tiffstack.Page.PlanesApart). A file whose chain of
// pages package tiffstack cannot follow at all is left to x/image/tiff, as before.
func singlePage(f *os.File, path string, maxPixels int) error {
	st, err := f.Stat()
	if err != nil {
		return fileError(path, err)
	}
	s, err := tiffstack.NewStack(f, st.Size(), path, maxPixels)
	if s == nil {
		return nil
	}
	if n := s.Len(); n > 1 || errors.Is(err, tiffstack.ErrMissing) {
		return fileError(path, fmt.Errorf("%w: a TIFF stack of %d pages (%v); only single images are read here: segment predict reads stacks, or save one page per file",
			ErrStack, n, pageProblem(err)))
	}
	if s.Pages[0].PlanesApart() {
		return fileError(path, UnsupportedError(fmt.Sprintf("page 1: %v", tiffstack.ErrPlanar)))
	}
	return nil
}

// pageProblem says what tiffstack found wrong with the chain of pages, or "every page read".
func pageProblem(err error) string {
	var te *tiffstack.Error
	if errors.As(err, &te) {
		return te.Err.Error()
	}
	return "every page readable"
}

// decode reads the whole image at path, whose header probe has read as fi.
func decode(path string, fi fileInfo) (image.Image, error) {
	if _, page := splitPage(path); page > 0 {
		return readPage(path, fi.Width*fi.Height)
	}
	f, err := regular.Open(path)
	if err != nil {
		return nil, fileError(path, decodeProblem("", err))
	}
	defer f.Close()
	var img image.Image
	switch fi.Format {
	case formatPNG:
		img, err = png.Decode(bufio.NewReader(f))
	case formatJPEG:
		img, err = jpeg.Decode(bufio.NewReader(f))
	case formatTIFF:
		img, err = tiff.Decode(f)
	case formatBMP:
		img, err = bmp.Decode(bufio.NewReader(f))
	case formatGIF:
		img, err = gif.Decode(bufio.NewReader(f))
	default:
		err = FormatError("not a PNG, JPEG, TIFF, BMP or GIF file")
	}
	if err != nil {
		return nil, fileError(path, decodeProblem(fi.Format, err))
	}
	if b := img.Bounds(); b.Dx() != fi.Width || b.Dy() != fi.Height {
		return nil, fileError(path, FormatError(fmt.Sprintf("header says %dx%d, pixels are %dx%d", fi.Width, fi.Height, b.Dx(), b.Dy())))
	}
	return img, nil
}

// Luma weights (ITU-R BT.601, as PIL's "L" mode) for turning colour into gray.
const (
	lumaR = 0.299
	lumaG = 0.587
	lumaB = 0.114
)

// planar converts img to c channels (1 or 3) of float32 in [0, 1], planar CHW.
func planar(img image.Image, c int) []float32 {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	n := w * h
	out := make([]float32, c*n)
	// put stores one pixel given as r, g, b in [0, 1].
	put := func(i int, r, g, bl float32) {
		if c == 1 {
			out[i] = lumaR*r + lumaG*g + lumaB*bl
			return
		}
		out[i], out[n+i], out[2*n+i] = r, g, bl
	}
	const s8, s16 = 1.0 / 255, 1.0 / 65535
	switch m := img.(type) {
	case *image.Gray:
		for y := 0; y < h; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][:w]
			for x, v := range row {
				out[y*w+x] = float32(v) * s8
			}
		}
		replicate(out, n, c)
	case *image.Gray16:
		for y := 0; y < h; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][:2*w]
			for x := 0; x < w; x++ {
				out[y*w+x] = float32(uint16(row[2*x])<<8|uint16(row[2*x+1])) * s16
			}
		}
		replicate(out, n, c)
	case *image.RGBA:
		for y := 0; y < h; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][:4*w]
			for x := 0; x < w; x++ {
				p := row[4*x : 4*x+4]
				r, g, bl, a := float32(p[0]), float32(p[1]), float32(p[2]), p[3]
				k := float32(s8)
				if a != 0xff && a != 0 { // premultiplied: undo it, then drop alpha
					k = 1 / float32(a)
				}
				put(y*w+x, r*k, g*k, bl*k)
			}
		}
	case *image.NRGBA:
		for y := 0; y < h; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][:4*w]
			for x := 0; x < w; x++ {
				p := row[4*x : 4*x+4]
				put(y*w+x, float32(p[0])*s8, float32(p[1])*s8, float32(p[2])*s8)
			}
		}
	case *image.Paletted:
		var lut [256][3]float32
		for i, col := range m.Palette {
			nc := color.NRGBA64Model.Convert(col).(color.NRGBA64)
			lut[i] = [3]float32{float32(nc.R) * s16, float32(nc.G) * s16, float32(nc.B) * s16}
		}
		for y := 0; y < h; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][:w]
			for x, v := range row {
				p := lut[v]
				put(y*w+x, p[0], p[1], p[2])
			}
		}
	case *image.YCbCr:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				yc := m.YCbCrAt(b.Min.X+x, b.Min.Y+y)
				r, g, bl := color.YCbCrToRGB(yc.Y, yc.Cb, yc.Cr)
				put(y*w+x, float32(r)*s8, float32(g)*s8, float32(bl)*s8)
			}
		}
	default:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				nc := color.NRGBA64Model.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA64)
				put(y*w+x, float32(nc.R)*s16, float32(nc.G)*s16, float32(nc.B)*s16)
			}
		}
	}
	return out
}

// replicate copies the first plane of out (n values) to the other c-1 planes.
func replicate(out []float32, n, c int) {
	for k := 1; k < c; k++ {
		copy(out[k*n:(k+1)*n], out[:n])
	}
}

// maskValues reads the value of every pixel of a mask, row-major: the gray level of gray
// masks (8 or 16 bits), the index of palette masks, and 0xRRGGBB for colour masks
// (8 bits per sample; 16-bit colours keep their high bytes; alpha is dropped).
func maskValues(img image.Image) []int32 {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	out := make([]int32, w*h)
	switch m := img.(type) {
	case *image.Gray:
		for y := 0; y < h; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][:w]
			for x, v := range row {
				out[y*w+x] = int32(v)
			}
		}
	case *image.Gray16:
		for y := 0; y < h; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][:2*w]
			for x := 0; x < w; x++ {
				out[y*w+x] = int32(row[2*x])<<8 | int32(row[2*x+1])
			}
		}
	case *image.Paletted:
		for y := 0; y < h; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][:w]
			for x, v := range row {
				out[y*w+x] = int32(v)
			}
		}
	case *image.NRGBA:
		for y := 0; y < h; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][:4*w]
			for x := 0; x < w; x++ {
				out[y*w+x] = int32(row[4*x])<<16 | int32(row[4*x+1])<<8 | int32(row[4*x+2])
			}
		}
	case *image.RGBA:
		for y := 0; y < h; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][:4*w]
			for x := 0; x < w; x++ {
				p := row[4*x : 4*x+4]
				if p[3] == 0xff {
					out[y*w+x] = int32(p[0])<<16 | int32(p[1])<<8 | int32(p[2])
					continue
				}
				nc := color.NRGBAModel.Convert(color.RGBA{p[0], p[1], p[2], p[3]}).(color.NRGBA)
				out[y*w+x] = int32(nc.R)<<16 | int32(nc.G)<<8 | int32(nc.B)
			}
		}
	default:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				nc := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
				out[y*w+x] = int32(nc.R)<<16 | int32(nc.G)<<8 | int32(nc.B)
			}
		}
	}
	return out
}

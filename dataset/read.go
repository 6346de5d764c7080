package dataset

import (
	"fmt"
	"image"
	"path/filepath"

	"github.com/segment-dev/segment/internal/parallel"
)

// Image is one image file decoded for a model, outside any data set: what prediction reads.
// It keeps the decoded pixels in the file's own format (one byte a pixel for 8-bit gray)
// and makes float32 model inputs only for the rows asked for, so that a huge image costs
// its file's pixels, not four bytes a sample for the whole of it.
type Image struct {
	Path          string
	Width, Height int
	// Channels is the number of channels the rows are given in: 1 (gray) or 3 (RGB).
	Channels int
	// FileChannels is the file's own: 1 when every pixel is gray, else 3.
	FileChannels int
	img          image.Image
}

// ReadImage decodes the image file at path for a model taking channels channels (1 or 3;
// 0 takes the file's own): gray images are replicated to RGB and colour images turned to
// gray (ITU-R 601 luma) as Open does. The header is checked against maxPixels (0 means
// DefaultMaxPixels) before anything is decoded. Errors are *Error naming the file.
func ReadImage(path string, channels, maxPixels int) (*Image, error) {
	if channels != 0 && channels != 1 && channels != 3 {
		return nil, fileError(path, fmt.Errorf("%w: %d channels asked for: want 1 (gray) or 3 (RGB)", ErrBadOptions, channels))
	}
	fi, err := probe(path, maxPixels)
	if err != nil {
		return nil, err
	}
	img, err := decode(path, fi)
	if err != nil {
		return nil, err
	}
	if channels == 0 {
		channels = fi.Channels
	}
	return &Image{Path: path, Width: fi.Width, Height: fi.Height, Channels: channels, FileChannels: fi.Channels, img: img}, nil
}

// Decoded gives the decoded image as the file holds it (for drawing over, say).
func (im *Image) Decoded() image.Image { return im.img }

// Rows writes rows y0 to y0+n-1 of the image into dst as Channels planes of n x Width
// float32 in [0, 1], as Open scales them: channel c of (x, y0+r) is at (c*n+r)*Width+x.
// The rows must lie inside the image, and dst hold Channels*n*Width values.
func (im *Image) Rows(dst []float32, y0, n int) error {
	if y0 < 0 || n < 1 || y0+n > im.Height {
		return fmt.Errorf("dataset: rows %d to %d of an image of %d rows", y0, y0+n-1, im.Height)
	}
	if want := im.Channels * n * im.Width; len(dst) != want {
		return fmt.Errorf("dataset: %d values for %d rows of %d channels of %d, want %d", len(dst), n, im.Channels, im.Width, want)
	}
	b := im.img.Bounds()
	r := image.Rect(b.Min.X, b.Min.Y+y0, b.Max.X, b.Min.Y+y0+n)
	copy(dst, planar(subImage(im.img, r), im.Channels))
	return nil
}

// Planes gives the whole image as Channels planes of float32, as Dataset.Load does. It
// costs four bytes a sample: Rows reads a part at a time.
func (im *Image) Planes() []float32 { return planar(im.img, im.Channels) }

// subImage cuts r out of img without copying pixels, keeping img's concrete type (and so
// planar's fast paths) where the type can.
func subImage(img image.Image, r image.Rectangle) image.Image {
	if s, ok := img.(interface {
		SubImage(image.Rectangle) image.Image
	}); ok {
		return s.SubImage(r)
	}
	return window{img, r}
}

// window is a part of an image of a type without SubImage.
type window struct {
	image.Image
	r image.Rectangle
}

func (w window) Bounds() image.Rectangle { return w.r }

// ReadMask reads the mask file at path as class indices (row-major, IgnoreIndex for the
// ignored value), with its width and height: what a prediction is scored against, or a
// prediction made by any tool. Values are read as Open reads them (gray levels, palette
// indices, or colours 0xRRGGBB when c.Colour is set). A value that is not one of c's is an
// *Error wrapping ErrValues, naming the file and the value.
func (c Classes) ReadMask(path string, maxPixels int) ([]int32, int, int, error) {
	fi, err := probe(path, maxPixels)
	if err != nil {
		return nil, 0, 0, err
	}
	img, err := decode(path, fi)
	if err != nil {
		return nil, 0, 0, err
	}
	if c.Colour && fi.Kind == kindPalette {
		return nil, 0, 0, fileError(path, UnsupportedError("palette mask read as RGB colours: save it as RGB"))
	}
	index := c.mapper()
	vals := maskValues(img)
	for i, v := range vals {
		v = normalize(v, fi, c.Colour)
		k, ok := index(v)
		if !ok {
			hint := ""
			if fi.Format == formatJPEG {
				hint = jpegHint
			}
			return nil, 0, 0, fileError(path, fmt.Errorf("%w: value %s at (%d, %d) is not one of the mask values %s%s",
				ErrValues, c.formatValue(int(v)), i%fi.Width, i/fi.Width, c.valueList(), hint))
		}
		vals[i] = k
	}
	return vals, fi.Width, fi.Height, nil
}

// MaskClasses decides the classes of a set of mask files outside any data set (masks that
// a tool predicted and their ground truth, say) as Open decides those of a data set's
// masks: from opts.MaskValues when given (every value must be one of them), else the
// sorted distinct values found, at most opts.Classes of them (two for 1, binary). Masks are
// colour when any holds a colour that is not gray. The first problem is an *Error naming its
// file.
func MaskClasses(paths []string, opts Options) (Classes, error) {
	c, errs, err := MaskClassesEach(paths, opts)
	for _, e := range errs {
		if e != nil {
			return Classes{}, e
		}
	}
	return c, err
}

// MaskClassesEach is MaskClasses that goes on past masks that cannot be read: errs[i] says
// why paths[i] could not (nil for a good one), and the classes come from the others, so
// that a scorer can score the good pairs and list the bad (eval keeps going). err is a
// problem of the set as a whole: no readable mask, or masks that disagree.
func MaskClassesEach(paths []string, opts Options) (c Classes, errs []error, err error) {
	if len(paths) == 0 {
		return Classes{}, nil, fmt.Errorf("dataset: no mask files")
	}
	infos := make([]fileInfo, len(paths))
	hists := make([]map[int32]int64, len(paths))
	errs = make([]error, len(paths))
	nonGray := make([]bool, len(paths))
	parallel.For(len(paths), opts.workers(), func(i int) {
		fi, err := probe(paths[i], opts.MaxPixels)
		if err != nil {
			errs[i] = err
			return
		}
		img, err := decode(paths[i], fi)
		if err != nil {
			errs[i] = err
			return
		}
		infos[i], hists[i] = fi, histogram(maskValues(img))
		if fi.Kind == kindColour {
			for v := range hists[i] {
				if !isGrayColour(v) {
					nonGray[i] = true
					break
				}
			}
		}
	})
	colour := false
	for i := range paths {
		colour = colour || errs[i] == nil && nonGray[i]
	}
	masks := make([]maskScan, 0, len(paths))
	for i, p := range paths {
		if errs[i] != nil {
			continue
		}
		if colour && infos[i].Kind == kindPalette {
			return Classes{}, errs, fileError(p, UnsupportedError("palette mask among RGB colour masks: save every mask the same way"))
		}
		h := make(map[int32]int64, len(hists[i]))
		for v, n := range hists[i] {
			h[normalize(v, infos[i], colour)] += n
		}
		masks = append(masks, maskScan{path: p, format: infos[i].Format, hist: h})
	}
	if len(masks) == 0 {
		return Classes{}, errs, fmt.Errorf("%s: none of the %d masks can be read", filepath.Dir(paths[0]), len(paths))
	}
	c, cerr := inferClasses(filepath.Dir(paths[0]), masks, colour, opts)
	if cerr != nil { // a typed *Error: returned only when it is one, never as a nil inside an error
		return Classes{}, errs, cerr
	}
	return c, errs, nil
}

// NewImage makes an Image of pixels decoded elsewhere, such as one page of a TIFF stack
// (package tiffstack), read as ReadImage reads a file: name stands for it in messages.
func NewImage(name string, img image.Image, channels int) (*Image, error) {
	if channels != 0 && channels != 1 && channels != 3 {
		return nil, fileError(name, fmt.Errorf("%w: %d channels asked for: want 1 (gray) or 3 (RGB)", ErrBadOptions, channels))
	}
	b := img.Bounds()
	if b.Empty() {
		return nil, fileError(name, FormatError("empty image"))
	}
	var fi fileInfo
	fi.colourModel(img.ColorModel())
	if channels == 0 {
		channels = fi.Channels
	}
	return &Image{Path: name, Width: b.Dx(), Height: b.Dy(), Channels: channels, FileChannels: fi.Channels, img: img}, nil
}

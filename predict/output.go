package predict

import (
	"fmt"
	"image"
	"image/color"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/segment-dev/segment/dataset"
	"github.com/segment-dev/segment/internal/atomicfile"
)

// OverlayAlpha is the weight of a class's colour over the image in an overlay.
const OverlayAlpha = 0.45

// Outputs are the images made of one prediction, filled band by band as the bands are
// finished, so that none of them needs the prediction of the whole image at once.
type Outputs struct {
	// Mask holds every pixel's class as its value in the training masks (the model's mask
	// values): 8-bit gray when every value fits in a byte, else 16-bit gray, and RGB for
	// colour masks.
	Mask image.Image
	// Overlay is the image with each class drawn over it in its colour (nil unless asked):
	// the foreground of a binary model, every class of a multi-class one.
	Overlay *image.NRGBA
	// Probs holds the probabilities as 16-bit gray, 65535 for 1 (nil unless asked): the
	// foreground's for a binary model, one image per class otherwise.
	Probs []*image.Gray16
	// Classes and Confidence hold every pixel's class index and that class's probability
	// (nil unless asked): what cleaning and objects work on once the whole image is done.
	Classes    []uint8
	Confidence []float32
	// Instances is the label image of the objects (nil unless set before Write).
	Instances *image.Gray16

	values  []int             // mask value of each class
	lut     [MaxClasses]uint8 // the values as bytes, for 8-bit masks
	colours []color.RGBA      // overlay colour of each class
	drawn   []bool            // whether the overlay colours the class
	display Source            // the image drawn under the overlay
	classes []uint8           // scratch: the classes of a band
	rgb     []float32         // scratch: a band of the display image
}

// OutputOptions says which images besides the mask to make.
type OutputOptions struct {
	// Overlay draws the classes over Display, which must have three channels (RGB).
	Overlay bool
	Display Source
	// Probs keeps the probabilities.
	Probs bool
	// Classes keeps the class of every pixel and its probability (Outputs.Classes and
	// Confidence), at five bytes a pixel.
	Classes bool
}

// MaxClasses is the most classes a model may have for its predictions to be written: class
// indices are kept in a byte.
const MaxClasses = 256

// NewOutputs makes the empty output images of a w x h prediction of a model of the classes
// c (the model's, weights.Meta.ClassesFor).
func NewOutputs(c dataset.Classes, w, h int, o OutputOptions) (*Outputs, error) {
	values := c.Values
	if len(values) > MaxClasses {
		return nil, fmt.Errorf("the model has %d classes; at most %d can be written", len(values), MaxClasses)
	}
	r := image.Rect(0, 0, w, h)
	out := &Outputs{values: values}
	maxV := 0
	for k, v := range values {
		maxV = max(maxV, v)
		out.lut[k] = uint8(v)
	}
	switch {
	case c.Colour:
		out.Mask = image.NewRGBA(r)
	case maxV < 1<<8:
		out.Mask = image.NewGray(r)
	default:
		out.Mask = image.NewGray16(r)
	}
	if o.Overlay {
		if o.Display.Channels != 3 || o.Display.Width != w || o.Display.Height != h {
			return nil, fmt.Errorf("overlay wants a %dx%d RGB image, got %dx%d with %d channels", w, h, o.Display.Width, o.Display.Height, o.Display.Channels)
		}
		out.Overlay = image.NewNRGBA(r)
		out.display = o.Display
		out.colours, out.drawn = OverlayColours(c)
	}
	if o.Probs {
		out.Probs = make([]*image.Gray16, c.ModelClasses())
		for k := range out.Probs {
			out.Probs[k] = image.NewGray16(r)
		}
	}
	if o.Classes {
		out.Classes = make([]uint8, w*h)
		out.Confidence = make([]float32, w*h)
	}
	return out, nil
}

// Band writes a finished band of the prediction into the images.
func (o *Outputs) Band(b Band) error {
	n := b.Rows * b.Width
	if cap(o.classes) < n {
		o.classes = make([]uint8, n)
	}
	cls := o.classes[:n]
	Decide(b, cls)
	for _, k := range cls {
		if int(k) >= len(o.values) {
			return fmt.Errorf("class %d of %d", k, len(o.values))
		}
	}
	o.paint(b, cls)
	if o.Classes != nil {
		copy(o.Classes[b.Y*b.Width:], cls)
		conf := o.Confidence[b.Y*b.Width:][:n]
		for i, k := range cls {
			switch {
			case b.Planes > 1:
				conf[i] = b.Probs[int(k)*n+i]
			case k == 1:
				conf[i] = b.Probs[i]
			default:
				conf[i] = 1 - b.Probs[i]
			}
		}
	}
	for k, pm := range o.Probs {
		plane := b.Probs[k*n : (k+1)*n]
		for r := 0; r < b.Rows; r++ {
			row := pm.Pix[pm.PixOffset(0, b.Y+r):][:2*b.Width]
			for x, p := range plane[r*b.Width : (r+1)*b.Width] {
				v := uint16(min(max(p, 0), 1)*65535 + 0.5)
				row[2*x], row[2*x+1] = uint8(v>>8), uint8(v)
			}
		}
	}
	if o.Overlay != nil {
		return o.overlay(b, cls)
	}
	return nil
}

// paint writes the classes of a band into the mask, in the mask values.
func (o *Outputs) paint(b Band, cls []uint8) {
	switch m := o.Mask.(type) {
	case *image.Gray:
		lut := o.lut[:len(o.values)]
		for r := 0; r < b.Rows; r++ {
			row := m.Pix[m.PixOffset(0, b.Y+r):][:b.Width]
			for x, k := range cls[r*b.Width : (r+1)*b.Width] {
				row[x] = lut[k]
			}
		}
	case *image.Gray16:
		for r := 0; r < b.Rows; r++ {
			row := m.Pix[m.PixOffset(0, b.Y+r):][:2*b.Width]
			for x, k := range cls[r*b.Width : (r+1)*b.Width] {
				v := o.values[k]
				row[2*x], row[2*x+1] = uint8(v>>8), uint8(v)
			}
		}
	case *image.RGBA:
		for r := 0; r < b.Rows; r++ {
			row := m.Pix[m.PixOffset(0, b.Y+r):][:4*b.Width]
			for x, k := range cls[r*b.Width : (r+1)*b.Width] {
				v := o.values[k]
				row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = uint8(v>>16), uint8(v>>8), uint8(v), 0xff
			}
		}
	}
}

// Reclass rewrites the mask and the overlay with new classes for every pixel (a cleaned
// mask), in bands, so that the overlay needs no more than a band of the display image. The
// classes must be those of the model.
func (o *Outputs) Reclass(cls []uint8) error {
	r := o.Mask.Bounds()
	w, h := r.Dx(), r.Dy()
	if len(cls) != w*h {
		return fmt.Errorf("predict: %d classes for %dx%d pixels", len(cls), w, h)
	}
	for _, k := range cls {
		if int(k) >= len(o.values) {
			return fmt.Errorf("class %d of %d", k, len(o.values))
		}
	}
	const rows = 64
	for y := 0; y < h; y += rows {
		b := Band{Y: y, Rows: min(rows, h-y), Width: w}
		part := cls[y*w : (y+b.Rows)*w]
		o.paint(b, part)
		if o.Overlay != nil {
			if err := o.overlay(b, part); err != nil {
				return err
			}
		}
	}
	if o.Classes != nil {
		copy(o.Classes, cls)
	}
	return nil
}

// overlay blends the class colours of a band over the display image.
func (o *Outputs) overlay(b Band, cls []uint8) error {
	n := b.Rows * b.Width
	if cap(o.rgb) < 3*n {
		o.rgb = make([]float32, 3*n)
	}
	rgb := o.rgb[:3*n]
	if err := o.display.Rows(rgb, b.Y, b.Rows); err != nil {
		return err
	}
	const a = OverlayAlpha
	for r := 0; r < b.Rows; r++ {
		row := o.Overlay.Pix[o.Overlay.PixOffset(0, b.Y+r):][:4*b.Width]
		for x := 0; x < b.Width; x++ {
			i := r*b.Width + x
			red, green, blue := rgb[i]*255, rgb[n+i]*255, rgb[2*n+i]*255
			if k := cls[i]; o.drawn[k] {
				c := o.colours[k]
				red = (1-a)*red + a*float32(c.R)
				green = (1-a)*green + a*float32(c.G)
				blue = (1-a)*blue + a*float32(c.B)
			}
			row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = uint8(red+0.5), uint8(green+0.5), uint8(blue+0.5), 0xff
		}
	}
	return nil
}

// Paths are where the outputs of one input image go.
type Paths struct {
	Mask, Overlay string
	// Probs has one path per probability image: one for a binary model, one per class
	// otherwise.
	Probs []string
	// Instances is the label image of the objects.
	Instances string
}

// OutputPaths names the outputs of the image at input for a model of the classes c:
// <stem>_mask.png, <stem>_overlay.png and <stem>_probs.png (binary) or
// <stem>_probs_<value>.png (one per class, colours as hex rrggbb) and <stem>_instances.png,
// in dir, or beside the input when dir is "".
func OutputPaths(input, dir string, c dataset.Classes) Paths {
	if dir == "" {
		dir = filepath.Dir(input)
	}
	base := filepath.Base(input)
	stem := filepath.Join(dir, strings.TrimSuffix(base, filepath.Ext(base)))
	p := Paths{Mask: stem + "_mask.png", Overlay: stem + "_overlay.png", Instances: stem + "_instances.png"}
	if c.Binary() {
		p.Probs = []string{stem + "_probs.png"}
		return p
	}
	for _, v := range c.Values {
		name := strconv.Itoa(v)
		if c.Colour {
			name = fmt.Sprintf("%06x", v)
		}
		p.Probs = append(p.Probs, stem+"_probs_"+name+".png")
	}
	return p
}

// Software is what predict's PNG outputs record as their "Software" text: how a later run
// knows its own outputs, which it may replace, from other files at their paths, such as
// ground-truth masks, which it must not (see atomicfile.PNGSoftware).
const Software = "segment predict"

// Write writes the images that were made to their paths, all or none (atomicfile.Group): a
// failure on any of them, a full disk say, leaves none of this image's files, and the mask
// appears last, once the others are in place.
func (o *Outputs) Write(p Paths) error {
	imgs, paths, err := o.files(p)
	if err != nil {
		return err
	}
	var g atomicfile.Group
	for k, img := range imgs {
		if err := g.WritePNG(paths[k], img, Software); err != nil {
			return err
		}
	}
	return g.Commit()
}

// files lists the images that were made with their paths, in a fixed order: the mask, the
// overlay, the probabilities, the instances.
func (o *Outputs) files(p Paths) ([]image.Image, []string, error) {
	imgs, paths := []image.Image{o.Mask}, []string{p.Mask}
	if o.Overlay != nil {
		imgs, paths = append(imgs, o.Overlay), append(paths, p.Overlay)
	}
	if len(o.Probs) > len(p.Probs) {
		return nil, nil, fmt.Errorf("predict: %d probability images, %d paths", len(o.Probs), len(p.Probs))
	}
	for k, pm := range o.Probs {
		imgs, paths = append(imgs, pm), append(paths, p.Probs[k])
	}
	if o.Instances != nil {
		imgs, paths = append(imgs, o.Instances), append(paths, p.Instances)
	}
	return imgs, paths, nil
}

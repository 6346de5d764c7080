package predict

import (
	"encoding/csv"
	"fmt"
	"image"
	"image/color"
	"io"
	"iter"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/segment-dev/segment/dataset"
	"github.com/segment-dev/segment/internal/atomicfile"
	"github.com/segment-dev/segment/objects"
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
	// Instances is the label image of the objects (nil unless set before Write), and
	// Objects their rows of the objects table (objects.CSVHeader's columns), written with it
	// as the image's own table.
	Instances *image.Gray16
	Objects   [][]string

	values  []int             // mask value of each class
	lut     [MaxClasses]uint8 // the values as bytes, for 8-bit masks
	colours []color.RGBA      // overlay colour of each class
	drawn   []bool            // whether the overlay colours the class
	outline int               // the overlay's outline width; 0 fills the regions
	seen    []uint8           // with outlines: the classes of the rows done, drawn at the last band
	display Source            // the image drawn under the overlay
	classes []uint8           // scratch: the classes of a band
	rgb     []float32         // scratch: a band of the display image
}

// OutputOptions says which images besides the mask to make.
type OutputOptions struct {
	// Overlay draws the classes over Display, which must have three channels (RGB), as
	// Style says.
	Overlay bool
	Display Source
	Style   OverlayStyle
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
		if err := out.overlayStyle(c, o.Style, w*h); err != nil {
			return nil, err
		}
		out.Overlay = image.NewNRGBA(r)
		out.display = o.Display
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
		return o.overlayBand(b, cls)
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
	for y := 0; y < h; y += redrawRows {
		b := Band{Y: y, Rows: min(redrawRows, h-y), Width: w}
		o.paint(b, cls[y*w:(y+b.Rows)*w])
	}
	if o.Classes != nil {
		copy(o.Classes, cls)
	}
	if o.Overlay == nil {
		return nil
	}
	if o.outline > 0 {
		copy(o.seen, cls)
		return o.redraw(cls, outlineEdges(cls, w, h, o.outline))
	}
	return o.redraw(cls, nil)
}

// redrawRows is the height of the bands an image is redrawn in: the display image is read
// a band at a time.
const redrawRows = 64

// overlayStyle sets up the overlay's classes and outline for the classes c of a prediction
// of n pixels.
func (o *Outputs) overlayStyle(c dataset.Classes, s OverlayStyle, n int) error {
	o.colours, o.drawn = OverlayColours(c)
	if s.Classes != nil {
		if len(s.Classes) != len(c.Values) {
			return fmt.Errorf("overlay: %d classes chosen of %d", len(s.Classes), len(c.Values))
		}
		o.drawn = s.Classes
	}
	if s.Outline < 0 || s.Outline > MaxOutline {
		return fmt.Errorf("overlay: outline %d pixels wide; want 0 (filled) to %d", s.Outline, MaxOutline)
	}
	if o.outline = s.Outline; o.outline > 0 {
		o.seen = make([]uint8, n)
	}
	return nil
}

// overlayBand draws a finished band into the overlay: filled regions at once; outlines
// once the last band is in, since a pixel's outline depends on the rows below it.
func (o *Outputs) overlayBand(b Band, cls []uint8) error {
	if o.outline == 0 {
		return o.overlay(b, cls, nil)
	}
	copy(o.seen[b.Y*b.Width:], cls)
	h := o.Overlay.Rect.Dy()
	if b.Y+b.Rows < h {
		return nil
	}
	return o.redraw(o.seen, outlineEdges(o.seen, b.Width, h, o.outline))
}

// OutlineObjects redraws an outline overlay with the outline of each object of l, in the
// colour of its class, so that touching objects of one class stay apart; a filled overlay
// is left as it is. The display image must still be there to draw on.
func (o *Outputs) OutlineObjects(l *objects.Labels) error {
	if o.Overlay == nil || o.outline == 0 {
		return nil
	}
	r := o.Overlay.Rect
	if l.W != r.Dx() || l.H != r.Dy() {
		return fmt.Errorf("overlay: %dx%d objects for a %dx%d image", l.W, l.H, r.Dx(), r.Dy())
	}
	return o.redraw(l.ClassMap(), outlineEdges(l.Pix, l.W, l.H, o.outline))
}

// redraw draws the whole overlay again from the classes of every pixel, band by band, so
// that it reads no more than a band of the display image at a time. edge, when not nil,
// says which pixels an outline colours.
func (o *Outputs) redraw(cls []uint8, edge []bool) error {
	r := o.Overlay.Rect
	w, h := r.Dx(), r.Dy()
	for y := 0; y < h; y += redrawRows {
		b := Band{Y: y, Rows: min(redrawRows, h-y), Width: w}
		var e []bool
		if edge != nil {
			e = edge[y*w : (y+b.Rows)*w]
		}
		if err := o.overlay(b, cls[y*w:(y+b.Rows)*w], e); err != nil {
			return err
		}
	}
	return nil
}

// overlay blends the class colours of a band over the display image: the overlay's one
// painter. edge, when not nil, limits the colour to the pixels it marks (an outline).
func (o *Outputs) overlay(b Band, cls []uint8, edge []bool) error {
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
			if k := cls[i]; o.drawn[k] && (edge == nil || edge[i]) {
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
	// Instances is the label image of the objects, and Objects the image's table of them
	// (the rows objects.csv gathers).
	Instances, Objects string
}

// OutputPaths names the outputs of the image at input for a model of the classes c:
// <stem>_mask.png, <stem>_overlay.png and <stem>_probs.png (binary) or
// <stem>_probs_<value>.png (one per class, colours as hex rrggbb), <stem>_instances.png and
// <stem>_objects.csv, in dir, or beside the input when dir is "".
func OutputPaths(input, dir string, c dataset.Classes) Paths {
	if dir == "" {
		dir = filepath.Dir(input)
	}
	base := filepath.Base(input)
	stem := filepath.Join(dir, strings.TrimSuffix(base, filepath.Ext(base)))
	p := Paths{Mask: stem + "_mask.png", Overlay: stem + "_overlay.png", Instances: stem + "_instances.png", Objects: stem + "_objects.csv"}
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

// Write writes the images that were made to their paths, and with the instances the
// image's objects table, all or none (atomicfile.Group): a failure on any of them, a full
// disk say, leaves none of this image's files, and the mask appears last, once the others
// are in place.
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
	if o.Instances != nil {
		if err := g.Write(p.Objects, func(w io.Writer) error { return writeObjects(w, slices.Values(o.Objects)) }); err != nil {
			return err
		}
	}
	return g.Commit()
}

// writeObjects writes an objects table: the header, then the rows.
func writeObjects(w io.Writer, rows iter.Seq[[]string]) error {
	cw := csv.NewWriter(w)
	cw.Write(objects.CSVHeader)
	for r := range rows {
		if err := cw.Write(r); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
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

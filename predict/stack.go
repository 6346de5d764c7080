package predict

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"io"
	"strings"

	"github.com/segment-dev/segment/dataset"
	"github.com/segment-dev/segment/internal/atomicfile"
	"github.com/segment-dev/segment/internal/regular"
	"github.com/segment-dev/segment/tiffstack"
)

// stack is a multi-page TIFF input being predicted page by page: the file is open while
// its pages are decoded, and each output is a multi-page TIFF file written as the pages
// finish, so that only the pages in the pipeline are held.
type stack struct {
	path string
	n    int   // pages to predict
	out  Paths // the TIFF outputs; unused with FileOptions.PagePNG

	s       *tiffstack.Stack // open from the first page's Load to the last's
	openErr error

	writers []*pageWriter     // one per output file, in Outputs.files order; nil until the first page
	table   *stream[[]string] // the stack's objects table, with the instances; nil until the first page
	written int               // pages written, good or blank
	good    int               // pages predicted
	sizes   []image.Point     // each page's size, for blank pages
	errs    []error           // the file's problems, each naming its page
}

// openStack reads the page descriptions of a TIFF input and returns a stack when it has
// more than one page, or pages past its first that cannot be found (the error says which).
// Anything else, including a file that is not a TIFF, is nil: a single image.
func openStack(path string, o FileOptions) (*stack, error) {
	f, err := regular.Open(path)
	if err != nil {
		return nil, nil // reported by the single-image path
	}
	defer f.Close()
	head := make([]byte, 4)
	if _, err := io.ReadFull(f, head); err != nil || !(bytes.Equal(head, []byte("II*\x00")) || bytes.Equal(head, []byte("MM\x00*"))) {
		return nil, nil
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, nil
	}
	s, err := tiffstack.NewStack(f, fi.Size(), path, o.MaxPixels)
	if s == nil || (s.Len() < 2 && err == nil) {
		return nil, nil
	}
	st := &stack{n: s.Len()}
	for _, p := range s.Pages {
		st.sizes = append(st.sizes, image.Pt(p.Width, p.Height))
	}
	if err != nil {
		err = fmt.Errorf("%w; the %d pages before it are predicted", err, st.n)
	}
	return st, err
}

// load decodes page (from 1), opening the file at the first page and closing it at the
// last. It runs on the decoding goroutine, pages in order.
func (st *stack) load(page, channels, maxPixels int) (*dataset.Image, error) {
	if page == st.n {
		defer func() {
			if st.s != nil {
				st.s.Close()
				st.s = nil
			}
		}()
	}
	if st.s == nil && st.openErr == nil {
		st.s, st.openErr = tiffstack.Open(st.path, maxPixels)
		if st.s != nil && st.s.Len() < st.n {
			st.openErr = fmt.Errorf("%s: the file changed: %d pages, %d before", st.path, st.s.Len(), st.n)
		}
		if st.openErr != nil && st.s != nil && st.s.Len() >= st.n {
			st.openErr = nil // the break after the pages predicted was reported already
		}
	}
	if st.openErr != nil {
		return nil, st.openErr
	}
	img, err := st.s.Page(page - 1)
	if err != nil {
		return nil, err
	}
	return dataset.NewImage(fmt.Sprintf("%s: page %d", st.path, page), img, channels)
}

// add writes the outputs of page as the next page of each output file, starting the files
// at the first page written.
func (st *stack) add(page int, o *Outputs) error {
	imgs, paths, err := o.files(st.out)
	if err != nil {
		return err
	}
	if st.writers == nil {
		for _, p := range paths {
			st.writers = append(st.writers, newPageWriter(p))
		}
		if o.Instances != nil {
			st.table = newStream(st.out.Objects, func(w io.Writer, rows <-chan []string) error {
				return writeObjects(w, func(yield func([]string) bool) {
					for r := range rows {
						if !yield(r) {
							return
						}
					}
				})
			})
		}
		for st.written < page-1 { // pages before the first good one failed
			st.written++
			st.blankImages(imgs, st.written)
		}
	}
	if len(imgs) != len(st.writers) {
		return fmt.Errorf("predict: %d outputs for %d files", len(imgs), len(st.writers))
	}
	for k, img := range imgs {
		if err := st.writers[k].add(img); err != nil {
			return err
		}
	}
	if st.table != nil {
		for _, r := range o.Objects {
			st.table.add(r)
		}
	}
	st.written++
	return nil
}

// blank writes an empty page for a page that failed, once the files are started.
func (st *stack) blank(page int) {
	for st.written < page {
		st.written++
		st.blankImages(nil, st.written)
	}
}

// blankImages writes an all-0 page of the page's own size into every file, of the same
// type as like's images when given, else as the file's first page.
func (st *stack) blankImages(like []image.Image, page int) {
	size := image.Pt(1, 1)
	if sz := st.sizes[page-1]; sz.X > 0 && sz.Y > 0 && sz.X*sz.Y <= tiffstack.DefaultMaxPixels {
		size = sz
	}
	for k, w := range st.writers {
		var model image.Image
		if like != nil {
			model = like[k]
		} else {
			model = w.first
		}
		w.add(emptyLike(model, size))
	}
}

// emptyLike returns an all-0 image of the type of m and the given size.
func emptyLike(m image.Image, size image.Point) image.Image {
	r := image.Rectangle{Max: size}
	switch m.(type) {
	case *image.Gray:
		return image.NewGray(r)
	case *image.Gray16:
		return image.NewGray16(r)
	default:
		img := image.NewRGBA(r)
		for i := 3; i < len(img.Pix); i += 4 {
			img.Pix[i] = 0xff
		}
		return img
	}
}

// finish closes the output files, or drops them with abort; with no file started and
// nothing to abort, there is nothing to do.
func (st *stack) finish(abort bool) error {
	var errs []error
	for _, w := range st.writers {
		if err := w.finish(abort); err != nil && !abort {
			errs = append(errs, err)
		}
	}
	if st.table != nil {
		if err := st.table.finish(abort); err != nil && !abort {
			errs = append(errs, err)
		}
	}
	st.writers, st.table = nil, nil
	return errors.Join(errs...)
}

// tiff gives the paths of a stack's outputs: those of a single image, as .tif.
func (p Paths) tiff() Paths {
	t := func(s string) string { return strings.TrimSuffix(s, ".png") + ".tif" }
	q := Paths{Mask: t(p.Mask), Overlay: t(p.Overlay), Instances: t(p.Instances), Objects: p.Objects}
	for _, s := range p.Probs {
		q.Probs = append(q.Probs, t(s))
	}
	return q
}

// errAborted drops a streamed output file.
var errAborted = errors.New("aborted")

// stream writes one output file atomically (atomicfile.Write) on a goroutine of its own
// that takes the file's items as they come (the pages of a stack's TIFF output, the rows of
// the objects table), so that they are written as they are made and not held, and the file
// appears, whole, only when the last is written.
type stream[T any] struct {
	items   chan T
	result  chan error
	aborted bool
}

// newStream starts writing the file at path with write, which gets the items; it should
// return at the first error, and the items left are dropped.
func newStream[T any](path string, write func(w io.Writer, items <-chan T) error) *stream[T] {
	s := &stream[T]{items: make(chan T), result: make(chan error, 1)}
	go func() {
		s.result <- atomicfile.Write(path, func(w io.Writer) error {
			err := write(w, s.items)
			for range s.items { // drain after an error, so that add never blocks
			}
			if err == nil && s.aborted { // read after close(items), which orders it
				err = errAborted
			}
			return err
		})
	}()
	return s
}

// add hands the next item to the file.
func (s *stream[T]) add(item T) { s.items <- item }

// finish ends the file, or drops it with abort, and returns the file's error.
func (s *stream[T]) finish(abort bool) error {
	s.aborted = abort
	close(s.items)
	err := <-s.result
	if errors.Is(err, errAborted) {
		return nil
	}
	return err
}

// pageWriter writes one multi-page TIFF output of a stack, a page at a time.
type pageWriter struct {
	*stream[image.Image]
	first image.Image // an empty image of the first page's type, the model of blank pages
}

func newPageWriter(path string) *pageWriter {
	return &pageWriter{stream: newStream(path, func(w io.Writer, pages <-chan image.Image) error {
		tw := tiffstack.NewWriter(w, tiffstack.Deflate)
		tw.SetSoftware(Software) // the guard's mark of predict's own outputs
		for img := range pages {
			if err := tw.WritePage(tiffImage(img)); err != nil {
				return err
			}
		}
		return tw.Close()
	})}
}

func (w *pageWriter) add(img image.Image) error {
	if w.first == nil {
		w.first = emptyLike(img, image.Point{})
	}
	w.stream.add(img)
	return nil
}

// tiffImage converts an overlay, whose alpha is 255 everywhere, to the RGBA that a TIFF
// page takes: with every alpha 255 the bytes are the same.
func tiffImage(img image.Image) image.Image {
	if m, ok := img.(*image.NRGBA); ok {
		return &image.RGBA{Pix: m.Pix, Stride: m.Stride, Rect: m.Rect}
	}
	return img
}

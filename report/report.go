package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/gif" // the image formats segment reads, for Image.Path
	_ "image/jpeg"
	_ "image/png"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	_ "golang.org/x/image/bmp"
	_ "golang.org/x/image/tiff"

	"github.com/segment-dev/segment/internal/regular"
	"github.com/segment-dev/segment/metrics"
)

// Class is one class of the masks: the i-th Class given to [Create] is class index i.
type Class struct {
	// Value is the class's pixel value in the mask files, shown beside its name.
	Value int
	// Name labels the class.
	Name string
	// Colour draws the class in the mask pictures; nil means the default (see the package
	// documentation).
	Colour color.Color
}

// ClassesOf gives the report's classes for the classes of package metrics: with colour
// set (the masks are RGB images), each class is drawn in its value read as 0xRRGGBB, as
// in its mask files; otherwise in the default colours.
func ClassesOf(classes []metrics.Class, colour bool) []Class {
	out := make([]Class, len(classes))
	for i, c := range classes {
		out[i] = Class{Value: c.Value, Name: c.Name}
		if colour {
			out[i].Colour = color.RGBA{uint8(c.Value >> 16), uint8(c.Value >> 8), uint8(c.Value), 255}
		}
	}
	return out
}

// Image is one evaluated image: the picture, its ground truth and prediction as class-index
// maps, and its scores.
type Image struct {
	// ID numbers the image, from 1, and names its pictures: its place in the evaluation's
	// list of images, so that a report made at once and one made in parts ([CreatePart],
	// [Merge]) number their images alike. 0 numbers it by the order of the calls to Add;
	// give every image an ID or none.
	ID int
	// Name is shown in the row (any text: it is escaped).
	Name string
	// Image is the picture; when nil it is read from Path.
	Image image.Image
	Path  string
	// Truth and Pred are class-index maps, row-major, Width*Height long: an index outside
	// 0..classes-1 is no class (the ground truth's ignore value, or a prediction of none).
	Truth, Pred   []int32
	Width, Height int
	// Result holds the image's per-class counts and scores, as [metrics.Evaluate] gives
	// them for the same maps.
	Result metrics.ImageResult
}

// Training is what the model file says about its training, shown when given.
type Training struct {
	// Config is the model's configuration and Summary the training's record, as JSON;
	// either may be empty. Text that is not JSON is shown as it is.
	Config, Summary json.RawMessage
	// Epoch, Loss, ValDice and ValIoU are the per-epoch history (Epoch numbers the
	// epochs; the others have one value per epoch, NaN where there is none), drawn as
	// the loss and the validation curves. Empty means no curves.
	Epoch, Loss, ValDice, ValIoU []float64
}

// Report is everything one page shows, for [Write].
type Report struct {
	Title    string
	Classes  []Class
	Summary  metrics.Summary
	Training *Training // nil when there is none
	Images   []Image
}

// Write writes the report r to dir in one go; see [Writer] for what it writes and when dir
// is replaced.
func Write(dir string, r Report) error {
	w, err := Create(dir, r.Title, r.Classes)
	if err != nil {
		return err
	}
	for _, im := range r.Images {
		if err := w.Add(im); err != nil {
			w.Abort()
			return err
		}
	}
	return w.Finish(r.Summary, r.Training)
}

// Writer writes a report image by image: [Create] it, [Writer.Add] each image, then
// [Writer.Finish] (or [Writer.Abort] on failure). Until Finish returns, everything goes to a
// temporary folder beside the report's.
type Writer struct {
	dir, tmp string
	title    string
	classes  []Class
	palette  color.Palette

	mu   sync.Mutex
	next int
	ids  map[int]bool // the IDs given so far
	rows []row
	done bool

	part string // with CreatePart, the part's name; "" for a whole report
}

// imgDir is the folder of the pictures inside a report.
const imgDir = "img"

// Create starts a report for masks of the given classes, to be written to dir (see the
// package documentation for when an existing dir may be replaced). It fails if dir cannot
// hold a report, or if there are fewer than two classes.
func Create(dir, title string, classes []Class) (*Writer, error) {
	if len(classes) < 2 {
		return nil, fmt.Errorf("report: %s: %d classes given; a report needs the background and at least one more", dir, len(classes))
	}
	if err := replaceable(dir); err != nil {
		return nil, err
	}
	parent, base := filepath.Split(filepath.Clean(dir))
	if parent == "" {
		parent = "."
	}
	if err := os.MkdirAll(parent, 0o777); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	var tmp string
	for range 100 {
		tmp = filepath.Join(parent, "."+base+".tmp-"+strconv.FormatUint(rand.Uint64(), 36))
		err := os.Mkdir(tmp, 0o777)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("report: %w", err)
		}
		tmp = ""
	}
	if tmp == "" {
		return nil, fmt.Errorf("report: %s: cannot find an unused temporary folder name", dir)
	}
	if err := os.Mkdir(filepath.Join(tmp, imgDir), 0o777); err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("report: %w", err)
	}
	return &Writer{dir: dir, tmp: tmp, title: title, classes: append([]Class(nil), classes...), palette: maskPalette(classes)}, nil
}

// replaceable reports why dir cannot become a report, if it cannot: it must be absent, an
// empty folder, or a folder holding only what a report holds.
func replaceable(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		if fi, serr := os.Stat(dir); serr == nil && !fi.IsDir() {
			return fmt.Errorf("report: %s exists and is not a folder", dir)
		}
		return fmt.Errorf("report: %w", err)
	}
	for _, e := range entries {
		switch n := e.Name(); {
		case n == "index.html" || n == "curves.png" || n == imgDir || n == partFile:
		case e.IsDir() && isPart(filepath.Join(dir, n)):
		case e.IsDir() && strings.HasPrefix(n, ".") && strings.Contains(n, ".tmp-"):
			// a part, or a report, being written, or left by a task that was killed
		default:
			return fmt.Errorf("report: %s holds %s, which no report holds: it is not replaced (choose an empty or new folder)", dir, e.Name())
		}
	}
	return nil
}

// Add writes the pictures of one image and keeps its scores for the page. It may be called
// from several goroutines at once; the rows are sorted on the page, so the order of the
// calls does not matter. It fails if the maps do not match the size, or the scores the
// classes.
func (w *Writer) Add(im Image) error {
	k := len(w.classes)
	n := im.Width * im.Height
	switch {
	case im.Width <= 0 || im.Height <= 0:
		return fmt.Errorf("report: image %q has size %dx%d", im.Name, im.Width, im.Height)
	case len(im.Truth) != n || len(im.Pred) != n:
		return fmt.Errorf("report: image %q is %dx%d (%d pixels) but has %d ground-truth and %d predicted pixels", im.Name, im.Width, im.Height, n, len(im.Truth), len(im.Pred))
	case len(im.Result.Scores) != k || len(im.Result.Counts) != k:
		return fmt.Errorf("report: image %q has scores of %d classes, the report %d", im.Name, len(im.Result.Scores), k)
	}
	pic := im.Image
	if pic == nil {
		var err error
		if pic, err = readImage(im.Path); err != nil {
			return err
		}
	}
	if b := pic.Bounds(); b.Dx() != im.Width || b.Dy() != im.Height {
		return fmt.Errorf("report: image %q is %dx%d but its masks are %dx%d", im.Name, b.Dx(), b.Dy(), im.Width, im.Height)
	}

	w.mu.Lock()
	if w.done {
		w.mu.Unlock()
		return fmt.Errorf("report: %s: image %q added after Finish or Abort", w.dir, im.Name)
	}
	w.next++
	id := w.next
	if im.ID > 0 {
		id = im.ID
	}
	if w.ids == nil {
		w.ids = map[int]bool{}
	}
	if w.ids[id] {
		w.mu.Unlock()
		return fmt.Errorf("report: image %q: number %d given twice", im.Name, id)
	}
	w.ids[id] = true
	w.mu.Unlock()

	r := newRow(id, im, k)
	pictures := []struct {
		kind string
		p    picture
	}{
		{"image", picture{img: displayable(pic)}},
		{"truth", picture{img: maskImage(im.Truth, im.Width, im.Height, w.palette), mask: true}},
		{"pred", picture{img: maskImage(im.Pred, im.Width, im.Height, w.palette), mask: true}},
		{"error", picture{img: foregroundError(im.Truth, im.Pred, im.Width, im.Height, k), mask: true}},
	}
	if k > 2 {
		for c := range k {
			if r.Present[c] {
				pictures = append(pictures, struct {
					kind string
					p    picture
				}{"error-c" + strconv.Itoa(c), picture{img: classError(im.Truth, im.Pred, im.Width, im.Height, k, int32(c)), mask: true}})
				r.ClassMaps = append(r.ClassMaps, c)
			}
		}
	}
	for _, p := range pictures {
		size, err := writePicture(filepath.Join(w.tmp, imgDir, r.Base+"-"+p.kind), p.p)
		if err != nil {
			return err
		}
		r.Thumb = size // every picture has the image's size, and so every thumbnail
	}

	w.mu.Lock()
	w.rows = append(w.rows, r)
	w.mu.Unlock()
	return nil
}

// readImage decodes the picture at path.
func readImage(path string) (image.Image, error) {
	if path == "" {
		return nil, errors.New("report: an image has neither a picture nor a path")
	}
	f, err := regular.Open(path)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("report: %s: %w", path, err)
	}
	return img, nil
}

// end marks the Writer done and returns its rows, when it may end (allowed, and not done
// already): Finish and FinishPart each end a Writer once, and only once.
func (w *Writer) end(allowed bool) (rows []row, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done || !allowed {
		return nil, false
	}
	w.done = true
	return w.rows, true
}

// Finish writes the page, with the summary and the training (nil for none), and moves the
// report into place, replacing what was at its folder. Call it once every Add has
// returned: an Add still running would be left out. After Finish the Writer is done,
// whether it succeeded or not.
func (w *Writer) Finish(s metrics.Summary, t *Training) (err error) {
	rows, ok := w.end(true)
	if !ok {
		return fmt.Errorf("report: %s: Finish after Finish or Abort", w.dir)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(w.tmp)
		}
	}()

	if len(s.Classes) != len(w.classes) {
		return fmt.Errorf("report: %s: the summary has %d classes, the report %d", w.dir, len(s.Classes), len(w.classes))
	}
	var curves image.Point
	if t != nil && len(t.Epoch) > 0 {
		var err error
		if curves, err = drawCurves(filepath.Join(w.tmp, "curves.png"), t); err != nil {
			return fmt.Errorf("report: %s: training curves: %w", w.dir, err)
		}
	}
	if err := writePage(filepath.Join(w.tmp, "index.html"), w.title, w.classes, s, t, curves, rows); err != nil {
		return err
	}
	return w.rename()
}

// rename moves the finished report from its temporary folder to its own, replacing an older
// report there (checked again: it may have changed since Create).
func (w *Writer) rename() error {
	if err := replaceable(w.dir); err != nil {
		return err
	}
	old := ""
	if _, err := os.Stat(w.dir); err == nil {
		old = w.tmp + "-old"
		if err := os.Rename(w.dir, old); err != nil {
			return fmt.Errorf("report: %w", err)
		}
	}
	if err := os.Rename(w.tmp, w.dir); err != nil {
		if old != "" {
			os.Rename(old, w.dir)
		}
		return fmt.Errorf("report: %w", err)
	}
	if old != "" {
		if err := os.RemoveAll(old); err != nil {
			return fmt.Errorf("report: %s is written, but the report it replaced is left at %s: %w", w.dir, old, err)
		}
	}
	return nil
}

// Abort removes what was written, leaving the report's folder as it was.
func (w *Writer) Abort() error {
	w.mu.Lock()
	w.done = true
	w.mu.Unlock()
	return os.RemoveAll(w.tmp)
}

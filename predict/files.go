package predict

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/segment-dev/segment/dataset"
	"github.com/segment-dev/segment/internal/atomicfile"
	"github.com/segment-dev/segment/internal/regular"
	"github.com/segment-dev/segment/objects"
	"github.com/segment-dev/segment/weights"
)

// FileOptions says what Files writes.
type FileOptions struct {
	// Dir is the folder the outputs go to; "" puts them beside each input.
	Dir string
	// Overlay and Probs add the overlay and the probability images to the mask.
	Overlay, Probs bool
	// OverlayStyle says which classes the overlay draws, and whether as outlines.
	OverlayStyle OverlayStyle
	// MaxPixels bounds an input's size, width times height, checked on its header before
	// it is decoded: 0 means dataset.DefaultMaxPixels. For a stack it bounds each page.
	MaxPixels int
	// Rows, when not nil, is told after every band how many rows of the image at path are
	// done, for progress within a large image. It is called from the inference goroutine.
	// A page of a stack is named "PATH#pN".
	Rows func(path string, done, total int)
	// PagePNG writes the outputs of a stack's pages as PNG files, one per page
	// (NAME_p0001_mask.png, ...), instead of multi-page TIFF files (NAME_mask.tif, ...).
	PagePNG bool
	// Clean cleans every mask before it is written (see Clean).
	Clean Clean
	// Instances writes the objects of each image: a 16-bit label image (NAME_instances.png,
	// or a page of NAME_instances.tif for a stack) and the image's table of them,
	// NAME_objects.csv (one for a stack's pages, or one per page with PagePNG), among its
	// outputs; ObjectsCSV gathers the tables of every input.
	Instances bool
	// Split separates touching objects by a watershed (objects.Labels.Split) with seeds at
	// least SplitDistance pixels apart; it applies to the instances.
	Split         bool
	SplitDistance float64
	// ObjectsCSV is the path of the objects table written with Instances: one file for the
	// run, written atomically once every image is done, from the tables of the inputs, in
	// the order of the inputs (and of a stack's pages), those written by this run and those
	// SkipExisting found. Whatever the runs that wrote the inputs' tables (killed, started
	// again, shards of an array), it holds the rows one run over the inputs writes.
	ObjectsCSV string
	// SkipExisting leaves out an input whose outputs all exist already (a re-run after a
	// killed or preempted one): done gets an error that is ErrExists for it. Outputs are
	// written atomically, so an existing file is a whole one.
	SkipExisting bool
}

// ErrExists is the error done is given for an input that SkipExisting left out.
var ErrExists = errors.New("outputs exist already; skipped")

// Clean says how a predicted mask is cleaned, object by object, each foreground class
// apart (objects of different classes never merge): MinSize removes objects of fewer
// pixels, FillHoles fills their holes, KeepLargest keeps the largest object of each class.
// They apply in that order, so that a speck inside a hole does not keep the hole open.
// A removed object's pixels join the class that borders it most (objects.Labels.MinSize).
type Clean struct {
	MinSize     int
	FillHoles   bool
	KeepLargest bool
}

// On says whether anything is to be cleaned.
func (c Clean) On() bool { return c.MinSize > 1 || c.FillHoles || c.KeepLargest }

// apply cleans the objects l.
func (c Clean) apply(l *objects.Labels) {
	if c.MinSize > 1 {
		l.MinSize(c.MinSize)
	}
	if c.FillHoles {
		l.FillHoles()
	}
	if c.KeepLargest {
		l.KeepLargest(true)
	}
}

// Files predicts the image files at paths and writes their outputs (see OutputPaths), through
// Run's pipeline. meta gives the mask values the masks are written in. done(i, err) is
// called for every file in order; err names the file (and the page of a stack). Two inputs
// whose outputs would have the same names (a.png and a.jpg, or two folders' a.png into one
// Dir) are an error for the second, which is skipped.
//
// A TIFF file of more than one page is a stack: every page is predicted, one at a time,
// and its outputs are multi-page TIFF files with a page for each of the input's (or PNG
// files per page with PagePNG). A page that cannot be read or predicted is reported by
// number, and stands in the TIFF outputs as an empty (all 0) page so that the others keep
// their numbers; pages past a break in the file's chain of pages, which cannot be found,
// are reported too.
func (p *Predictor) Files(ctx context.Context, paths []string, meta weights.Meta, o FileOptions, done func(i int, err error)) error {
	cfg := p.model.Config
	if err := meta.Validate(cfg); err != nil {
		return err
	}
	if cfg.InChannels != 1 && cfg.InChannels != 3 {
		return fmt.Errorf("the model takes %d input channels; images are read as 1 (gray) or 3 (RGB)", cfg.InChannels)
	}
	if o.Instances && o.ObjectsCSV == "" {
		return errors.New("predict: Instances without ObjectsCSV")
	}
	classes := meta.ClassesFor(cfg)
	run := &filesRun{p: p, classes: classes, o: o}
	g := newGuard(paths)
	if o.Dir != "" {
		if err := atomicfile.CheckDir(o.Dir); err != nil {
			return err
		}
	}
	if o.Instances {
		if err := g.check([]string{o.ObjectsCSV}); err != nil {
			return fmt.Errorf("the objects table: %w", err)
		}
	}
	first := make(map[string]string, len(paths))
	for i, in := range paths {
		out := OutputPaths(in, o.Dir, classes)
		st, err := openStack(in, o)
		if st != nil {
			st.path = in
			if !o.PagePNG {
				st.out = out.tiff()
			} else {
				out = OutputPaths(pageName(in, 1), o.Dir, classes)
			}
			if err != nil {
				st.errs = append(st.errs, err)
			}
		}
		var clash error
		key := filepath.Clean(out.Mask)
		if prev, ok := first[key]; ok {
			clash = fmt.Errorf("%s: its outputs would overwrite those of %s (same name); skipped", in, prev)
		} else {
			first[key] = in
			// The guard first: a file at an output path that predict did not write (a
			// ground truth) is refused by name, not taken for an output and skipped.
			all := run.outputsOf(in, out, st)
			if clash = run.unsafeOutputs(g, in, all); clash == nil {
				clash = run.resume(all)
			}
		}
		if st == nil || clash != nil {
			u := &unit{file: i, path: in, out: out, clash: clash}
			if clash == nil || errors.Is(clash, ErrExists) {
				u.tables = run.tables(in, out, st)
			}
			run.units = append(run.units, u)
			continue
		}
		for k := 1; k <= st.n; k++ {
			u := &unit{file: i, path: in, page: k, st: st, out: out}
			if o.PagePNG {
				u.out = OutputPaths(pageName(in, k), o.Dir, classes)
				u.tables = []string{u.out.Objects}
			} else if k == st.n {
				u.tables = []string{st.out.Objects}
			}
			run.units = append(run.units, u)
		}
	}
	if o.Instances {
		atomicfile.RemoveStale(o.ObjectsCSV)
	}
	job := func(i int) Job { return &fileJob{u: run.units[i], run: run} }
	err := p.Run(ctx, len(run.units), job, func(i int, err error) { run.done(run.units[i], err, done) })
	run.close()
	if err == nil && o.Instances {
		err = run.gather()
	}
	return err
}

// imagePaths lists the output paths of each image of the input at path: out for a single
// image; a stack's (st.out), or with PagePNG each page's.
func (r *filesRun) imagePaths(path string, out Paths, st *stack) []Paths {
	switch {
	case st == nil:
		return []Paths{out}
	case r.o.PagePNG:
		all := make([]Paths, st.n)
		for k := range all {
			all[k] = OutputPaths(pageName(path, k+1), r.o.Dir, r.classes)
		}
		return all
	}
	return []Paths{st.out}
}

// outputsOf lists the files the input at path will have written (see imagePaths and wanted).
func (r *filesRun) outputsOf(path string, out Paths, st *stack) []string {
	var all []string
	for _, p := range r.imagePaths(path, out, st) {
		all = append(all, r.wanted(p)...)
	}
	return all
}

// tables lists the image tables (Paths.Objects) that the input at path accounts for in the
// objects table: its own, its stack's, or with PagePNG its pages' (see imagePaths).
func (r *filesRun) tables(path string, out Paths, st *stack) []string {
	var all []string
	for _, p := range r.imagePaths(path, out, st) {
		all = append(all, p.Objects)
	}
	return all
}

// gather writes the objects table of the run (ObjectsCSV) from the inputs' own tables, in
// the order of the inputs, naming each input as this run was given it. An input without a
// table (it failed, in this run and every earlier one) has no rows, as in a run that
// predicts it; a table that is not one of predict's is an error naming it, and no objects
// table is written.
func (r *filesRun) gather() error {
	err := atomicfile.Write(r.o.ObjectsCSV, func(w io.Writer) error {
		cw := csv.NewWriter(w)
		cw.Write(objects.CSVHeader)
		for _, u := range r.units {
			for _, t := range u.tables {
				if err := copyTable(cw, t, u.path); err != nil {
					return err
				}
			}
		}
		cw.Flush()
		return cw.Error()
	})
	if err != nil {
		return fmt.Errorf("the objects table: %w", err)
	}
	return nil
}

// copyTable copies the rows of the image table at path into cw, with image as their image;
// a missing table copies nothing.
func copyTable(cw *csv.Writer, path, image string) error {
	f, err := regular.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	cr := csv.NewReader(bufio.NewReader(f))
	cr.ReuseRecord = true
	bad := func(problem string) error {
		return fmt.Errorf("%s: not an objects table of segment predict (%s): remove it, or give --overwrite, to predict its image again", path, problem)
	}
	head, err := cr.Read()
	if err != nil || !slices.Equal(head, objects.CSVHeader) {
		if err == nil {
			err = fmt.Errorf("header %q", strings.Join(head, ","))
		}
		return bad(err.Error())
	}
	for {
		row, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return bad(err.Error())
		}
		row[0] = image
		if err := cw.Write(row); err != nil {
			return err
		}
	}
}

// unsafeOutputs says why all, the outputs of the input at path (see outputsOf), may not be
// written (see guard.check), or nil.
func (r *filesRun) unsafeOutputs(g *guard, path string, all []string) error {
	if err := g.check(all); err != nil {
		return fmt.Errorf("%s: %w; skipped", path, err)
	}
	return nil
}

// resume removes the temporary files that a killed run left of all, the outputs of an
// input (see outputsOf), and returns ErrExists when SkipExisting leaves the input out
// because every output it would write is there.
func (r *filesRun) resume(all []string) error {
	for _, p := range all {
		atomicfile.RemoveStale(p) // a file it cannot remove is no reason not to predict
	}
	if !r.o.SkipExisting {
		return nil
	}
	for _, p := range all {
		if _, err := os.Stat(p); err != nil {
			return nil
		}
	}
	return ErrExists
}

// wanted lists the files the options ask for among p: the mask, and the overlay, the
// probabilities and the instances when asked, as Outputs.files writes them.
func (r *filesRun) wanted(p Paths) []string {
	all := []string{p.Mask}
	if r.o.Overlay {
		all = append(all, p.Overlay)
	}
	if r.o.Probs {
		all = append(all, p.Probs[:min(len(p.Probs), r.classes.ModelClasses())]...)
	}
	if r.o.Instances {
		all = append(all, p.Instances, p.Objects)
	}
	return all
}

// InputPixels is the size of the image file at path in pixels, every page of a stack
// counted, read from its header alone (for the split among shards); 0 for a file whose
// header cannot be read, which then fails in whichever shard holds it.
func InputPixels(path string) int64 {
	if st, _ := openStack(path, FileOptions{}); st != nil {
		var n int64
		for _, sz := range st.sizes {
			n += int64(sz.X) * int64(sz.Y)
		}
		return n
	}
	f, err := regular.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	cfg, _, err := image.DecodeConfig(bufio.NewReader(f))
	if err != nil {
		return 0
	}
	return int64(cfg.Width) * int64(cfg.Height)
}

// pageName is the name a stack's page takes in the names of its PNG outputs: NAME_p0003.tif
// for page 3 of NAME.tif.
func pageName(path string, page int) string {
	ext := filepath.Ext(path)
	return fmt.Sprintf("%s_p%04d%s", strings.TrimSuffix(path, ext), page, ext)
}

// filesRun is the state of one call of Files: its units of work and the rows of the
// objects table.
type filesRun struct {
	p       *Predictor
	classes dataset.Classes
	o       FileOptions
	units   []*unit
}

// unit is one image to predict: a file, or a page of a stack.
type unit struct {
	file  int    // index in Files' paths
	path  string // the file
	page  int    // the page of a stack, from 1; 0 for a single image
	st    *stack // the stack the page is of; nil for a single image
	out   Paths
	clash error
	// tables are the image tables whose rows the objects table takes at this unit, in
	// order: the unit's own, or its stack's at the last page, or a skipped stack's.
	tables []string
}

// name names the unit in messages: the path, with the page of a stack.
func (u *unit) name() string {
	if u.st == nil {
		return u.path
	}
	return fmt.Sprintf("%s#p%d", u.path, u.page)
}

// named makes err name the unit, with its page, unless it does already (as dataset's and
// tiffstack's errors do).
func (u *unit) named(err error) error {
	if err == nil {
		return nil
	}
	if u.st == nil {
		return named(u.path, err)
	}
	prefix := fmt.Sprintf("%s: page %d", u.path, u.page)
	if strings.HasPrefix(err.Error(), prefix+":") {
		return err
	}
	if m := err.Error(); strings.HasPrefix(m, u.path+": ") {
		err = errors.New(strings.TrimPrefix(m, u.path+": "))
	}
	return fmt.Errorf("%s: %w", prefix, err)
}

// done ends a unit, on Run's calling goroutine and so in order: a single image is reported
// at once; a page of a stack is added to its stack, whose file is finished and reported with
// its last page.
func (r *filesRun) done(u *unit, err error, report func(i int, err error)) {
	if u.st == nil {
		report(u.file, named(u.path, err))
		return
	}
	st := u.st
	if err != nil {
		st.errs = append(st.errs, u.named(err))
		if st.writers != nil && st.written < u.page {
			st.blank(u.page)
		}
	} else {
		st.good++
	}
	if u.page < st.n {
		return
	}
	if st.writers != nil || (!r.o.PagePNG && st.good == 0) {
		if err := st.finish(st.good == 0); err != nil {
			st.errs = append(st.errs, err)
		}
	}
	report(u.file, errors.Join(st.errs...))
}

// close drops the TIFF files of the stacks left unfinished (a cancelled run).
func (r *filesRun) close() {
	for _, u := range r.units {
		if u.st != nil && u.st.writers != nil {
			u.st.finish(true)
		}
	}
}

// fileJob predicts one image file, or one page of a stack, and writes its outputs.
type fileJob struct {
	u   *unit
	run *filesRun

	img     *dataset.Image
	outputs *Outputs
}

// named makes err name the file at path, unless it does already (as dataset's errors do).
func named(path string, err error) error {
	var de *dataset.Error
	if err == nil || errors.As(err, &de) || strings.HasPrefix(err.Error(), path+":") {
		return err
	}
	return fmt.Errorf("%s: %w", path, err)
}

// Load decodes the image. The output images are made at its first band, on the inference
// goroutine, so that an image waiting in the pipeline holds only its pixels.
func (j *fileJob) Load() (Source, error) {
	u := j.u
	if u.clash != nil {
		return Source{}, u.clash
	}
	channels := j.run.p.model.Config.InChannels
	var img *dataset.Image
	var err error
	if u.st != nil {
		img, err = u.st.load(u.page, channels, j.run.o.MaxPixels)
	} else {
		img, err = dataset.ReadImage(u.path, channels, j.run.o.MaxPixels)
	}
	if err != nil {
		return Source{}, err
	}
	j.img = img
	return FromImage(img), nil
}

// redrawsOverlay says whether the overlay is drawn again once the image is predicted, on
// the display image kept until then: over a cleaned mask, or with the objects' outlines.
func (j *fileJob) redrawsOverlay() bool {
	o := j.run.o
	return o.Overlay && (o.Clean.On() || o.Instances && o.OverlayStyle.Outline > 0)
}

// objects says whether the job needs the classes of the whole image once it is predicted.
func (j *fileJob) objects() bool { return j.run.o.Clean.On() || j.run.o.Instances }

func (j *fileJob) Band(b Band) error {
	img, o := j.img, j.run.o
	if j.outputs == nil {
		oo := OutputOptions{Overlay: o.Overlay, Style: o.OverlayStyle, Probs: o.Probs, Classes: j.objects()}
		if o.Overlay {
			colour := *img // the same pixels, read as RGB to draw on
			colour.Channels = 3
			oo.Display = FromImage(&colour)
		}
		var err error
		if j.outputs, err = NewOutputs(j.run.classes, img.Width, img.Height, oo); err != nil {
			return err
		}
	}
	if err := j.outputs.Band(b); err != nil {
		return err
	}
	if o.Rows != nil {
		o.Rows(j.u.name(), b.Y+b.Rows, img.Height)
	}
	if b.Y+b.Rows == img.Height && !j.redrawsOverlay() {
		j.img = nil // the last band: the outputs are all that is left to keep
	}
	return nil
}

func (j *fileJob) Finish() error {
	if j.u.st != nil {
		defer collectPage() // deferred first, so it runs once the page's images are let go
	}
	defer func() { j.img, j.outputs = nil, nil }()
	if j.objects() {
		if err := j.makeObjects(); err != nil {
			return err
		}
	}
	var err error
	if st := j.u.st; st != nil && !j.run.o.PagePNG {
		err = st.add(j.u.page, j.outputs)
	} else {
		err = j.outputs.Write(j.u.out)
	}
	return err
}

// collectPage runs the collector after each page of a stack and hands the freed memory
// back to the system, so that a stack of any length peaks at about the memory of one
// page. Left to its pacing, the collector lets the pages' garbage (the page's buffers,
// some 27 MB a 1024x1024 page with the sample model) grow to the size of the live heap
// (the network's buffers) before it runs: a 30-page 1024x1024 stack peaked 94% above one
// page (433 against 226 MiB resident); collecting alone left 18% (267), handing the
// memory back too 9% (247), for the pages that overlap in the pipeline. It costs tens of
// milliseconds against seconds for a page (TestStackPeakRSS measures it).
func collectPage() { debug.FreeOSMemory() }

// makeObjects cleans the mask and finds its objects, as FileOptions asks.
func (j *fileJob) makeObjects() error {
	o, out := j.run.o, j.outputs
	r := out.Mask.Bounds()
	l, err := objects.Label(out.Classes, r.Dx(), r.Dy())
	if err != nil {
		return err
	}
	if o.Clean.On() {
		o.Clean.apply(l)
		if err := out.Reclass(l.ClassMap()); err != nil {
			return err
		}
	}
	if !o.Instances {
		return nil
	}
	if o.Split {
		if err := l.Split(o.SplitDistance); err != nil {
			return err
		}
	}
	objs, err := l.Objects(out.Confidence)
	if err != nil {
		return err
	}
	page := max(j.u.page, 1)
	for _, ob := range objs {
		ob.Class = j.run.classes.Values[ob.Class] // the class as the masks write it
		out.Objects = append(out.Objects, ob.CSVRecord(j.u.path, page))
	}
	out.Instances = l.Gray16()
	return out.OutlineObjects(l)
}

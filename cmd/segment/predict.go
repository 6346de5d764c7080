package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/segment-dev/segment/dataset"
	"github.com/segment-dev/segment/predict"
	"github.com/segment-dev/segment/shard"
)

// maxInputPixels bounds the images predict reads, checked on the header before decoding:
// 2^30 pixels (32768x32768), a gigabyte of 8-bit gray. Prediction itself works in tiles, so
// the decoded image is what limits the size.
const maxInputPixels = 1 << 30

// demoNotice is what predict says when no --model is given, so that no one takes the demo
// model's masks for those of a model trained on their data.
const demoNotice = "segment predict: no --model given: using the built-in demo model, trained on synthetic data"

// predictCommand is the table entry of segment predict.
func predictCommand() *command {
	return &command{
		name:  "predict",
		args:  "IMAGE|FOLDER|GLOB...",
		short: "predict masks for images",
		long: `
Predict runs a model on images and writes a mask for each, in the values of the
masks the model was trained on (0/255 for a binary model, the class values for a
multi-class one, colours for colour masks): NAME_mask.png beside the image, or
in --out. Arguments are image files, folders (their PNG, JPEG, TIFF, BMP and GIF
files, leaving out earlier outputs such as *_mask.png) and patterns such as
'scans/*.tif'. Without --model the embedded sample model is used.

--overlay adds NAME_overlay.png, the image with each class drawn over it in
colour (a binary model's foreground; every class of a multi-class one).
--overlay-class draws only the classes it lists, separated by commas, each by
name (background, foreground, or class N as eval prints them) or by index:
several may be drawn at once, since the classes of a multi-class model are most
often looked at side by side. --outline draws the boundary of each region,
--outline-width pixels wide (within that many 4-connected steps of another
region or of the image's edge), instead of filling it; with --instances each
object gets its own outline, so that touching objects keep the line between
them. --probs adds the probabilities as 16-bit gray PNG (65535 = 1):
NAME_probs.png (foreground) for a binary model, NAME_probs_VALUE.png per class
otherwise.

Images of any size are predicted: an image that fits the memory budget (--mem)
is run whole, a larger one in overlapping tiles (--tile, --overlap) blended with
a Gaussian weight, so memory follows the tile and not the image. --tta averages
the predictions of the image flipped left-right, top-bottom and both, or
left-right alone for a model trained without top-bottom flips (augment light).

A multi-page TIFF (a stack, 8 or 16 bit) has every page predicted, one page at a
time: its outputs are multi-page TIFF files with a page per input page
(NAME_mask.tif, NAME_overlay.tif, ...), or with --format png one PNG per page
(NAME_p0001_mask.png, ...). A page that cannot be read is reported by number
and written as an empty page; the other pages are still predicted.

Masks can be cleaned, each object within its class: --min-size N removes
objects of fewer than N pixels, --fill-holes fills the holes of objects,
--keep-largest keeps the largest object of each class (applied in that order).
A removed object takes the class that borders it most: the background of a
binary mask, the surrounding class of a multi-class one.
--instances labels the objects (8-connected) into a 16-bit label image,
NAME_instances.png (a page of NAME_instances.tif for a stack), and lists them in
NAME_objects.csv, the image's table, and in objects.csv (in --out, else beside
the first image), which gathers the images' tables in the order of the images:
image, page, class (its mask value), id, area, centroid, bounding box, mean
probability and perimeter.
--split separates touching objects by a watershed on the distance transform,
with seeds at least --split-distance pixels apart.

An image that cannot be read or written is reported and skipped; the exit status
is then 1 once the others are done. Files are written to a temporary name and
renamed, an image's outputs all or none, so an existing output is a whole one:
an image whose outputs all exist is skipped (a run killed and started again
finishes only what is missing, and says how many it skipped), unless
--overwrite. objects.csv takes a skipped image's rows from its NAME_objects.csv,
so that it lists every image's objects once. Predict never writes over one of
its inputs, nor over
a PNG file that predict did not write (its outputs record it): with a.png and
its ground truth a_mask.png in a folder, a.png is reported and skipped and
a_mask.png left alone; --out writes the masks elsewhere. Every output path is
checked before the first image is predicted.

On a cluster, --shard i/n predicts part i of n (from 0) of the images, split by
their pixels (read from the headers) the same way on every machine. Without
the flag the part comes from a Slurm job array (SLURM_ARRAY_TASK_ID with
SLURM_ARRAY_TASK_COUNT, or SLURM_ARRAY_TASK_MIN and MAX), or from a Kubernetes
Indexed Job's JOB_COMPLETION_INDEX with --shards n. Each task prints the part
it took; with --instances it writes objects.shard-i-of-n.csv, the objects of its
part. Once every task is done, the same command without a shard predicts only
what is missing and writes objects.csv, the same bytes as one run's.`,
		flags: predictFlags,
	}
}

func predictFlags(fs *flag.FlagSet) func(*flag.FlagSet, io.Writer, io.Writer) error {
	var inf inferenceFlags
	model := fs.String("model", "", modelFlagUsage)
	out := fs.String("out", "", "folder for the outputs (default: beside each image)")
	overlay := fs.Bool("overlay", false, "also write NAME_overlay.png: the image with the classes drawn over it")
	ov := registerOverlayStyle(fs)
	probs := fs.Bool("probs", false, "also write the probabilities as 16-bit PNG")
	format := fs.String("format", "tif", "outputs of a TIFF stack: tif (one multi-page file each) or png (one file per page)")
	minSize := fs.Int("min-size", 0, "remove objects of fewer than `N` pixels from the masks")
	fillHoles := fs.Bool("fill-holes", false, "fill the holes of objects in the masks")
	keepLargest := fs.Bool("keep-largest", false, "keep only the largest object of each class in the masks")
	instances := fs.Bool("instances", false, "also write NAME_instances.png, a 16-bit label image of the objects, NAME_objects.csv and objects.csv")
	var split splitFlags
	split.register(fs)
	overwrite := fs.Bool("overwrite", false, "predict an image again even when all its outputs exist (by default it is skipped)")
	var sf shardFlags
	sf.register(fs)
	inf.register(fs)
	quiet := fs.Bool("q", false, "no progress bar")
	return func(fs *flag.FlagSet, stdout, errOut io.Writer) error {
		if fs.NArg() == 0 {
			return usagef("want at least one image, folder or pattern")
		}
		sh, err := sf.resolve()
		if err != nil {
			return err
		}
		o, err := inf.options()
		if err != nil {
			return err
		}
		if *format != "tif" && *format != "png" {
			return usagef("--format %q: want tif or png", *format)
		}
		if *minSize < 0 {
			return usagef("--min-size %d: want 0 or more pixels", *minSize)
		}
		if err := split.check(*instances); err != nil {
			return err
		}
		if err := ov.check(*overlay); err != nil {
			return err
		}
		models, metas, name, err := loadModels(*model)
		if err != nil {
			return err
		}
		meta := metas[0] // an ensemble's models agree on what is read of it, but for TTA's mirrors
		if err := checkTile(o.Tile, models, "predict", errOut); err != nil {
			return err
		}
		style, err := ov.style(meta.ClassesFor(models[0].Config)) // an ensemble's models share their classes
		if err != nil {
			return err
		}
		if *model == "" {
			fmt.Fprintln(errOut, demoNotice)
		}
		if *out != "" {
			if err := makeOutDir(*out); err != nil {
				return err
			}
		}
		files, problems := predict.Inputs(fs.Args())
		files = shardFiles(sh, files, errOut)
		tally := &tally{cmd: "predict", errOut: errOut, quiet: *quiet}
		for _, p := range problems {
			tally.problem(p)
		}
		p, err := newPredictor(models, metas, o)
		if err != nil {
			return err
		}
		defer p.Close()
		ctx, stop := interruptible()
		defer stop()

		tally.start(len(files))
		fo := predict.FileOptions{Dir: *out, Overlay: *overlay, OverlayStyle: style, Probs: *probs, MaxPixels: maxInputPixels,
			PagePNG:   *format == "png",
			Clean:     predict.Clean{MinSize: *minSize, FillHoles: *fillHoles, KeepLargest: *keepLargest},
			Instances: *instances, Split: split.on, SplitDistance: split.distance, SkipExisting: !*overwrite}
		if *instances {
			dir := *out
			if dir == "" && len(files) > 0 {
				dir = filepath.Dir(files[0])
			}
			fo.ObjectsCSV = filepath.Join(dir, objectsName(sh))
		}
		skipped := 0
		if tally.bar != nil {
			fo.Rows = func(path string, done, total int) {
				tally.bar.Describe(fmt.Sprintf("%s %3d%%", shortName(path), 100*done/total))
			}
		}
		err = p.Files(ctx, files, meta, fo, func(i int, err error) {
			// A stack's problems, one per page, each get a line of their own.
			if j, ok := err.(interface{ Unwrap() []error }); ok {
				if errs := j.Unwrap(); len(errs) > 1 {
					for _, e := range errs[:len(errs)-1] {
						tally.problem(e)
					}
					err = errs[len(errs)-1]
				}
			}
			if errors.Is(err, predict.ErrExists) {
				skipped++
				err = nil
			}
			tally.done(i, err)
		})
		if errors.Is(err, context.Canceled) {
			return errInterrupted
		}
		if err != nil {
			return err
		}
		where := "beside the images"
		if *out != "" {
			where = "in " + *out
		}
		fmt.Fprintf(stdout, "%d of %d images predicted with %s; masks %s\n", len(files)-tally.failed-skipped, len(files), name, where)
		if skipped > 0 {
			fmt.Fprintf(stdout, "skipped %d images whose outputs exist already (--overwrite predicts them again)\n", skipped)
		}
		if *instances {
			fmt.Fprintf(stdout, "objects in %s\n", fo.ObjectsCSV)
		}
		if tally.failed+len(problems) > 0 {
			return fmt.Errorf("%d of %d inputs failed (listed above)", tally.failed+len(problems), len(files)+len(problems))
		}
		return nil
	}
}

// shardFiles keeps the files of this task's shard, split by their pixels as their headers
// give them, in the order given.
func shardFiles(sh shard.Shard, files []string, errOut io.Writer) []string {
	keep := pickShard(sh, files, func(k int) int64 { return predict.InputPixels(files[k]) }, errOut)
	out := make([]string, len(keep))
	for j, k := range keep {
		out[j] = files[k]
	}
	return out
}

// objectsName is the objects table's file name: objects.csv, and one per shard
// (objects.shard-2-of-4.csv) so that the tasks of an array do not write the same file.
func objectsName(sh shard.Shard) string {
	if !sh.On() {
		return "objects.csv"
	}
	return fmt.Sprintf("objects.shard-%d-of-%d.csv", sh.I, sh.N)
}

// shortName cuts a path to its last 24 characters for the progress bar.
func shortName(p string) string {
	if r := []rune(p); len(r) > 24 {
		return "..." + string(r[len(r)-21:])
	}
	return p
}

// overlayStyleFlags are predict's flags that say how --overlay draws.
type overlayStyleFlags struct {
	classes string
	outline bool
	width   int
}

func registerOverlayStyle(fs *flag.FlagSet) *overlayStyleFlags {
	f := &overlayStyleFlags{}
	fs.StringVar(&f.classes, "overlay-class", "", "with --overlay, draw only these `classes`: names or indices, comma-separated (default: the foreground, or every class)")
	fs.BoolVar(&f.outline, "outline", false, "with --overlay, draw the outline of each region (each object with --instances) instead of filling it")
	fs.IntVar(&f.width, "outline-width", 1, "width of --outline in `pixels`")
	return f
}

// check rejects the flags without --overlay, whose drawing they change, and a width out of
// range.
func (f *overlayStyleFlags) check(overlay bool) error {
	if !overlay && (f.classes != "" || f.outline) {
		return usagef("--overlay-class and --outline say how --overlay draws: give --overlay too")
	}
	if f.width < 1 || f.width > predict.MaxOutline {
		return usagef("--outline-width %d: want 1 to %d pixels", f.width, predict.MaxOutline)
	}
	return nil
}

// style gives the overlay's style for a model of the classes c; an unknown class is a
// usage error that lists the model's classes.
func (f *overlayStyleFlags) style(c dataset.Classes) (predict.OverlayStyle, error) {
	var s predict.OverlayStyle
	if f.outline {
		s.Outline = f.width
	}
	if f.classes == "" {
		return s, nil
	}
	drawn, err := predict.ChooseClasses(c, f.classes)
	if err != nil {
		return s, usagef("--overlay-class: %v", err)
	}
	s.Classes = drawn
	return s, nil
}

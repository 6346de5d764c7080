package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/segment-dev/segment/predict"
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
colour; --probs adds the probabilities as 16-bit gray PNG (65535 = 1):
NAME_probs.png (foreground) for a binary model, NAME_probs_VALUE.png per class
otherwise.

Images of any size are predicted: an image that fits the memory budget (--mem)
is run whole, a larger one in overlapping tiles (--tile, --overlap) blended with
a Gaussian weight, so memory follows the tile and not the image. --tta averages
the predictions of the image flipped left-right, top-bottom and both.

An image that cannot be read or written is reported and skipped; the exit status
is then 1 once the others are done. Files are written to a temporary name and
renamed.`,
		flags: predictFlags,
	}
}

func predictFlags(fs *flag.FlagSet) func(*flag.FlagSet, io.Writer, io.Writer) error {
	var inf inferenceFlags
	model := fs.String("model", "", "model file (default: the embedded sample model)")
	out := fs.String("out", "", "folder for the outputs (default: beside each image)")
	overlay := fs.Bool("overlay", false, "also write NAME_overlay.png: the image with the classes drawn over it")
	probs := fs.Bool("probs", false, "also write the probabilities as 16-bit PNG")
	inf.register(fs)
	quiet := fs.Bool("q", false, "no progress bar")
	return func(fs *flag.FlagSet, stdout, errOut io.Writer) error {
		if fs.NArg() == 0 {
			return usagef("want at least one image, folder or pattern")
		}
		o, err := inf.options()
		if err != nil {
			return err
		}
		m, meta, name, err := loadModel(*model)
		if err != nil {
			return err
		}
		if *model == "" {
			fmt.Fprintln(errOut, demoNotice)
		}
		if *out != "" {
			if err := os.MkdirAll(*out, 0o755); err != nil {
				return err
			}
		}
		files, problems := predict.Inputs(fs.Args())
		tally := &tally{cmd: "predict", errOut: errOut, quiet: *quiet}
		for _, p := range problems {
			tally.problem(p)
		}
		p, err := predict.New(m, o)
		if err != nil {
			return usagef("%v", err)
		}
		defer p.Close()
		ctx, stop := interruptible()
		defer stop()

		tally.start(len(files))
		fo := predict.FileOptions{Dir: *out, Overlay: *overlay, Probs: *probs, MaxPixels: maxInputPixels}
		if tally.bar != nil {
			fo.Rows = func(path string, done, total int) {
				tally.bar.Describe(fmt.Sprintf("%s %3d%%", shortName(path), 100*done/total))
			}
		}
		err = p.Files(ctx, files, meta, fo, tally.done)
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
		fmt.Fprintf(stdout, "%d of %d images predicted with %s; masks %s\n", len(files)-tally.failed, len(files), name, where)
		if tally.failed+len(problems) > 0 {
			return fmt.Errorf("%d of %d inputs failed (listed above)", tally.failed+len(problems), len(files)+len(problems))
		}
		return nil
	}
}

// shortName cuts a path to its last 24 characters for the progress bar.
func shortName(p string) string {
	if r := []rune(p); len(r) > 24 {
		return "..." + string(r[len(r)-21:])
	}
	return p
}

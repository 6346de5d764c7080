package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/segment-dev/segment/landscape"
)

// landscapeCommand is the table entry of segment landscape.
func landscapeCommand() *command {
	return &command{
		name:  "landscape",
		args:  "--model MODEL --data DIR",
		short: "draw a model's loss landscape around its weights (Li et al.)",
		long: `
Landscape evaluates the training loss of a model over a grid of points
θ + a·d1 + b·d2 around its weights θ, a and b from -span to span, where d1 and
d2 are random directions in weight space, filter-normalised: each filter (output
channel) of a direction has the norm of the same filter of the model, as in
Li et al., "Visualizing the Loss Landscape of Neural Nets". Only the
convolutions' weights move; biases and the norms' scales and shifts stay (their
directions are zero, as Li et al. set them). Batch norm uses the model's running
statistics (inference mode), so the loss is a function of the weights alone.
The loss is the training loss (--loss, default the model's) on --crops fixed
crops of the training images, cut at places drawn with --seed.

It writes OUT.csv (a, b, loss), OUT.contour.png, OUT.surface.png (a heat map
with contours) and OUT.1d.png (the loss along d1), and prints the loss at the
centre and the non-convexity: the mean over the grid's inner points of
max(0, -λmin)/max(|λmin|, |λmax|) of the 2x2 Hessian of the surface by finite
differences (0: convex everywhere in the plane). Points run side by side on
all cores.`,
		flags: landscapeFlags,
	}
}

func landscapeFlags(fs *flag.FlagSet) func(*flag.FlagSet, io.Writer, io.Writer) error {
	model := fs.String("model", "", "the model `file` (default: the built-in sample model)")
	data := fs.String("data", "", "the data set `folder` whose training images give the crops (required)")
	out := fs.String("out", "", "prefix of the files written (default: the model file's name without .safetensors, plus .landscape; sample.landscape for the built-in model)")
	var lo landscape.Options
	fs.IntVar(&lo.Points, "points", 21, "grid points on each side (odd)")
	fs.Float64Var(&lo.Span, "span", 1, "the grid runs over [-span, span]²")
	fs.IntVar(&lo.Workers, "threads", 0, "grid points evaluated at once (default: all cores)")
	var do landscape.DataOptions
	fs.IntVar(&do.Crops, "crops", 4, "number of training crops the loss is taken on")
	fs.IntVar(&do.Crop, "crop", 256, "side of the crops (a multiple of 2^depth)")
	fs.Float64Var(&do.ValSplit, "val-split", 0.1, "share of train held out for validation, as in training: those pairs give no crops")
	fs.StringVar(&do.Loss, "loss", "", lossUsage())
	seed := fs.Uint64("seed", 1, "random seed: directions, held-out pairs and crops")
	quiet := fs.Bool("q", false, "no progress bar")
	return func(fs *flag.FlagSet, stdout, errOut io.Writer) error {
		if err := noArgs(fs); err != nil {
			return err
		}
		if *data == "" {
			return usagef("--data DIR is required")
		}
		if err := checkLoss(do.Loss); err != nil {
			return err
		}
		// A data folder that is not there is a failure naming it (status 1), not a usage
		// error, as in the other commands; ForModel's errors are about the flags' values.
		if _, err := os.Stat(*data); err != nil {
			return err
		}
		lo.Seed, do.Seed = *seed, *seed
		m, meta, name, err := loadModel(*model)
		if err != nil {
			return err
		}
		if do.Downsample, err = meta.Downsample(); err != nil {
			return err
		}
		p, err := landscape.ForModel(m, meta.ClassesFor(m.Config), *data, do)
		if err != nil {
			return usagef("%v", err)
		}
		if !*quiet {
			lo.Progress = errOut
		}
		res, err := landscape.Compute(p, lo)
		if err != nil {
			return usagef("%v", err)
		}
		prefix := *out
		switch {
		case prefix != "":
		case *model == "": // the built-in model's name is no file name
			prefix = "sample.landscape"
		default:
			prefix = strings.TrimSuffix(*model, ".safetensors") + ".landscape"
		}
		files, err := landscape.Write(res, prefix, name)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "loss at the centre %.6g, non-convexity %.4f; %dx%d grid over [-%g, %g]² in %.1fs\n",
			res.Centre, res.NonConvexity, lo.Points, lo.Points, lo.Span, lo.Span, res.Seconds)
		fmt.Fprintf(stdout, "wrote %s, %s, %s, %s\n", files.CSV, files.Contour, files.Surface, files.Line)
		return nil
	}
}

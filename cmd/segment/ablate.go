package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/segment-dev/segment/train"
	"github.com/segment-dev/segment/unet"
)

// ablateCommand is the table entry of segment ablate.
func ablateCommand() *command {
	return &command{
		name:  "ablate",
		args:  "",
		short: "train U-Nets with and without skip connections and compare them",
		long: `
Ablate is the skip-connection lab: it trains the same U-Net with each kind of
long skip connection (concat as in U-Net and DenseNet, add as in ResNet, none),
each with batch norm and without normalisation, on the same data with the same
seed and the same time budget (--time, or --epochs), and compares them. --deep
adds the six variants again at depth 5; --block residual gives every variant
ResNet's short skips inside each level.

Each variant's run goes to its own folder under --out, with its model, log,
curves and gradient log (every --grad-log steps: each layer's gradient norm and
update ratio, drawn as a heat map of layers by steps). Then --out gets
ablation.md and ablation.csv (per variant: best validation Dice, final loss,
steps done, and the gradient norm of the first layer over that of the last,
in the second half of the run and at initialisation) and ablation_loss.png
(every variant's loss and validation Dice curves in one picture). It prints a
line as each variant finishes. Ctrl-C stops; the table keeps the variants done,
and the same command with --resume continues: each finished run keeps its
figures in model.ablation.json beside its model, and a run with the same
options is not trained again.`,
		flags: ablateFlags,
	}
}

func ablateFlags(fs *flag.FlagSet) func(*flag.FlagSet, io.Writer, io.Writer) error {
	def := unet.DefaultConfig()
	a := train.AblateOptions{}
	o := &a.Train
	var tf trainingFlags
	tf.register(fs, o)
	fs.StringVar(&a.Dir, "out", "ablation", "output folder: one subfolder per variant, and the tables and picture")
	fs.DurationVar(&o.Time, "time", 5*time.Minute, "time budget of each variant")
	fs.IntVar(&o.Epochs, "epochs", 0, "passes over the training images of each variant (without --time: instead of the time budget)")
	fs.BoolVar(&a.Deep, "deep", false, "also train every variant at depth 5 (--crop must then be a multiple of 32)")
	block := fs.String("block", string(unet.BlockPlain), "block of every level of every variant: plain, residual or dense, or a comma-separated list of them")
	setBlock := blockFlags(fs)
	fs.IntVar(&a.Seeds, "seeds", 1, "runs of each variant, with seeds --seed, --seed+1, ...")
	fs.BoolVar(&a.Resume, "resume", false, "keep the runs an earlier ablation into --out finished with the same options; train the rest")
	withLandscape := fs.Bool("landscape", false, "draw each run's loss landscape after training")
	var lo train.LandscapeOptions
	fs.IntVar(&lo.Grid.Points, "landscape-points", 21, "landscape grid points on each side (odd)")
	fs.IntVar(&lo.Data.Crops, "landscape-crops", 4, "training crops the landscape's loss is taken on")
	fs.StringVar(&o.Loss, "loss", "", lossUsage())
	seed := fs.Uint64("seed", 1, "random seed, the same for every variant: weights, split, crops and augmentation")
	fs.IntVar(&o.GradLog, "grad-log", 10, "record the gradient norms every N steps")
	return func(fs *flag.FlagSet, out, errOut io.Writer) error {
		if err := noArgs(fs); err != nil {
			return err
		}
		timeSet := false
		fs.Visit(func(f *flag.Flag) { timeSet = timeSet || f.Name == "time" })
		if o.Epochs > 0 && !timeSet {
			o.Time = 0 // --epochs alone replaces the default time budget
		}
		if o.GradLog < 1 {
			return usagef("--grad-log must be at least 1, got %d", o.GradLog)
		}
		o.Model.Skip, o.Model.Norm, o.Model.Up = def.Skip, def.Norm, unet.UpTranspose
		a.Blocks = nil
		dense := false
		for _, b := range strings.Split(*block, ",") {
			b := unet.Block(strings.TrimSpace(b))
			if slices.Contains(a.Blocks, b) {
				return usagef("--block lists %s twice", b)
			}
			a.Blocks, dense = append(a.Blocks, b), dense || b == unet.BlockDense
		}
		if a.Seeds < 1 || a.Seeds > 100 {
			return usagef("--seeds must be between 1 and 100, got %d", a.Seeds)
		}
		// Every block's configuration must validate; the dense one's growth and layers go to
		// the ablation, which gives them to its dense variants only.
		var growth, layers int
		for _, b := range a.Blocks {
			c := o.Model
			c.Block = b
			if err := setBlock(&c); err != nil && !dense {
				return err
			}
			if b != unet.BlockDense {
				c.Growth, c.DenseLayers = 0, 0
			}
			c.InChannels, c.Classes = 1, 1
			if err := c.Validate(); err != nil {
				return usagef("%v", err)
			}
			if b == unet.BlockDense {
				growth, layers = c.Growth, c.DenseLayers
			}
		}
		o.Model.Block = a.Blocks[0]
		if len(a.Blocks) > 1 {
			o.Model.Block = unet.BlockPlain
		}
		o.Model.Growth, o.Model.DenseLayers = 0, 0
		if o.Model.Block == unet.BlockDense {
			o.Model.Growth, o.Model.DenseLayers = growth, layers
		}
		if err := tf.check(fs); err != nil {
			return err
		}
		if a.Deep && o.Crop%32 != 0 {
			return usagef("--deep trains at depth 5 too: --crop %d must be a multiple of 32", o.Crop)
		}
		o.Model.Growth, o.Model.DenseLayers = growth, layers
		if *withLandscape {
			if p := lo.Grid.Points; p < 3 || p%2 == 0 {
				return usagef("--landscape-points must be odd and at least 3, got %d", p)
			}
			if lo.Data.Crops < 1 {
				return usagef("--landscape-crops must be at least 1, got %d", lo.Data.Crops)
			}
			lo.Grid.Seed = *seed
			lo.Data.Seed = *seed
			a.Landscape = &lo
		}
		if err := checkLoss(o.Loss); err != nil {
			return err
		}
		o.Seed = *seed
		cleanup, err := tf.setup(errOut)
		if err != nil {
			return err
		}
		defer cleanup()
		a.Log = out
		ctx, stop := interruptible()
		defer stop()
		res, err := train.Ablate(ctx, a)
		if res != nil && len(res.Rows) > 0 {
			fmt.Fprintf(out, "\n%s\ntable: %s, %s; curves: %s\n", res, res.Markdown, res.CSV, res.PNG)
			if res.Landscapes != "" {
				fmt.Fprintf(out, "landscapes: %s\n", res.Landscapes)
			}
		}
		if errors.Is(err, train.ErrInterrupted) {
			return errInterrupted
		}
		return err
	}
}

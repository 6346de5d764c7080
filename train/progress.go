package train

import (
	"fmt"
	"io"
	"math"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/segment-dev/segment/dataset"
	"github.com/segment-dev/segment/internal/progress"
)

// progressHook shows the run: two lines on what it trains, a progress bar with the loss,
// the images per second and the time left (on Options.Progress), and a line per epoch
// with its loss and validation scores (on Options.Log).
func progressHook() Hook {
	var bar *progressbar.ProgressBar
	return Hook{Name: "progress", Priority: 80,
		Start: func(l *Loop) error {
			o, ds := l.Options, l.Data
			bar = newBar(o, l.TotalSteps)
			fmt.Fprintf(o.Log, "training on %s: %d train / %d val images, %s; %d steps of %d per epoch, crops %dx%d%s\n",
				o.Data, len(ds.Train), len(ds.Val), ds.Classes, l.StepsPerEpoch, l.Batch, l.Crop, l.Crop, shrunkText(o.Downsample))
			fmt.Fprintf(o.Log, "model: %s, %d weights; loss %s, %s lr %g (%s)\n", l.Model.Config, l.Model.NumWeights(), o.Loss, o.Optimizer, o.LR, o.Schedule)
			if ds.Classes.Binary() {
				return nil
			}
			return printClassView(o.Log, ds, l.Crop, o.ClassCrops, o.Downsample, l.ClassWeights, o.Seed)
		},
		AfterStep: func(l *Loop) error {
			st := l.st
			bar.Describe(fmt.Sprintf("epoch %d  loss %.4f  %.1f img/s", l.Epoch+1, st.LossSum/float64(st.LossCount), l.Rate))
			if o := l.Options; o.Time > 0 && o.Epochs == 0 {
				bar.Set(int(l.Elapsed()))
			} else {
				bar.Set(st.Steps)
			}
			return nil
		},
		EndEpoch: func(l *Loop) error {
			rec, mark := l.Record, ""
			if l.Best {
				mark = "  *best"
			}
			bar.Clear()
			// The unrounded time and rate, as the line has always shown them.
			fmt.Fprintf(l.Options.Log, "epoch %3d  %6.0fs  loss %.4f  val Dice %s  IoU %s  lr %.2e  %.1f img/s%s\n",
				rec.Epoch, l.st.Elapsed, rec.Loss, fmtScore(float64(rec.ValDice)), fmtScore(float64(rec.ValIoU)), rec.LR, l.Rate, mark)
			if len(rec.ClassDice) > 0 {
				fmt.Fprintf(l.Options.Log, "           Dice per class: %s\n", classScores(rec.ClassDice, l.Data.Classes.Names))
			}
			return nil
		},
		End: func(l *Loop, err error) error {
			switch {
			case err == nil:
				bar.Finish()
				fmt.Fprintln(l.Options.Progress)
			case halted(err):
				bar.Exit()
			}
			return nil
		},
	}
}

func fmtScore(v float64) string {
	if math.IsNaN(v) {
		return "  -   "
	}
	return fmt.Sprintf("%.4f", v)
}

func newBar(o Options, totalSteps int) *progressbar.ProgressBar {
	max, unit := totalSteps, "steps"
	if o.Epochs == 0 {
		max, unit = int(o.Time.Seconds()), "s"
	}
	return progressbar.NewOptions(max,
		progressbar.OptionSetWriter(progress.Writer(o.Progress)), // plain lines where not a terminal
		progressbar.OptionSetItsString(unit),
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionShowElapsedTimeOnFinish(),
	)
}

// coverageCrops is how many crops printClassView draws to estimate the share of crops
// holding each class: a standard error of at most 1.6 points.
const coverageCrops = 1000

// shrunkText says, for the line on what a run trains, that its images are shrunk.
func shrunkText(f int) string {
	if f <= 1 {
		return ""
	}
	return fmt.Sprintf(" of the images shrunk %d times", f)
}

// printClassView writes, for a multi-class run, a line per class: its share of the
// training pixels, its loss weight, and the share of crops that hold it, with crops drawn
// anywhere and with the run's class crops: whether a rare class is seen at all.
func printClassView(w io.Writer, ds *dataset.Dataset, crop int, share float64, downsample int, weights []float64, seed uint64) error {
	pixels, _ := ds.ClassPixels(ds.Train)
	var total int64
	for _, n := range pixels {
		total += n
	}
	uniform, err := ds.CropCoverage(ds.Train, crop, 0, downsample, coverageCrops, seed)
	if err != nil {
		return err
	}
	with := uniform
	if share > 0 {
		if with, err = ds.CropCoverage(ds.Train, crop, share, downsample, coverageCrops, seed); err != nil {
			return err
		}
	}
	names := ds.Classes.Names
	fmt.Fprintf(w, "class  pixels  weight  in crops (anywhere -> %g class crops)\n", share)
	for c := range pixels {
		wt := 1.0
		if weights != nil {
			wt = weights[c]
		}
		name := ""
		if c < len(names) {
			name = "  " + names[c]
		}
		fmt.Fprintf(w, "%5d  %5.2f%%  %6.3g  %5.1f%% -> %5.1f%%%s\n", c, 100*float64(pixels[c])/float64(max(total, 1)), wt, 100*uniform[c], 100*with[c], name)
	}
	return nil
}

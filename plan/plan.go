package plan

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/segment-dev/segment/unet"
)

// DefaultMemory is the memory a plan lets a training step take when Budget.Memory is 0:
// 4 GiB, what a laptop spares.
const DefaultMemory = 4 << 30

// stepPixels is the pixels a training step sees, batch times crop squared: 2 x 256 x 256,
// the setup that trains best in 15 minutes on the two binary sets (ISBI, DSB). More
// pixels a step means fewer steps in the time.
const stepPixels = 2 * 256 * 256

// rareShare is the pixel share under which a class is rare: class crops, class weights
// and the per-class Dice are for data sets that have one. DSB's nuclei, 7.4% of the
// pixels, train well without; CamVid's poles, 0.3%, are never predicted.
const rareShare = 0.05

// minSide is the smallest image side a plan accepts: a U-Net of depth 1 halves the image
// once, and a side under 8 leaves a bottleneck under 4 pixels, no context left to learn.
const minSide = 8

// Budget is what a run may spend: the memory of a training step (0: DefaultMemory) and the
// time (0: no bound, which plans as for 15 minutes).
type Budget struct {
	Memory int64
	Time   time.Duration
}

// Plan is a training setup: the choices segment train makes from the data, each with the
// reason it was made.
type Plan struct {
	Crop         int     `json:"crop"`
	Batch        int     `json:"batch"`
	Depth        int     `json:"depth"`
	Base         int     `json:"base"`
	Augment      string  `json:"augment"`
	ClassCrops   float64 `json:"class_crops"`
	ClassWeights string  `json:"class_weights"` // "none" or "auto"
	Loss         string  `json:"loss"`          // a name of unet.Losses
	Downsample   int     `json:"downsample"`    // the factor images are shrunk by; 1 keeps them
	LR           float64 `json:"lr"`            // the starting learning rate
	// Reasons gives a line for each choice: downsample, depth, base, batch, crop, augment,
	// class crops, class weights, loss, learning rate.
	Reasons []Reason `json:"reasons"`
}

// Reason is why a plan made one of its choices.
type Reason struct {
	Flag  string `json:"flag"` // the flag of segment train that sets it
	Value string `json:"value"`
	Why   string `json:"why"`
}

// Make plans a run on the fingerprinted data within the budget. It fails, naming the data
// set and the problem, when the images are too small for any U-Net.
func Make(f *Fingerprint, b Budget) (*Plan, error) {
	if f.MinSide < minSide {
		return nil, fmt.Errorf("%s: an image has a side of %d pixels; a U-Net needs at least %d (one halving to a %d-pixel bottleneck)",
			f.Dir, f.MinSide, minSide, minSide/2)
	}
	if b.Memory == 0 {
		b.Memory = DefaultMemory
	}
	p := &Plan{}
	why := func(flag string, value any, format string, args ...any) {
		p.Reasons = append(p.Reasons, Reason{Flag: flag, Value: fmt.Sprint(value), Why: fmt.Sprintf(format, args...)})
	}
	multiClass := !f.Classes.Binary()
	rare, rareS := f.Rarest()

	// Resolution: shrink the images twice when a crop would hold under a quarter of the
	// median image and the thin classes (half-width under 4 pixels, which shrinking
	// leaves at 1 or 2) hold under rareShare of the pixels. A crop of the same cost then
	// holds four times the scene. On CamVid at 15 minutes, training on halved images
	// scored 0.4477 mean Dice over the 11 classes (at half size) against 0.4050: the
	// full-size run was still learning when its time ran out. ISBI's membranes (22% of
	// the pixels, half-width 2) and DSB's small images keep their resolution.
	p.Downsample = 1
	medW, medH := f.MedianW, f.MedianH
	fullCrop := roundUp(int(math.Sqrt(float64(stepPixels/firstBatch(multiClass)))), 16)
	thin, thinNames := f.thinShare(4)
	dsWhy := fmt.Sprintf("a %d crop holds %.0f%% of the %dx%d median image", fullCrop, 100*float64(fullCrop*fullCrop)/float64(medW*medH), medW, medH)
	if fullCrop*fullCrop >= medW*medH {
		dsWhy = fmt.Sprintf("a %d crop holds the whole %dx%d median image", fullCrop, medW, medH)
	}
	switch {
	case medW*medH < 4*fullCrop*fullCrop:
		dsWhy += ": full resolution"
	case thin >= rareShare:
		dsWhy = fmt.Sprintf("thin classes (%s: half-width under 4 pixels) hold %.1f%% of the pixels: full resolution", thinNames, 100*thin)
	case min(medW, medH)/2 < minSide:
		dsWhy += ", but halved it would be too small: full resolution"
	default:
		p.Downsample = 2
		medW, medH = (medW+1)/2, (medH+1)/2
		if thin > 0 {
			dsWhy += fmt.Sprintf(": halved, a crop holds four times as much; the thin classes (%s) are %.1f%% of the pixels", thinNames, 100*thin)
		} else {
			dsWhy += ": halved, a crop holds four times as much; no class is thin"
		}
	}
	why("downsample", p.Downsample, "%s", dsWhy)
	short := min(medW, medH)

	// Depth: four halvings (the default) while the median image keeps a bottleneck of at
	// least 4 pixels.
	p.Depth = unet.DefaultConfig().Depth
	for p.Depth > 1 && short>>p.Depth < 4 {
		p.Depth--
	}
	mul := 1 << p.Depth

	// Batch: several classes want more images a step, so that each step sees more of them.
	p.Batch = firstBatch(multiClass)
	batchWhy := "binary masks: two images a step, the rest of the step's pixels spent on a large crop"
	if multiClass {
		batchWhy = fmt.Sprintf("%d classes: four images a step, so that each step sees more of them", len(f.Classes.Values))
	}
	// Crop: the step's pixels shared by the batch, rounded up to a multiple of 2^depth, no
	// larger than the median image (rounded up). Small images keep the batch and make a
	// smaller step, not a larger batch: more steps learn more from the same images. On
	// the sample data (128x128, 30 epochs) batch 2 reached a validation Dice of 0.975,
	// batch 4 0.967 and batch 8, which would fill the step's pixels, 0.950; at equal wall
	// time too, batch 2 led.
	p.Crop = roundUp(int(math.Sqrt(float64(stepPixels/p.Batch))), mul)
	whole := roundUp(max(medW, medH), mul)
	cropWhy := fmt.Sprintf("%d images share a step of 2x256x256 pixels, rounded up to a multiple of %d (%dx%d median image%s)", p.Batch, mul, medW, medH, shrunkText(p.Downsample))
	if whole < p.Crop {
		p.Crop = whole
		cropWhy = fmt.Sprintf("the whole %dx%d median image%s, rounded up to a multiple of %d; small images make a smaller step, not a larger batch", medW, medH, shrunkText(p.Downsample), mul)
	}
	if p.Batch > f.Images {
		p.Batch = f.Images
		batchWhy = fmt.Sprintf("only %d training image(s)", f.Images)
	}

	// Width: 16 base channels train fastest to their best in minutes on a CPU; a budget
	// of an hour or more can afford twice as many.
	p.Base = unet.DefaultConfig().BaseChannels
	baseWhy := "16 channels train to their best within minutes on a CPU"
	if b.Time >= time.Hour {
		p.Base = 32
		baseWhy = fmt.Sprintf("%v of training affords twice the default width", b.Time)
	}
	// Memory: the step's activations, held for the backward pass, within the budget.
	for trainBytes(f, p) > b.Memory && (p.Batch > 1 || p.Crop > mul) {
		if p.Batch > 1 {
			p.Batch /= 2
		} else {
			p.Crop -= mul
		}
		batchWhy += fmt.Sprintf(", cut to fit %d MiB", b.Memory>>20)
	}

	why("depth", p.Depth, "the %d-pixel median short side%s keeps a bottleneck of %d pixels", short, shrunkNote(p.Downsample), short>>p.Depth)
	why("base", p.Base, "%s", baseWhy)
	why("batch", p.Batch, "%s", batchWhy)
	why("crop", p.Crop, "%s", cropWhy)

	// Augmentation: scenes in colour with several classes have an up and a down (sky above
	// road): light augmentation, without turns. Anything else (microscopy, gray) is the
	// same any way round: the default, with turns and elastic deformation.
	p.Augment = "default"
	augWhy := "orientation means nothing in these images: flips, turns, elastic deformation"
	if multiClass && f.Channels == 3 {
		p.Augment = "light"
		augWhy = "colour scenes with several classes have an up and a down: no turns"
	}
	why("augment", p.Augment, "%s", augWhy)

	// Imbalance: a rare class gets class crops, class weights (multi-class) and the Dice
	// per class (multi-class); a balanced set none of them, as the hand-picked runs had.
	p.ClassCrops, p.ClassWeights, p.Loss = 0, "none", unet.DefaultLoss(f.Classes.ModelClasses()).Name
	rareName := "-"
	if rare >= 0 {
		rareName = fmt.Sprintf("%s at %.2f%%", f.Classes.Name(rare), 100*rareS)
	}
	if rare >= 0 && rareS < rareShare {
		p.ClassCrops = 0.33
		why("class-crops", p.ClassCrops, "the rarest class (%s) is under %g%% of the pixels: a third of the crops centred on a class", rareName, 100*rareShare)
	} else {
		why("class-crops", p.ClassCrops, "no class under %g%% of the pixels (rarest: %s): crops anywhere", 100*rareShare, rareName)
	}
	if multiClass && rare >= 0 && rareS < rareShare {
		p.ClassWeights = "auto"
		p.Loss = "ce+dice-per-class"
		why("class-weights", p.ClassWeights, "rare classes: cross-entropy weighted by inverse square-root frequency")
		why("loss", p.Loss, "rare classes: the Dice of each class present counts alike")
	} else {
		why("class-weights", p.ClassWeights, "no rare class among several, or a binary task")
		why("loss", p.Loss, "the registry's default for %s data", unet.TaskOf(f.Classes.ModelClasses()))
	}

	// Learning rate: Adam's usual 1e-3, except for several classes in a run of minutes.
	// There the 15-minute CamVid run was far from done at its end, and three times the
	// rate learned more in the same 1,125 steps (mean Dice 0.4419 -> 0.4592); the binary
	// sets were near their best already and did not gain (ISBI 0.9539 -> 0.9525).
	p.LR = 1e-3
	switch {
	case !multiClass:
		why("lr", p.LR, "Adam's usual rate: a binary task is near its best within minutes")
	case b.Time >= longRun:
		why("lr", p.LR, "Adam's usual rate: %v of training", b.Time)
	default:
		p.LR = shortRunLR
		why("lr", p.LR, "several classes in a run of minutes: three times Adam's usual 1e-3 learns more in its thousand steps")
	}
	return p, nil
}

// shortRunLR is the learning rate of a multi-class run shorter than longRun, measured on
// CamVid at 15 minutes.
const shortRunLR = 3e-3

// longRun is the budget from which a plan keeps Adam's usual learning rate for several
// classes too: nothing here has measured the higher rate in longer runs.
const longRun = time.Hour

// firstBatch is the batch before the memory budget: two images a step for binary masks,
// four for several classes.
func firstBatch(multiClass bool) int {
	if multiClass {
		return 4
	}
	return 2
}

// shrunkText marks a size as that of the shrunk images.
func shrunkText(f int) string {
	if f <= 1 {
		return ""
	}
	return fmt.Sprintf(", shrunk %d times", f)
}

// shrunkNote marks a side as that of the shrunk images, in parentheses.
func shrunkNote(f int) string {
	if f <= 1 {
		return ""
	}
	return fmt.Sprintf(" (shrunk %d times)", f)
}

// thinShare gives the share of the pixels held by the classes whose half-width is under
// limit, and their names. A binary task's background counts too: ISBI's membranes are
// its background.
func (f *Fingerprint) thinShare(limit float64) (share float64, names string) {
	var list []string
	for c, hw := range f.HalfWidth {
		if math.IsNaN(hw) || hw >= limit {
			continue
		}
		share += f.Share[c]
		list = append(list, f.Classes.Name(c))
	}
	return share, strings.Join(list, ", ")
}

// trainBytes estimates a training step's memory: every layer's output of the batch of
// crops is held for the backward pass, with its gradient and a normalised copy: three
// times their sum, beside the weights and the optimizer's two moments.
func trainBytes(f *Fingerprint, p *Plan) int64 {
	cfg := unet.DefaultConfig()
	cfg.InChannels, cfg.Classes, cfg.Depth, cfg.BaseChannels = f.Channels, f.Classes.ModelClasses(), p.Depth, p.Base
	var act, weights int64
	for _, s := range cfg.Arch().Steps() {
		act += s.Bytes(p.Batch, p.Crop, p.Crop)
	}
	for _, w := range cfg.Params() {
		weights += 4 * int64(w.Size())
	}
	return 3*act + 4*weights
}

func roundUp(n, mul int) int { return max((n+mul-1)/mul*mul, mul) }

// Write prints the plan: a line per choice with its reason, then what each flag would
// change.
func (p *Plan) Write(w io.Writer) error {
	fmt.Fprintln(w, "plan (each line: the flag that overrides it, its value, why)")
	for _, r := range p.Reasons {
		if _, err := fmt.Fprintf(w, "  --%-14s %-18s %s\n", r.Flag, r.Value, r.Why); err != nil {
			return err
		}
	}
	return nil
}

package main

// The flags and plumbing that several commands share: each is written once here, so that
// the commands spell and check them alike.

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/segment-dev/segment/augment"
	"github.com/segment-dev/segment/dataset"
	"github.com/segment-dev/segment/internal/atomicfile"
	"github.com/segment-dev/segment/internal/progress"
	"github.com/segment-dev/segment/internal/samplemodel"
	"github.com/segment-dev/segment/metrics"
	"github.com/segment-dev/segment/predict"
	sampledata "github.com/segment-dev/segment/sample_data"
	"github.com/segment-dev/segment/train"
	"github.com/segment-dev/segment/unet"
	"github.com/segment-dev/segment/weights"
)

// trainingFlags are the flags train and ablate share: the data, the model's size and the
// steps. Each command registers the rest itself, where their help differs.
type trainingFlags struct {
	o     *train.Options
	quiet *bool
}

func (f *trainingFlags) register(fs *flag.FlagSet, o *train.Options) {
	def := unet.DefaultConfig()
	f.o = o
	fs.StringVar(&o.Data, "data", "", "data set folder (default: the bundled sample data)")
	fs.IntVar(&o.Model.Depth, "depth", def.Depth, "number of 2x downsamplings")
	fs.IntVar(&o.Model.BaseChannels, "base", def.BaseChannels, "channels of the first level, doubled at each level down")
	fs.IntVar(&o.Batch, "batch", 4, "images per step")
	fs.IntVar(&o.Crop, "crop", 0, "side of the random training crops, a multiple of 2^depth (default: the image size, at most 256)")
	fs.Float64Var(&o.LR, "lr", 1e-3, "learning rate (train: the plan's when not given, 3e-3 for several classes in a run under an hour)")
	fs.StringVar(&o.Augment, "augment", "default", "augmentation preset: default, light or none")
	fs.IntVar(&o.Downsample, "downsample", 1, "train on the images shrunk by this factor, 1 to 8 (area average; masks by majority): each crop holds f*f times the scene at the same cost; the model file records it, and predict and eval shrink images alike and scale the masks back (train: the plan's when not given)")
	fs.IntVar(&o.Threads, "threads", 0, "goroutines loading data (default: all cores)")
	f.quiet = fs.Bool("q", false, "no progress bar")
}

// check refuses arguments (the data folder is a flag) and a model shape that cannot be
// built. The data decides the input channels and classes: they are set so that the shape
// validates.
func (f *trainingFlags) check(fs *flag.FlagSet) error {
	if err := noArgs(fs); err != nil {
		return err
	}
	threadsSet := false
	fs.Visit(func(fl *flag.Flag) { threadsSet = threadsSet || fl.Name == "threads" })
	switch o := f.o; {
	case o.Batch < 1:
		return usagef("--batch %d: want at least 1 image per step", o.Batch)
	case o.Crop < 0:
		return usagef("--crop %d: want 0 (automatic) or a side in pixels", o.Crop)
	case o.Downsample < 1 || o.Downsample > augment.MaxShrink:
		return usagef("--downsample %d: want a factor from 1 to %d", o.Downsample, augment.MaxShrink)
	case o.Threads < 0 || (threadsSet && o.Threads < 1):
		return usagef("--threads %d: want at least 1 (without the flag: all cores)", o.Threads)
	}
	f.o.Model.InChannels, f.o.Model.Classes = 1, 1
	if err := f.o.Model.Validate(); err != nil {
		return usagef("%v", err)
	}
	return checkTrainingNames(f.o, givenFlags(fs))
}

// checkTrainingNames refuses, before any data is read, the choices that a training run
// would otherwise refuse only after the plan: an unknown optimizer, schedule or
// augmentation, class weights that are not "none", "auto" or positive numbers, and a crop
// that is no multiple of 2^depth (of the depth given; without one, the plan's depth is at
// least 1, so the crop must at least be even).
func checkTrainingNames(o *train.Options, set map[string]bool) error {
	if o.Optimizer != "" {
		if _, err := train.NewOptimizer(o.Optimizer, 0); err != nil {
			return usagef("--optimizer: %v", err)
		}
	}
	if o.Schedule != "" {
		if _, err := train.NewSchedule(o.Schedule, 1); err != nil {
			return usagef("--schedule: %v", err)
		}
	}
	if o.Augment != "" {
		if _, err := augment.Preset(o.Augment); err != nil {
			return usagef("--augment: %v", err)
		}
	}
	if err := train.CheckClassWeights(o.ClassWeights); err != nil {
		return usagef("--class-weights: %v", err)
	}
	mul := 2
	if set["depth"] {
		mul = o.Model.Multiple()
	}
	if o.Crop > 0 && o.Crop%mul != 0 {
		return usagef("--crop %d: want a multiple of %d (2^depth)", o.Crop, mul)
	}
	return nil
}

// givenFlags gives the names of the flags given on the command line.
func givenFlags(fs *flag.FlagSet) map[string]bool {
	given := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { given[fl.Name] = true })
	return given
}

// setup points --data at the bundled sample data when it is not given and shows the
// progress bar on errOut unless -q; cleanup removes the sample data it unpacked.
func (f *trainingFlags) setup(errOut io.Writer) (cleanup func(), err error) {
	cleanup = func() {}
	if f.o.Data == "" {
		dir, c, err := sampleData()
		if err != nil {
			return nil, err
		}
		f.o.Data, cleanup = dir, c
	}
	if !*f.quiet {
		f.o.Progress = errOut
	}
	return cleanup, nil
}

// noArgs refuses arguments, for the commands that take their folders as flags.
func noArgs(fs *flag.FlagSet) error {
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q (the data folder goes in --data)", fs.Args())
	}
	return nil
}

// inferenceFlags are the flags predict and eval share: how the network is run.
type inferenceFlags struct {
	o   predict.Options
	mem int
}

func (f *inferenceFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&f.o.TTA, "tta", false, "average the predictions of the image flipped left-right, top-bottom and both (4 times the work; left-right alone, twice the work, for a model trained without top-bottom flips)")
	fs.IntVar(&f.o.Tile, "tile", 0, "side of the square tiles, rounded up to a multiple of 2^depth (default: the whole image when it fits --mem, else 256)")
	fs.Float64Var(&f.o.Overlap, "overlap", predict.DefaultOverlap, "share of a tile that its neighbours overlap, 0 to 0.9")
	fs.IntVar(&f.o.Batch, "batch", 1, "tiles per pass of the network")
	fs.IntVar(&f.mem, "mem", predict.DefaultMemory>>20, "memory the network may take, in MiB: decides whole image or tiles")
	fs.Float64Var(&f.o.Threshold, "threshold", predict.DefaultThreshold, "foreground probability above which a pixel of a binary model is foreground")
}

// options checks the flags and gives the predictor's options.
func (f *inferenceFlags) options() (predict.Options, error) {
	o := f.o
	switch {
	case o.Tile < 0:
		return o, usagef("--tile %d: want 0 (automatic) or a side in pixels", o.Tile)
	case o.Overlap < 0 || o.Overlap > 0.9:
		return o, usagef("--overlap %g: want 0 to 0.9", o.Overlap)
	case o.Batch < 1:
		return o, usagef("--batch %d: want at least 1", o.Batch)
	case f.mem < 1:
		return o, usagef("--mem %d: want a positive number of MiB", f.mem)
	case !(o.Threshold > 0 && o.Threshold < 1):
		return o, usagef("--threshold %g: want a probability between 0 and 1", o.Threshold)
	}
	if o.Overlap == 0 {
		o.Overlap = -1 // Options reads 0 as the default; -1 is no overlap
	}
	o.Memory = int64(f.mem) << 20
	return o, nil
}

// labelFlags are --mask-values, --ignore and --class-names, which every command that reads
// masks has: which mask value is which class, the value whose pixels count for nothing, and
// what the classes are called. Their defaults, and so their help, depend on the command.
type labelFlags struct{ values, ignore, names string }

func (f *labelFlags) register(fs *flag.FlagSet, valuesUsage, ignoreUsage, namesUsage string) {
	fs.StringVar(&f.values, "mask-values", "", valuesUsage)
	fs.StringVar(&f.ignore, "ignore", "", ignoreUsage)
	fs.StringVar(&f.names, "class-names", "", namesUsage)
}

// parse checks the flags and gives the mask values, the value left out and the class names
// as the data set's options, each nil where its flag is not given.
func (f *labelFlags) parse() (dataset.Options, error) {
	var o dataset.Options
	var err error
	if o.MaskValues, err = parseInts(f.values); err != nil {
		return o, usagef("--mask-values: %v", err)
	}
	if o.Ignore, err = parseIgnore(f.ignore); err != nil {
		return o, err
	}
	if f.names != "" {
		o.ClassNames = strings.Split(f.names, ",")
		for i, n := range o.ClassNames {
			o.ClassNames[i] = strings.TrimSpace(n)
		}
		if len(o.MaskValues) > 0 {
			if err := dataset.CheckNames(o.ClassNames, len(o.MaskValues)); err != nil {
				return o, usagef("--class-names: %v", err)
			}
		}
	}
	return o, nil
}

// Help of labelFlags for the commands that read a data set (train, doctor, plan).
const (
	dataValuesUsage = "comma-separated mask value of each class, in order"
	dataIgnoreUsage = "mask value whose pixels count for nothing (void)"
	dataNamesUsage  = "comma-separated name of each class, in order (kept in the model file; default: background and foreground, or class 0, class 1, ...)"
)

// dataSetFlags registers the flags of doctor and plan, which read a data set as train does
// (--classes, --channels and the labelFlags), and gives what reads the command line: the
// data set's folder, its one argument, and the options.
func dataSetFlags(fs *flag.FlagSet) func(*flag.FlagSet) (string, dataset.Options, error) {
	var o dataset.Options
	fs.IntVar(&o.Classes, "classes", 0, "model classes: 1 for binary (default: from the masks)")
	fs.IntVar(&o.Channels, "channels", 0, "convert images to 1 (gray) or 3 (RGB) channels (default: as they are)")
	var lf labelFlags
	lf.register(fs, dataValuesUsage, dataIgnoreUsage, dataNamesUsage)
	return func(fs *flag.FlagSet) (string, dataset.Options, error) {
		if fs.NArg() != 1 {
			return "", o, usagef("want one data set folder, got %d arguments", fs.NArg())
		}
		lo, err := lf.parse()
		o.MaskValues, o.Ignore, o.ClassNames = lo.MaskValues, lo.Ignore, lo.ClassNames
		return fs.Arg(0), o, err
	}
}

// scoringFlags are the flags eval and report share: the labelFlags, defaulting to the
// model's, and the score of a class absent from both masks.
type scoringFlags struct {
	labels labelFlags
	empty  string
}

func (f *scoringFlags) register(fs *flag.FlagSet) {
	f.labels.register(fs, "comma-separated mask value of each class, in order (default: the model's, or the masks')",
		"mask value whose pixels are not scored (default: the model's ignore value)",
		"comma-separated name of each class, in order (default: the model's)")
	fs.StringVar(&f.empty, "empty", "nan", "score of a class absent from both prediction and ground truth: nan (left out) or one")
}

// parse checks the flags and gives the mask values, the value left out and the class names
// (each nil where not given: the model's, or the masks') and the empty-class policy.
func (f *scoringFlags) parse() (labels dataset.Options, policy metrics.EmptyPolicy, err error) {
	if policy, err = metrics.ParseEmptyPolicy(f.empty); err != nil {
		return labels, policy, usagef("--empty: %v", err)
	}
	labels, err = f.labels.parse()
	return labels, policy, err
}

// makeOutDir makes the output folder dir of a command (--out) if it is missing and checks
// that files can be written in it, before any work: the error says which part of the path
// is in the way ("a.png is a file, not a folder") rather than what mkdir said.
func makeOutDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		for p := filepath.Clean(dir); ; p = filepath.Dir(p) {
			if fi, statErr := os.Stat(p); statErr == nil {
				if !fi.IsDir() {
					return fmt.Errorf("--out %s: %s is a file, not a folder", dir, p)
				}
				break
			}
			if p == filepath.Dir(p) {
				break
			}
		}
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("--out %s: cannot make the folder: %w", dir, err)
	}
	if err := atomicfile.CheckDir(dir); err != nil {
		return fmt.Errorf("--out %s: %w", dir, err)
	}
	return nil
}

// checkTile refuses a --tile smaller than the model's 2^depth, which is no tile the
// network can run (it would be rounded up to a tile all of border), and warns of one much
// smaller than the default, whose masks differ from whole-image ones at the many borders.
// Of an ensemble, the deepest model decides.
func checkTile(tile int, models []*unet.Model, cmd string, warn io.Writer) error {
	if tile == 0 {
		return nil
	}
	mul := 1
	for _, m := range models {
		mul = max(mul, m.Config.Multiple())
	}
	if tile < mul {
		return usagef("--tile %d: want at least %d (2^depth of the model), or 0 for automatic", tile, mul)
	}
	if tile < predict.DefaultTile/4 {
		fmt.Fprintf(warn, "segment %s: warning: --tile %d is much smaller than the default %d: the masks differ from whole-image ones near the tiles' many borders, and prediction is slower\n", cmd, tile, predict.DefaultTile)
	}
	return nil
}

// parseIgnore reads the --ignore flag: no value, or one mask value.
func parseIgnore(s string) (*int, error) {
	if s == "" {
		return nil, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return nil, usagef("--ignore: %v", err)
	}
	return &v, nil
}

// parseInts reads a comma-separated list of integers such as --mask-values.
func parseInts(s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// sampleData gives the bundled sample data set: ./sample_data when the command runs in a
// checkout of the project, else the copy built into the binary, unpacked into a temporary
// folder that cleanup removes.
func sampleData() (dir string, cleanup func(), err error) {
	if fi, err := os.Stat("sample_data"); err == nil && fi.IsDir() {
		return "sample_data", func() {}, nil
	}
	tmp, err := os.MkdirTemp("", "segment-sample-data-")
	if err != nil {
		return "", nil, err
	}
	cleanup = func() { os.RemoveAll(tmp) }
	if err := os.CopyFS(tmp, sampledata.FS()); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("unpacking the built-in sample data: %w", err)
	}
	return tmp, cleanup, nil
}

// loadModel reads the model at path, or the embedded sample model when path is "".
func loadModel(path string) (*unet.Model, weights.Meta, string, error) {
	if path == "" {
		m, meta, err := samplemodel.Load()
		return m, meta, samplemodel.Name, err
	}
	m, meta, err := weights.Load(path)
	return m, meta, path, err
}

// newImageBar is the progress bar over images, or nil when quiet.
func newImageBar(w io.Writer, n int, quiet bool) *progressbar.ProgressBar {
	if quiet || n == 0 {
		return nil
	}
	w = progress.Writer(w) // plain lines every few seconds where stderr is not a terminal
	return progressbar.NewOptions(n,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetItsString("images"),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionShowElapsedTimeOnFinish(),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
	)
}

// reportLine prints one line to w without tearing the progress bar.
func reportLine(w io.Writer, bar *progressbar.ProgressBar, format string, a ...any) {
	if bar != nil {
		bar.Clear()
	}
	fmt.Fprintf(w, format+"\n", a...)
}

// tally counts the images of a run, shows the progress bar over them and reports each
// failure in one line.
type tally struct {
	cmd           string
	errOut        io.Writer
	quiet         bool
	bar           *progressbar.ProgressBar
	total, failed int
	errs          []error // every failure reported, in order: what eval.json lists as skipped
}

// start shows the bar for n images.
func (t *tally) start(n int) {
	t.total = n
	t.bar = newImageBar(t.errOut, n, t.quiet)
}

// problem reports a failure that is not one of the images counted.
func (t *tally) problem(err error) {
	t.errs = append(t.errs, err)
	reportLine(t.errOut, t.bar, "segment %s: %v", t.cmd, err)
}

// done records the end of one image.
func (t *tally) done(_ int, err error) {
	if err != nil {
		t.failed++
		t.problem(err)
	}
	if t.bar != nil {
		t.bar.Add(1)
	}
}

// splitFlags are --split and --split-distance, which predict and eval share: predict splits
// the objects it writes, eval the predicted objects it scores, by the same watershed.
type splitFlags struct {
	on       bool
	distance float64
}

func (f *splitFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&f.on, "split", false, "with --instances, split touching objects (watershed on the distance transform)")
	fs.Float64Var(&f.distance, "split-distance", 5, "least distance in `pixels` between the centres of two objects --split separates")
}

// check gives the usage error of a split without --instances or of a negative distance.
func (f *splitFlags) check(instances bool) error {
	if f.on && !instances {
		return usagef("--split splits the objects of --instances: give both")
	}
	if f.distance < 0 {
		return usagef("--split-distance %g: want 0 or more pixels", f.distance)
	}
	return nil
}

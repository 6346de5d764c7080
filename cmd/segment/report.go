package main

// The HTML report of an evaluation (package report), made by eval --report and by segment
// report; serve makes one of its --data too.

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/segment-dev/segment/dataset"
	"github.com/segment-dev/segment/internal/regular"
	"github.com/segment-dev/segment/metrics"
	"github.com/segment-dev/segment/predict"
	"github.com/segment-dev/segment/report"
	"github.com/segment-dev/segment/unet"
	"github.com/segment-dev/segment/weights"
)

// reportCommand is the table entry of segment report.
func reportCommand() *command {
	return &command{
		name:  "report",
		args:  "",
		short: "write the HTML report of existing masks against ground truth",
		long: `
Report writes the HTML report of masks that exist already, as eval --report does
for them, without eval.csv and eval.json:

  segment report --pred P --gt G --out DIR [--images IMAGES] [--model M]

P and G pair as in eval (two files, or two folders whose files pair by image
name; a data set folder stands for its masks/). The pictures shown beside the
masks come from --images (a folder whose files pair by name), else from the
images/ beside G's masks/ when G is a data set folder; an image without a
picture shows its ground truth instead. --model (optional) gives the mask values
and the training curves and configuration; see eval -h for what the page shows.`,
		flags: reportFlags,
	}
}

func reportFlags(fs *flag.FlagSet) func(*flag.FlagSet, io.Writer, io.Writer) error {
	pred := fs.String("pred", "", "predicted masks: a file or a folder")
	gt := fs.String("gt", "", "ground-truth masks: a file or a folder")
	images := fs.String("images", "", "folder of the images the masks belong to, shown beside them (default: G's images/)")
	model := fs.String("model", "", "model file whose mask values, training curves and configuration the report uses")
	var sc scoringFlags
	sc.register(fs)
	out := fs.String("out", "", "folder the report is written to (required; replaced if it holds an older report)")
	quiet := fs.Bool("q", false, "no progress bar")
	return func(fs *flag.FlagSet, stdout, errOut io.Writer) error {
		if err := noArgs(fs); err != nil {
			return err
		}
		if *pred == "" || *gt == "" || *out == "" {
			return usagef("want --pred, --gt and --out")
		}
		labels, policy, err := sc.parse()
		if err != nil {
			return err
		}
		ctx, stop := interruptible()
		defer stop()
		t := &tally{cmd: "report", errOut: errOut, quiet: *quiet}
		rep := &reportRun{dir: *out, images: *images, model: *model}
		acc, _, err := scoreMasks(ctx, *pred, *gt, *model, labels, policy, false, t, rep, nil)
		if errors.Is(err, context.Canceled) {
			return errInterrupted
		}
		if err != nil {
			return err
		}
		if err := rep.finish(acc.Summary()); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "report of %d images: %s\n", t.total-t.failed, filepath.Join(*out, "index.html"))
		if t.failed > 0 {
			return fmt.Errorf("%d of %d pairs could not be scored (listed above); the report shows the other %d", t.failed, t.total, t.total-t.failed)
		}
		return nil
	}
}

// reportRun is a report being written while an evaluation runs: start it once the classes
// are known, hand it every scored image (add), then finish it with the summary. A nil
// *reportRun does nothing, for evaluations without a report.
type reportRun struct {
	dir    string // where the report goes
	images string // folder of the pictures of existing masks ("" for none)
	model  string // the model file, for its training record ("" for none)

	// seen, when not nil, is shown every image before it is added (serve keeps scores).
	seen func(predict.Scored)
	// part, when not "", makes the report the part of that name that a shard writes
	// (report.CreatePart), for eval --merge.
	part string
	// order is each image's place in the evaluation's list of pairs, which numbers it
	// (report.Image.ID) alike in a run and in the parts of its shards.
	order map[string]int

	w        *report.Writer
	pictures map[string]string // pair name to picture, for existing masks
	training *report.Training
}

// start creates the report for the classes c. meta and cfg are the model's, when a model
// is used (cfg nil otherwise); gt is the ground truth of existing masks, whose data set's
// images/ are the pictures when no --images is given. names are every pair of the
// evaluation, in order, before any split into shards.
func (r *reportRun) start(c dataset.Classes, meta weights.Meta, cfg *unet.Config, gt string, names []string) error {
	if r == nil {
		return nil
	}
	r.order = make(map[string]int, len(names))
	for k, n := range names {
		r.order[n] = k
	}
	if cfg != nil {
		r.training = modelTraining(r.model, meta, *cfg)
	}
	imgs := r.images
	if imgs == "" && gt != "" && isFolder(filepath.Join(gt, "images")) {
		imgs = filepath.Join(gt, "images")
	}
	if r.images != "" && !isFolder(r.images) {
		// predict.Inputs would take a path that is not a folder for an image, read later.
		if _, err := os.Stat(r.images); err != nil {
			return fmt.Errorf("--images: %w", err)
		}
		return fmt.Errorf("--images %s: not a folder", r.images)
	}
	if imgs != "" {
		files, problems := predict.Inputs([]string{imgs})
		if len(problems) > 0 && r.images != "" {
			return fmt.Errorf("--images: %v", problems[0])
		}
		r.pictures = make(map[string]string, len(files))
		for _, f := range files {
			stem := strings.TrimSuffix(filepath.Base(f), filepath.Ext(f))
			r.pictures[stem] = f
		}
	}
	title := "Evaluation"
	if r.model != "" {
		title = "Evaluation of " + filepath.Base(r.model)
	}
	classes := report.ClassesOf(predict.MetricClasses(c), c.Colour)
	var err error
	if r.part != "" {
		r.w, err = report.CreatePart(r.dir, r.part, title, classes)
	} else {
		r.w, err = report.Create(r.dir, title, classes)
	}
	return err
}

// add writes one scored image into the report. Its picture is the image file it was
// predicted from, else the picture of the same name, else its ground truth.
func (r *reportRun) add(s predict.Scored) error {
	if r == nil {
		return nil
	}
	if r.seen != nil {
		r.seen(s)
	}
	im := report.Image{Name: s.Name, Path: s.Path, Truth: s.Truth, Pred: s.Pred, Width: s.Width, Height: s.Height, Result: s.Result}
	if k, ok := r.order[s.Name]; ok {
		im.ID = k + 1
	}
	if im.Path == "" {
		im.Path = r.pictures[s.Name]
	}
	if im.Path == "" {
		im.Image = truthPicture(s.Truth, s.Width, s.Height, len(s.Result.Scores))
	}
	return r.w.Add(im)
}

// each is add as the callback of the evaluations, nil when there is no report.
func (r *reportRun) each() func(predict.Scored) error {
	if r == nil {
		return nil
	}
	return r.add
}

// finish writes the page with the summary s.
func (r *reportRun) finish(s metrics.Summary) error {
	if r == nil || r.w == nil {
		return nil
	}
	return r.w.Finish(s, r.training)
}

// finishPart writes the part of a shard's report and returns its token, which the shard
// file records; "" without a report.
func (r *reportRun) finishPart() (string, error) {
	if r == nil || r.w == nil {
		return "", nil
	}
	return r.w.FinishPart(r.training)
}

// abort removes a report that will not be finished.
func (r *reportRun) abort() {
	if r != nil && r.w != nil {
		r.w.Abort()
	}
}

// truthPicture stands in for the picture of an image that has none: its ground truth in
// grays, the background black and the last class white (ignored pixels mid gray).
func truthPicture(truth []int32, w, h, classes int) image.Image {
	g := image.NewGray(image.Rect(0, 0, w, h))
	for i, c := range truth {
		switch {
		case c < 0 || int(c) >= classes:
			g.Pix[i] = 128
		default:
			g.Pix[i] = uint8(int(c) * 255 / max(classes-1, 1))
		}
	}
	return g
}

func isFolder(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// modelTraining gives what the report shows of a model's training: its configuration, the
// training record of its file (weights.Meta.Train) and, when the log train writes beside
// the model (NAME.log.csv for NAME.safetensors) is there, the per-epoch curves.
func modelTraining(path string, meta weights.Meta, cfg unet.Config) *report.Training {
	t := &report.Training{Summary: meta.Train}
	if b, err := json.Marshal(cfg); err == nil {
		t.Config = b
	}
	if path != "" {
		log := strings.TrimSuffix(path, filepath.Ext(path)) + ".log.csv"
		t.Epoch, t.Loss, t.ValDice, t.ValIoU = readTrainLog(log)
	}
	return t
}

// readTrainLog reads the epoch, loss, val_dice and val_iou columns of a training log;
// nothing when the file is missing or not such a log (the report then has no curves).
func readTrainLog(path string) (epoch, loss, dice, iou []float64) {
	f, err := regular.Open(path)
	if err != nil {
		return nil, nil, nil, nil
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) < 2 {
		return nil, nil, nil, nil
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, name := range []string{"epoch", "loss", "val_dice", "val_iou"} {
		if _, ok := col[name]; !ok {
			return nil, nil, nil, nil
		}
	}
	num := func(row []string, name string) float64 {
		i := col[name]
		if i >= len(row) {
			return math.NaN()
		}
		v, err := strconv.ParseFloat(row[i], 64)
		if err != nil {
			return math.NaN()
		}
		return v
	}
	for _, row := range rows[1:] {
		e := num(row, "epoch")
		if math.IsNaN(e) {
			continue
		}
		epoch = append(epoch, e)
		loss = append(loss, num(row, "loss"))
		dice = append(dice, num(row, "val_dice"))
		iou = append(iou, num(row, "val_iou"))
	}
	return epoch, loss, dice, iou
}

// reportFlag is eval's flags for its report.
type reportFlag struct {
	dir, images, model *string
	part               string // a shard's part of the report (see reportRun.part)
	r                  *reportRun
}

// registerReport adds --report and --images to eval's flags; model is eval's --model.
func registerReport(fs *flag.FlagSet, model *string) *reportFlag {
	return &reportFlag{
		dir:    fs.String("report", "", "also write the HTML report of the evaluation to this folder (see above)"),
		images: fs.String("images", "", "with --pred: folder of the images the masks belong to, shown in the report (default: G's images/)"),
		model:  model,
	}
}

// run gives the report being written, nil without --report.
func (f *reportFlag) run() *reportRun {
	if *f.dir == "" {
		return nil
	}
	if f.r == nil {
		f.r = &reportRun{dir: *f.dir, images: *f.images, model: *f.model, part: f.part}
	}
	return f.r
}

// finish writes the page of the report, if there is one.
func (f *reportFlag) finish(s metrics.Summary) error { return f.run().finish(s) }

// printWhere says where the report went.
func (f *reportFlag) printWhere(w io.Writer) {
	if r := f.run(); r != nil {
		fmt.Fprintf(w, "report: %s\n", filepath.Join(r.dir, "index.html"))
	}
}

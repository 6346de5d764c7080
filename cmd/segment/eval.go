package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/segment-dev/segment/dataset"
	"github.com/segment-dev/segment/internal/atomicfile"
	"github.com/segment-dev/segment/metrics"
	"github.com/segment-dev/segment/predict"
	"github.com/segment-dev/segment/unet"
	"github.com/segment-dev/segment/weights"
)

// evalCommand is the table entry of segment eval.
func evalCommand() *command {
	return &command{
		name:  "eval",
		args:  "",
		short: "score a model, or existing masks, against ground truth",
		long: `
Eval scores segmentations against ground-truth masks, in two ways:

  segment eval --model M --data DIR    predict every image of DIR and score it
  segment eval --pred P --gt G         score masks that already exist

DIR is a folder with images/ and masks/, or a data set root whose test/ split is
scored. Without --model the embedded sample model is used. P and G are two mask
files, or two folders whose files pair by image name (a.png, a_mask.png and
a_pred.png all belong to image a; a data set folder stands for its masks/).
Multi-page TIFF stacks, as images and masks of a data set or as --pred and
--gt masks, pair page by page: page 3 of vol.tif is scored as vol#p3.
Masks hold class values as the training masks do; the values come from
--mask-values, else the model, else the masks themselves.

Every class is scored, the background included: for some data (ISBI membranes)
the interesting class is the background value. Eval prints a table of the mean
and standard deviation over images and the data-set level value (from the
pixel counts of all images together) of Dice, IoU, precision, recall and HD95
(pixels), and writes eval.csv (one row per image and class) and eval.json (the
summary) into --out (default: the current folder), always, and says where.
--json prints eval.json's summary on stdout instead of the table, and nothing
else there, for a pipe: where the files went is then said on stderr. A class
absent from both the prediction and the ground truth of an image scores NaN,
left out of the means (--empty nan, as nnU-Net), or 1 (--empty one).

--report DIR also writes an HTML page of the evaluation into DIR, with its
pictures beside it, that opens offline in any browser: the summary table; the
training curves (loss, validation Dice and IoU per epoch, from NAME.log.csv
beside the model file NAME.safetensors when it is there) and the model's
configuration and training record when --model carries them; and one row per
image, worst first, with its scores and thumbnails of the image, the ground
truth, the prediction and an error map (false positives vermillion, false
negatives sky blue), sortable by any column and filtered by class. With --pred,
the pictures come from --images, else from G's images/ when G is a data set.
eval.csv and eval.json are written the same with or without it.

--instances also scores objects: the connected components (8-connected) of each
foreground class of the prediction against those of the ground truth, or with
--pred/--gt --gt-instances against a ground truth of label images (8 or 16-bit
gray, each non-zero value one object; pixels are then scored as a binary task).
Per image it gives precision, recall and F1 at IoU 0.5, the DSB 2018 score (the
mean over IoU thresholds 0.5 to 0.95 of TP/(TP+FP+FN), one-to-one matching),
the object counts, merges and splits, as columns objects_* of eval.csv; eval.json
gets their means over the images in "instances". --split splits the predicted
objects first, as predict --instances --split does (seeds at least
--split-distance pixels apart), so that the objects scored are those predict
writes; the ground truth is left as it is.

A pair that cannot be read (a missing, unreadable or special file, a mask of
another size or with a value the classes lack, a stack page without its
partner) is reported and skipped, and the others are scored: eval.csv and
eval.json hold their scores, eval.json lists the skipped pairs under "skipped"
with the file and the problem, and the exit status is 1.

On a cluster, --shard i/n (or a Slurm job array's or Kubernetes Indexed Job's
index, as for predict) scores part i of n (from 0) of the pairs, split by their
pixels, and writes eval.shard-i-of-n.json into --out: the shard's counts and
per-image scores (and object scores with --instances), the model's SHA-256 and
the whole data list; with --report DIR, it writes its images' pictures and rows
into DIR/shard-i-of-n. Once every task is done, eval --merge DIR (the folder of
the shard files, or the files) writes eval.json and eval.csv, the same bytes as
one unsharded run, and with --report DIR the page of every shard's images, the
same report (the shards' folders stay in it); --instances there insists that
the shards scored objects. A shard missing or given twice, one of another
model, data set or flags, or one without what the merge is asked for, is an
error naming its file.`,
		flags: evalFlags,
	}
}

// evalReport is eval.json: the metrics summary with what was scored.
type evalReport struct {
	metrics.Summary
	Model string `json:"model,omitempty"`
	Data  string `json:"data,omitempty"`
	Pred  string `json:"pred,omitempty"`
	GT    string `json:"gt,omitempty"`
	// IgnoreValue is the mask value left out of the scores, if any; Summary.Ignore is the
	// class index its pixels were given.
	IgnoreValue *int    `json:"ignore_value,omitempty"`
	TTA         bool    `json:"tta,omitempty"`
	Threshold   float64 `json:"threshold,omitempty"`
	Failed      int     `json:"failed"`
	// Skipped lists the pairs (or files, or pages) that could not be scored, as the failed
	// ones were reported: the scores above cover the others.
	Skipped []skippedPair `json:"skipped"`
	// SplitDistance is --split-distance when the predicted objects were split (--split).
	SplitDistance *float64 `json:"split_distance,omitempty"`
	// Instances holds the object scores of eval --instances.
	Instances *instancesSummary `json:"instances,omitempty"`
}

func evalFlags(fs *flag.FlagSet) func(*flag.FlagSet, io.Writer, io.Writer) error {
	var inf inferenceFlags
	model := fs.String("model", "", modelFlagUsage)
	data := fs.String("data", "", "data set folder to predict and score: images/ and masks/, or a root with test/")
	pred := fs.String("pred", "", "predicted masks to score: a file or a folder (with --gt)")
	gt := fs.String("gt", "", "ground-truth masks for --pred: a file or a folder")
	var sc scoringFlags
	sc.register(fs)
	out := fs.String("out", ".", "folder for eval.csv and eval.json")
	asJSON := fs.Bool("json", false, "print the summary as JSON instead of the table (stdout holds the JSON alone; where eval.csv and eval.json went goes to stderr)")
	rep := registerReport(fs, model)
	instances := fs.Bool("instances", false, "also score objects: precision, recall and F1 at IoU 0.5, the DSB 2018 score, merges and splits")
	var split splitFlags
	split.register(fs)
	gtInstances := fs.Bool("gt-instances", false, "with --pred/--gt --instances, read the ground truth as label images of separate objects (8 or 16-bit)")
	var sf shardFlags
	sf.register(fs)
	merge := fs.String("merge", "", "merge the shard files of eval --shard in this `folder` (or these files, comma-separated or as arguments) into eval.json and eval.csv (and with --report the report of the shards' parts)")
	inf.register(fs)
	quiet := fs.Bool("q", false, "no progress bar")
	return func(fs *flag.FlagSet, stdout, errOut io.Writer) error {
		if *merge != "" {
			if *model != "" || *data != "" || *pred != "" || *gt != "" || sf.shard != "" || *gtInstances || split.on || *rep.images != "" {
				return usagef("--merge takes the shard files alone (with --report DIR for the report, --instances to insist on object scores): the model, data and flags are in them")
			}
			return mergeEval(append(strings.Split(*merge, ","), fs.Args()...), *out, *rep.dir, *instances, *asJSON, stdout, errOut)
		}
		if err := noArgs(fs); err != nil {
			return err
		}
		sh, err := sf.resolve()
		if err != nil {
			return err
		}
		es := &evalShard{s: sh, errOut: errOut}
		if sh.On() {
			rep.part = shardPartName(sh)
		}
		masksMode := *pred != "" || *gt != ""
		switch {
		case masksMode && (*pred == "" || *gt == ""):
			return usagef("--pred and --gt go together")
		case masksMode && *data != "":
			return usagef("--data predicts; --pred and --gt score existing masks: give one or the other")
		case !masksMode && *data == "":
			return usagef("want --data DIR (with --model), or --pred and --gt")
		}
		labels, policy, err := sc.parse()
		if err != nil {
			return err
		}
		o, err := inf.options()
		if err != nil {
			return err
		}
		if err := makeOutDir(*out); err != nil {
			return err
		}
		if *gtInstances && (!*instances || !masksMode) {
			return usagef("--gt-instances reads --gt as label images for --instances: give --pred, --gt and --instances")
		}
		if err := split.check(*instances); err != nil {
			return err
		}
		var objs *predict.ObjectScores
		if *instances {
			objs = predict.NewObjectScores()
			objs.Split, objs.SplitDistance = split.on, split.distance
		}
		ctx, stop := interruptible()
		defer stop()

		tally := &tally{cmd: "eval", errOut: errOut, quiet: *quiet}
		es.t = tally
		var (
			acc    *metrics.Accumulator
			report evalReport
		)
		if split.on {
			report.SplitDistance = &split.distance
		}
		var classes dataset.Classes
		if masksMode {
			report.Pred, report.GT = *pred, *gt
			acc, classes, err = scoreMasks(ctx, *pred, *gt, *model, labels, policy, *gtInstances, tally, rep.run(), es)
			if err == nil && objs != nil {
				err = scoreMaskObjects(ctx, *pred, *gt, classes, acc, *gtInstances, objs, tally)
			}
		} else {
			report.Data, report.TTA, report.Threshold = *data, o.TTA, o.Threshold
			report.Model, acc, classes, err = scoreModel(ctx, *model, *data, labels, policy, o, objs, tally, rep.run(), es)
		}
		report.IgnoreValue = classes.Ignore
		if err != nil {
			rep.run().abort()
		}
		if errors.Is(err, context.Canceled) {
			return errInterrupted
		}
		if err != nil {
			return err
		}
		report.Skipped = skippedPairs(tally.errs)
		if sh.On() {
			// The report's part first: the shard file that names it is then never without it.
			token, err := rep.run().finishPart()
			if err != nil {
				return err
			}
			path, err := writeShard(*out, es, report, acc, objs, *gtInstances, token, tally.failed, *model)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "shard %s: %d images scored into %s; segment eval --merge %s writes eval.json and eval.csv once every shard is done\n", sh, len(acc.Images()), path, *out)
			if tally.failed > 0 {
				return fmt.Errorf("%d pairs could not be scored (listed above)", tally.failed)
			}
			return nil
		}
		report.Failed = tally.failed
		if err := writeEval(stdout, errOut, *out, report, acc, objs, *gtInstances, *asJSON, rep); err != nil {
			return err
		}
		if tally.failed > 0 {
			return fmt.Errorf("%d of %d pairs could not be scored (listed above); the scores cover the other %d", tally.failed, tally.total, tally.total-tally.failed)
		}
		return nil
	}
}

// reportEnd finishes eval's HTML report once the summary is known: that of one run
// (*reportFlag), or of the parts the shards wrote (mergedReport).
type reportEnd interface {
	finish(metrics.Summary) error
	printWhere(io.Writer)
}

// writeEval reduces acc to the summary and writes eval.csv and eval.json into out (and
// finishes the report when there is one), then prints the table or, with asJSON, eval.json
// alone on stdout and where the files went on errOut.
// An unsharded run and the merge of a sharded one both end here, so that they give the
// same bytes.
func writeEval(stdout, errOut io.Writer, out string, report evalReport, acc *metrics.Accumulator, objs *predict.ObjectScores, gtInstances, asJSON bool, rep reportEnd) error {
	report.Summary = acc.Summary()
	if objs != nil {
		report.Instances = summarizeObjects(objs, acc, gtInstances)
	}
	csvPath, jsonPath := filepath.Join(out, "eval.csv"), filepath.Join(out, "eval.json")
	if err := atomicfile.Write(csvPath, evalCSV(acc, objs)); err != nil {
		return err
	}
	if err := atomicfile.Write(jsonPath, func(w io.Writer) error { return writeJSON(w, report) }); err != nil {
		return err
	}
	if rep != nil {
		if err := rep.finish(report.Summary); err != nil {
			return err
		}
	}
	if asJSON {
		if err := writeJSON(stdout, report); err != nil {
			return err
		}
		// stdout holds the JSON alone, for a pipe; where the files went goes beside it.
		printEvalFiles(errOut, "segment eval: ", csvPath, jsonPath)
		if rep != nil {
			rep.printWhere(errOut)
		}
		return nil
	}
	printEvalTable(stdout, report.Summary)
	printObjects(stdout, report.Instances)
	printEvalFiles(stdout, "", csvPath, jsonPath)
	if rep != nil {
		rep.printWhere(stdout)
	}
	return nil
}

// printEvalFiles says where eval wrote eval.csv and eval.json.
func printEvalFiles(w io.Writer, prefix, csvPath, jsonPath string) {
	fmt.Fprintf(w, "%sper-image scores: %s; summary: %s\n", prefix, csvPath, jsonPath)
}

// mergeEval is eval --merge: the shard files at args (a folder, or files) into eval.json
// and eval.csv in out, as one unsharded run writes them, with the object scores when the
// shards have them (wantObjects insists that they do), and with reportDir the report, from
// the parts the shards wrote into it.
func mergeEval(args []string, out, reportDir string, wantObjects, asJSON bool, stdout, errOut io.Writer) error {
	files, err := mergeInputs(args)
	if err != nil {
		return err
	}
	m, err := mergeShards(files)
	if err != nil {
		return err
	}
	if wantObjects && m.objs == nil {
		return fmt.Errorf("%s: scored without --instances: it has no object scores to merge (run the shards with --instances)", m.paths[0])
	}
	var rep reportEnd
	if reportDir != "" {
		mr, err := m.reportParts(reportDir)
		if err != nil {
			return err
		}
		rep = mr
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	if err := writeEval(stdout, errOut, out, m.report, m.acc, m.objs, m.gtLabels, asJSON, rep); err != nil {
		return err
	}
	if m.report.Failed > 0 {
		return fmt.Errorf("%d pairs could not be scored (listed in the shards' logs); the scores cover the other %d", m.report.Failed, len(m.acc.Images()))
	}
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// evalFolder gives the folder of pairs to score: dir itself when it holds images/ and
// masks/, else its test/ split.
func evalFolder(dir string) (string, error) {
	isDir := func(p string) bool { st, err := os.Stat(p); return err == nil && st.IsDir() }
	switch {
	case !isDir(dir):
		if _, err := os.Stat(dir); err != nil {
			return "", err
		}
		return "", fmt.Errorf("%s: not a folder", dir)
	case isDir(filepath.Join(dir, "images")) || isDir(filepath.Join(dir, "masks")):
		return dir, nil
	case isDir(filepath.Join(dir, "test")):
		return filepath.Join(dir, "test"), nil
	}
	return "", fmt.Errorf("%s: no images/ and masks/ folders, and no test/ split to score (give the split's folder, e.g. %s)", dir, filepath.Join(dir, "val"))
}

// namesFor gives the class names to score with: those given on the command line, else the
// model's (mc) when they fit the mask values in use, one per value.
func namesFor(labels dataset.Options, mc dataset.Classes) []string {
	if len(labels.ClassNames) > 0 || len(mc.Names) != len(labels.MaskValues) {
		return labels.ClassNames
	}
	return mc.Names
}

// scoreModel predicts every pair of the data set at dir with the model and scores it.
// rep, when not nil, is given every image for the report.
// es picks the shard of the pairs.
func scoreModel(ctx context.Context, modelPath, dir string, labels dataset.Options, policy metrics.EmptyPolicy, o predict.Options, objs *predict.ObjectScores, t *tally, rep *reportRun, es *evalShard) (string, *metrics.Accumulator, dataset.Classes, error) {
	var none dataset.Classes
	models, metas, name, err := loadModels(modelPath)
	if err != nil {
		return "", nil, none, err
	}
	meta := metas[0] // an ensemble's models agree on what is read of it, but for TTA's mirrors
	m := models[0]   // an ensemble's models agree on all that is read of m here
	if err := checkTile(o.Tile, models, "eval", t.errOut); err != nil {
		return "", nil, none, err
	}
	mc := meta.ClassesFor(m.Config)
	if len(labels.MaskValues) == 0 {
		labels.MaskValues = mc.Values
	}
	if labels.Ignore == nil {
		labels.Ignore = mc.Ignore
	}
	labels.ClassNames = namesFor(labels, mc)
	folder, err := evalFolder(dir)
	if err != nil {
		return "", nil, none, err
	}
	d, skipped, err := openForScoring(folder, dataset.Options{Channels: m.Config.InChannels, MaskValues: labels.MaskValues, Ignore: labels.Ignore, ClassNames: labels.ClassNames, ValFraction: -1, CacheBytes: -1}, t)
	if err != nil {
		return "", nil, none, err
	}
	all := append(d.Train, d.Val...) // a flat folder: every pair is in Train
	pairs := shardPairs(es, all)
	acc, err := predict.NewAccumulator(d.Classes, policy)
	if err != nil {
		return "", nil, none, err
	}
	p, err := newPredictor(models, metas, o)
	if err != nil {
		return "", nil, none, err
	}
	defer p.Close()
	if err := rep.start(d.Classes, meta, &m.Config, "", pairNames(all)); err != nil {
		return "", nil, none, err
	}
	t.start(len(pairs))
	t.total += skipped
	return name, acc, d.Classes, p.EvaluateEach(ctx, d, pairs, acc, policy, withObjects(rep.each(), objs, len(d.Classes.Values)), t.done)
}

// openForScoring opens the data set at dir leaving out its bad pairs, which are reported
// through t and counted as failed, so that one bad pair does not hide the scores of the
// others; it gives how many were left out. It prints the data set's warnings too.
func openForScoring(dir string, o dataset.Options, t *tally) (*dataset.Dataset, int, error) {
	d, problems, err := dataset.OpenSkipping(dir, o)
	if err != nil {
		return nil, 0, err
	}
	for _, w := range d.Warnings {
		reportLine(t.errOut, t.bar, "segment %s: warning: %s", t.cmd, w)
	}
	for _, e := range problems {
		t.problem(e)
	}
	t.failed += len(problems)
	return d, len(problems), nil
}

// skippedPair is a pair eval could not score, in eval.json: the file at fault, when the
// error says which, and the problem.
type skippedPair struct {
	File    string `json:"file,omitempty"`
	Problem string `json:"problem"`
}

// skippedPairs turns the failures reported into eval.json's list. Every error names its
// file, as "PATH: problem" (dataset.Error and the predict package's), which is split off
// where the path is known to be one.
func skippedPairs(errs []error) []skippedPair {
	out := make([]skippedPair, 0, len(errs))
	for _, err := range errs {
		var de *dataset.Error
		if errors.As(err, &de) {
			out = append(out, skippedPair{File: de.Path, Problem: de.Err.Error()})
			continue
		}
		msg := err.Error()
		if file, problem, ok := strings.Cut(msg, ": "); ok && isInputPath(file) {
			out = append(out, skippedPair{File: file, Problem: problem})
			continue
		}
		out = append(out, skippedPair{Problem: msg})
	}
	return out
}

// isInputPath says whether p is a file, or a page "FILE#pN" of one.
func isInputPath(p string) bool {
	if _, err := os.Lstat(p); err == nil {
		return true
	}
	stack, _, ok := strings.Cut(p, "#p")
	_, err := os.Lstat(stack)
	return ok && err == nil
}

// scoreMasks scores existing masks at pred against those at gt.
// rep, when not nil, is given every image for the report.
// es picks the shard of the pairs.
func scoreMasks(ctx context.Context, pred, gt, modelPath string, labels dataset.Options, policy metrics.EmptyPolicy, gtLabels bool, t *tally, rep *reportRun, es *evalShard) (*metrics.Accumulator, dataset.Classes, error) {
	var none dataset.Classes
	pairs, problems := predict.PairMasks(pred, gt)
	for _, p := range problems {
		t.problem(p)
	}
	t.failed = len(problems)
	if len(pairs) == 0 {
		return nil, none, fmt.Errorf("no prediction pairs with a ground-truth mask (%s, %s)", pred, gt)
	}
	var (
		meta weights.Meta
		cfg  *unet.Config
	)
	if modelPath != "" && (len(labels.MaskValues) == 0 || len(labels.ClassNames) == 0 || rep != nil) {
		ms, mt, _, err := loadModels(modelPath)
		if err != nil {
			return nil, none, err
		}
		meta, cfg = mt[0], &ms[0].Config
		mc := meta.ClassesFor(*cfg)
		if len(labels.MaskValues) == 0 {
			labels.MaskValues = mc.Values
			if labels.Ignore == nil {
				labels.Ignore = mc.Ignore
			}
		}
		labels.ClassNames = namesFor(labels, mc)
	}
	paths := make([]string, 0, 2*len(pairs))
	owner := make([]int, 0, 2*len(pairs)) // the pair of each path
	for i, p := range pairs {
		if gtLabels { // label images hold object ids, not class values
			pairs[i].GTLabels = true
		} else {
			paths, owner = append(paths, p.GT), append(owner, i)
		}
		paths, owner = append(paths, p.Pred), append(owner, i)
	}
	classes, errs, err := dataset.MaskClassesEach(paths, dataset.Options{MaskValues: labels.MaskValues, Ignore: labels.Ignore, ClassNames: labels.ClassNames})
	if err != nil {
		return nil, none, err
	}
	// A mask that cannot be read leaves its pair out, reported and counted as failed, as
	// --data leaves out a bad pair: the others are still scored.
	bad := make([]bool, len(pairs))
	for k, e := range errs {
		if e != nil && !bad[owner[k]] {
			bad[owner[k]] = true
			t.problem(e)
			t.failed++
			problems = append(problems, e)
		}
	}
	good := pairs[:0]
	for i, p := range pairs {
		if !bad[i] {
			good = append(good, p)
		}
	}
	if len(good) == 0 {
		return nil, none, fmt.Errorf("none of the %d prediction pairs could be read (%s, %s)", len(pairs), pred, gt)
	}
	pairs = good
	all := make([]string, len(pairs))
	for k, p := range pairs {
		all[k] = p.Name
	}
	pairs = shardMaskPairs(es, pairs) // after the classes, which all the masks give
	acc, err := predict.NewAccumulator(classes, policy)
	if err != nil {
		return nil, none, err
	}
	if err := rep.start(classes, meta, cfg, gt, all); err != nil {
		return nil, none, err
	}
	t.start(len(pairs))
	t.total += len(problems)
	return acc, classes, predict.ScoreMasksEach(ctx, pairs, classes, policy, acc, 0, rep.each(), t.done)
}

// printEvalTable prints the summary for people: one row per class, then the foreground mean.
func printEvalTable(w io.Writer, s metrics.Summary) {
	num := func(f metrics.Float) string {
		if f.IsNaN() {
			return "-"
		}
		return fmt.Sprintf("%.4f", float64(f))
	}
	hd := func(f metrics.Float) string {
		if f.IsNaN() {
			return "-"
		}
		return fmt.Sprintf("%.2f", float64(f))
	}
	pm := func(st metrics.Stat) string {
		if st.Mean.IsNaN() {
			return "-"
		}
		return fmt.Sprintf("%.4f ± %.4f", float64(st.Mean), float64(st.Std))
	}
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "class\tvalue\tname\tDice (mean ± std)\tDice (data set)\tIoU\tprecision\trecall\tHD95 (px)\timages")
	for _, c := range s.Classes {
		excluded := ""
		if c.Stats[metrics.Dice].Excluded > 0 {
			excluded = fmt.Sprintf(" (%d empty)", c.Stats[metrics.Dice].Excluded)
		}
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d%s\n", c.Index, c.Value, c.Name, pm(c.Stats[metrics.Dice]), num(c.Stats[metrics.Dice].Dataset),
			num(c.Stats[metrics.IoU].Mean), num(c.Stats[metrics.Precision].Mean), num(c.Stats[metrics.Recall].Mean), hd(c.Stats[metrics.HD95].Mean), c.Stats[metrics.Dice].N, excluded)
	}
	tw.Flush()
	fmt.Fprintf(w, "foreground mean: Dice %s, IoU %s; %d images, empty masks score %s\n",
		num(s.ForegroundMean[metrics.Dice]), num(s.ForegroundMean[metrics.IoU]), s.Images, emptyWord(s.EmptyPolicy))
}

func emptyWord(p metrics.EmptyPolicy) string {
	if p == metrics.EmptyOne {
		return "1"
	}
	return "NaN (left out)"
}

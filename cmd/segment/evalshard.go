package main

// Sharded evaluation: each task of an array scores its shard of the pairs and writes the
// per-image counts and scores to a shard file; eval --merge reads them back into one
// accumulator, in the order of the unsharded run, so that eval.json and eval.csv come from
// the same reduction over the same values in the same order: the same bytes.

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/segment-dev/segment/dataset"
	"github.com/segment-dev/segment/internal/atomicfile"
	"github.com/segment-dev/segment/internal/regular"
	"github.com/segment-dev/segment/internal/samplemodel"
	"github.com/segment-dev/segment/metrics"
	"github.com/segment-dev/segment/predict"
	"github.com/segment-dev/segment/report"
	"github.com/segment-dev/segment/shard"
)

// shardFileFormat names the format of a shard file, checked when it is read.
const shardFileFormat = "segment-eval-shard/2"

// evalShard is the shard an eval task scores, and what it learns on the way for its file.
type evalShard struct {
	s      shard.Shard
	errOut io.Writer
	t      *tally   // the task's failures
	names  []string // every pair of the data, in the unsharded run's order
	keep   []int    // the pairs of the shard (indices in names), in the order they are scored
	before int      // the failures found before the pairs were split, which every shard finds
}

// pick keeps the pairs of the shard, by their pixels, and prints which it took.
func (e *evalShard) pick(names []string, pixels func(k int) int64) []int {
	e.names = append([]string(nil), names...)
	if e.t != nil {
		e.before = e.t.failed
	}
	e.keep = pickShard(e.s, names, pixels, e.errOut)
	return e.keep
}

// shardPairs keeps the data set pairs of the shard, by their image sizes; all of them for
// a nil e (a report, serve).
func shardPairs(e *evalShard, pairs []dataset.Pair) []dataset.Pair {
	if e == nil {
		return pairs
	}
	keep := e.pick(pairNames(pairs), func(k int) int64 { return int64(pairs[k].Width) * int64(pairs[k].Height) })
	out := make([]dataset.Pair, len(keep))
	for j, k := range keep {
		out[j] = pairs[k]
	}
	return out
}

// pairNames are the names of the pairs, in order.
func pairNames(pairs []dataset.Pair) []string {
	names := make([]string, len(pairs))
	for k, p := range pairs {
		names[k] = p.Name
	}
	return names
}

// shardMaskPairs keeps the mask pairs of the shard, by the sizes their ground truth's
// headers give (a page of a stack counting as the stack's mean page); all of them for a
// nil e.
func shardMaskPairs(e *evalShard, pairs []predict.MaskPair) []predict.MaskPair {
	if e == nil {
		return pairs
	}
	names := make([]string, len(pairs))
	for k, p := range pairs {
		names[k] = p.Name
	}
	pixels := func(k int) int64 {
		p := pairs[k].GT
		if i := strings.LastIndex(p, "#p"); i > 0 {
			if n, err := dataset.Pages(p[:i]); err == nil && n > 0 {
				return predict.InputPixels(p[:i]) / int64(n)
			}
		}
		return predict.InputPixels(p)
	}
	keep := e.pick(names, pixels)
	out := make([]predict.MaskPair, len(keep))
	for j, k := range keep {
		out[j] = pairs[k]
	}
	return out
}

// shardFile is what eval --shard writes: the shard's per-image results and what the merge
// checks the shards against one another with.
type shardFile struct {
	Format string `json:"format"`
	Shard  int    `json:"shard"`
	Shards int    `json:"shards"`
	// ModelSHA256 is the hash of the model file (of the embedded model's bytes without
	// --model), "" when masks are scored without a model.
	ModelSHA256 string `json:"model_sha256"`
	// DataSHA256 is the hash of Names, one a line.
	DataSHA256 string   `json:"data_sha256"`
	Names      []string `json:"names"`
	// Report is eval.json's record of what was scored (model, data, flags), without the
	// scores: it must be the same in every shard.
	Report      json.RawMessage `json:"report"`
	Classes     []metrics.Class `json:"classes"`
	Ignore      int             `json:"ignore"`
	EmptyPolicy string          `json:"empty_policy"`
	// Failed counts the shard's pairs that could not be scored, and, in shard 0 only, the
	// problems found before the pairs were split (those every shard finds).
	Failed int `json:"failed"`
	// Skipped is eval.json's list of the pairs counted in Failed, and SkippedAt, for each,
	// the index in Names of its pair, or -1 for a problem found before the split: the merge
	// lists them in the unsharded run's order, which is that of the index.
	Skipped   []skippedPair `json:"skipped"`
	SkippedAt []int         `json:"skipped_at"`
	// Instances says that the objects were scored too (eval --instances), against label
	// images with GTLabels: each image scored has its Objects.
	Instances bool `json:"instances,omitempty"`
	GTLabels  bool `json:"gt_label_images,omitempty"`
	// ReportPart is the token of the part of the report the shard wrote (eval --report)
	// into the report's folder, shardPartName; "" without a report.
	ReportPart string       `json:"report_part,omitempty"`
	Images     []shardImage `json:"images"`
}

// shardImage is one image's metrics.ImageResult, its scores as strconv's shortest text
// ("NaN" included), which reads back to the same float64 bits.
type shardImage struct {
	Index  int                 `json:"index"` // in the data list
	Name   string              `json:"name"`
	Size   [2]int              `json:"size"` // width, height
	Counts []metrics.Confusion `json:"counts"`
	Scores [][]string          `json:"scores"`
	// Objects are its object scores (predict.ImageObjects), with --instances; nil when
	// they could not be scored.
	Objects *shardObjects `json:"objects,omitempty"`
}

// shardObjects is an image's predict.ImageObjects, its scores as exact text as in
// shardImage.
type shardObjects struct {
	Pred, GT, TP, FP, FN  int
	Precision, Recall, F1 string
	DSB                   string
	Merges, Splits        int
}

func objectsText(r predict.ImageObjects) *shardObjects {
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	return &shardObjects{Pred: r.Pred, GT: r.GT, TP: r.TP, FP: r.FP, FN: r.FN,
		Precision: f(r.Precision), Recall: f(r.Recall), F1: f(r.F1), DSB: f(r.DSB), Merges: r.Merges, Splits: r.Splits}
}

// scores reads the object scores back.
func (o *shardObjects) scores() (predict.ImageObjects, error) {
	r := predict.ImageObjects{Pred: o.Pred, GT: o.GT, TP: o.TP, FP: o.FP, FN: o.FN, Merges: o.Merges, Splits: o.Splits}
	for _, v := range []struct {
		to   *float64
		text string
	}{{&r.Precision, o.Precision}, {&r.Recall, o.Recall}, {&r.F1, o.F1}, {&r.DSB, o.DSB}} {
		x, err := strconv.ParseFloat(v.text, 64)
		if err != nil {
			return r, fmt.Errorf("object score %q: %v", v.text, err)
		}
		*v.to = x
	}
	return r, nil
}

// shardPartName names a shard's part of the report: the folder it writes in the report's.
func shardPartName(s shard.Shard) string {
	return fmt.Sprintf("shard-%d-of-%d", s.I, s.N)
}

// shardFileName is where eval --shard i/n writes in --out.
func shardFileName(s shard.Shard) string {
	return fmt.Sprintf("eval.shard-%d-of-%d.json", s.I, s.N)
}

// modelHash is the hex SHA-256 of the model file at spec, or of the embedded model's bytes
// for "". An ensemble (a list or folder, see loadModels) hashes its files' hashes in the
// ensemble's order, so that shards of another ensemble, or of the same models in another
// order, are told apart.
func modelHash(spec string) (string, error) {
	if spec == "" {
		h := sha256.Sum256(samplemodel.Bytes())
		return hex.EncodeToString(h[:]), nil
	}
	fileHash := func(path string) (string, error) {
		b, err := regular.ReadFile(path)
		if err != nil {
			return "", err
		}
		h := sha256.Sum256(b)
		return hex.EncodeToString(h[:]), nil
	}
	if fi, err := os.Stat(spec); err == nil && !fi.IsDir() {
		return fileHash(spec)
	}
	paths, err := modelPaths(spec)
	if err != nil {
		return "", err
	}
	all := sha256.New()
	for _, p := range paths {
		h, err := fileHash(p)
		if err != nil {
			return "", err
		}
		io.WriteString(all, h+"\n")
	}
	return hex.EncodeToString(all.Sum(nil)), nil
}

func namesHash(names []string) string {
	h := sha256.New()
	for _, n := range names {
		io.WriteString(h, n+"\n")
	}
	return hex.EncodeToString(h.Sum(nil))
}

// writeShard writes the shard file of an eval task into dir. report is eval.json without
// its scores; objs, when not nil, the object scores (against label images with gtLabels);
// part the token of the shard's part of the report ("" for none); failed is the task's
// count of failures.
func writeShard(dir string, e *evalShard, report evalReport, acc *metrics.Accumulator, objs *predict.ObjectScores, gtLabels bool, part string, failed int, modelPath string) (string, error) {
	f := shardFile{Format: shardFileFormat, Shard: e.s.I, Shards: e.s.N, Names: e.names, DataSHA256: namesHash(e.names),
		Instances: objs != nil, GTLabels: gtLabels && objs != nil, ReportPart: part}
	if report.Model != "" {
		h, err := modelHash(modelPath)
		if err != nil {
			return "", err
		}
		f.ModelSHA256 = h
	}
	skipped := report.Skipped
	report.Summary, report.Failed, report.Skipped = metrics.Summary{}, 0, []skippedPair{}
	rb, err := json.Marshal(report)
	if err != nil {
		return "", err
	}
	f.Report = rb
	s := acc.Summary()
	for _, c := range s.Classes {
		f.Classes = append(f.Classes, metrics.Class{Value: c.Value, Name: c.Name})
	}
	f.Ignore, f.EmptyPolicy = s.Ignore, s.EmptyPolicy.String()
	index := make(map[string]int, len(e.names))
	for k, n := range e.names {
		index[n] = k
	}
	images := acc.Images()
	// Pairs that failed count in the task that holds them; problems found before the
	// split (every task finds them, first) count in shard 0 alone.
	f.Failed = failed - e.before
	f.Skipped = skipped[min(e.before, len(skipped)):]
	before := 0
	if e.s.I == 0 {
		f.Failed = failed
		f.Skipped = skipped
		before = min(e.before, len(skipped))
	}
	f.SkippedAt = failedAt(e, images, len(f.Skipped), before)
	for _, im := range images {
		k, ok := index[im.Name]
		if !ok {
			return "", fmt.Errorf("eval: image %q is not in the data list", im.Name)
		}
		si := shardImage{Index: k, Name: im.Name, Size: [2]int{im.Width, im.Height}, Counts: im.Counts}
		if objs != nil {
			if r, ok := objs.Get(im.Name); ok {
				si.Objects = objectsText(r)
			}
		}
		for _, sc := range im.Scores {
			row := make([]string, len(sc))
			for m, v := range sc {
				row[m] = strconv.FormatFloat(v, 'g', -1, 64)
			}
			si.Scores = append(si.Scores, row)
		}
		f.Images = append(f.Images, si)
	}
	path := filepath.Join(dir, shardFileName(e.s))
	return path, atomicfile.Write(path, func(w io.Writer) error { return writeJSON(w, f) })
}

// failedAt gives, for the n entries of a shard's list of skipped pairs, the index in
// e.names of each entry's pair, or -1 for the first before, the problems found before the
// split. The others are the failures of the shard's pairs that are not among its scored
// images, reported in the order the pairs were scored. Should they not match those pairs
// one for one, they keep the shard's order, after every pair.
func failedAt(e *evalShard, images []metrics.ImageResult, n, before int) []int {
	scored := make(map[string]bool, len(images))
	for _, im := range images {
		scored[im.Name] = true
	}
	var unscored []int
	for _, k := range e.keep {
		if !scored[e.names[k]] {
			unscored = append(unscored, k)
		}
	}
	at := make([]int, n)
	for j := range at {
		switch {
		case j < before:
			at[j] = -1
		case len(unscored) != n-before:
			at[j] = len(e.names)
		default:
			at[j] = unscored[j-before]
		}
	}
	return at
}

// mergeInputs lists the shard files of eval --merge: a folder's eval.shard-*.json, or the
// files given.
func mergeInputs(args []string) ([]string, error) {
	var files []string
	for _, a := range args {
		if a == "" {
			continue
		}
		st, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			files = append(files, a)
			continue
		}
		m, err := filepath.Glob(filepath.Join(a, "eval.shard-*-of-*.json"))
		if err != nil {
			return nil, err
		}
		if len(m) == 0 {
			return nil, fmt.Errorf("%s: no shard files (eval.shard-I-of-N.json) in the folder", a)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		return nil, usagef("--merge: want a folder of shard files, or the files")
	}
	slices.Sort(files)
	return files, nil
}

// merged is what mergeShards gathers from the shard files.
type merged struct {
	acc      *metrics.Accumulator
	report   evalReport            // eval.json without its scores
	objs     *predict.ObjectScores // nil when the shards did not score objects
	gtLabels bool
	paths    []string     // the shard files, by shard
	files    []*shardFile // the same, read
}

// mergeShards reads the shard files and checks that they are the shards 0 to n-1 of one
// evaluation, each once: the same count, model, data list and record. It returns the
// accumulator filled as the unsharded run fills it (the images in the data list's order),
// the object scores, and the report without its scores.
func mergeShards(paths []string) (*merged, error) {
	var (
		first  *shardFile
		firstP string
		report evalReport
	)
	byIndex := map[int]string{}   // shard to its file
	imageFrom := map[int]string{} // image index to its shard file
	var images []shardImage
	failed := 0
	type skippedEntry struct {
		at, shard int
		pair      skippedPair
	}
	var skipped []skippedEntry
	fileOf := map[int]*shardFile{}
	for _, p := range paths {
		b, err := regular.ReadFile(p)
		if err != nil {
			return nil, err
		}
		var f shardFile
		if err := json.Unmarshal(b, &f); err != nil {
			return nil, fmt.Errorf("%s: not a shard file of segment eval: %v", p, err)
		}
		if f.Format != shardFileFormat {
			return nil, fmt.Errorf("%s: not a shard file of segment eval (format %q, want %q)", p, f.Format, shardFileFormat)
		}
		if f.Shards < 1 || f.Shard < 0 || f.Shard >= f.Shards || f.DataSHA256 != namesHash(f.Names) {
			return nil, fmt.Errorf("%s: shard %d of %d, with a data list that does not match its hash: a damaged shard file", p, f.Shard, f.Shards)
		}
		if len(f.SkippedAt) != len(f.Skipped) {
			return nil, fmt.Errorf("%s: %d skipped pairs but %d places for them: a damaged shard file", p, len(f.Skipped), len(f.SkippedAt))
		}
		if first == nil {
			first, firstP = &f, p
			if err := json.Unmarshal(f.Report, &report); err != nil {
				return nil, fmt.Errorf("%s: %v", p, err)
			}
		}
		switch {
		case f.Shards != first.Shards:
			return nil, fmt.Errorf("%s: shard %d of %d, but %s is of %d shards", p, f.Shard, f.Shards, firstP, first.Shards)
		case f.ModelSHA256 != first.ModelSHA256:
			return nil, fmt.Errorf("%s: from another model than %s (model SHA-256 %.12s, not %.12s)", p, firstP, f.ModelSHA256, first.ModelSHA256)
		case f.DataSHA256 != first.DataSHA256:
			return nil, fmt.Errorf("%s: from another data set than %s (%d images, data list SHA-256 %.12s; %d, %.12s)", p, firstP, len(f.Names), f.DataSHA256, len(first.Names), first.DataSHA256)
		case string(f.Report) != string(first.Report) || f.Ignore != first.Ignore || f.EmptyPolicy != first.EmptyPolicy || !slices.Equal(f.Classes, first.Classes):
			return nil, fmt.Errorf("%s: scored with other settings than %s (%s, not %s)", p, firstP, f.Report, first.Report)
		case f.Instances != first.Instances || f.GTLabels != first.GTLabels:
			return nil, fmt.Errorf("%s: scored with other settings than %s (objects scored: %v, against label images: %v; not %v, %v)", p, firstP, f.Instances, f.GTLabels, first.Instances, first.GTLabels)
		}
		if prev, ok := byIndex[f.Shard]; ok {
			return nil, fmt.Errorf("%s: shard %d of %d given twice (also %s)", p, f.Shard, f.Shards, prev)
		}
		byIndex[f.Shard] = p
		fileOf[f.Shard] = &f
		failed += f.Failed
		for j, sp := range f.Skipped {
			skipped = append(skipped, skippedEntry{at: f.SkippedAt[j], shard: f.Shard, pair: sp})
		}
		for _, im := range f.Images {
			if im.Index < 0 || im.Index >= len(f.Names) || f.Names[im.Index] != im.Name {
				return nil, fmt.Errorf("%s: image %q at %d is not in the data list", p, im.Name, im.Index)
			}
			if prev, ok := imageFrom[im.Index]; ok {
				return nil, fmt.Errorf("%s: image %s is in %s too", p, im.Name, prev)
			}
			if im.Objects != nil && !f.Instances {
				return nil, fmt.Errorf("%s: image %s has object scores in a shard scored without --instances: a damaged shard file", p, im.Name)
			}
			imageFrom[im.Index] = p
		}
		images = append(images, f.Images...)
	}
	var missing []string
	for i := range first.Shards {
		if _, ok := byIndex[i]; !ok {
			missing = append(missing, shardFileName(shard.Shard{I: i, N: first.Shards}))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("shards missing: %s (of %d; given %s)", strings.Join(missing, ", "), first.Shards, strings.Join(paths, ", "))
	}
	slices.SortFunc(images, func(a, b shardImage) int { return a.Index - b.Index })
	var policy metrics.EmptyPolicy
	if err := policy.UnmarshalText([]byte(first.EmptyPolicy)); err != nil {
		return nil, fmt.Errorf("%s: %v", firstP, err)
	}
	acc, err := metrics.NewAccumulator(first.Classes, first.Ignore, policy)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", firstP, err)
	}
	m := &merged{acc: acc, gtLabels: first.GTLabels}
	if first.Instances {
		m.objs = predict.NewObjectScores()
	}
	for _, im := range images {
		r := metrics.ImageResult{Name: im.Name, Width: im.Size[0], Height: im.Size[1], Counts: im.Counts}
		for _, row := range im.Scores {
			var sc metrics.Scores
			if len(row) != len(sc) {
				return nil, fmt.Errorf("%s: image %s: %d scores, want %d", imageFrom[im.Index], im.Name, len(row), len(sc))
			}
			for k, text := range row {
				v, err := strconv.ParseFloat(text, 64)
				if err != nil {
					return nil, fmt.Errorf("%s: image %s: score %q: %v", imageFrom[im.Index], im.Name, text, err)
				}
				sc[k] = v
			}
			r.Scores = append(r.Scores, sc)
		}
		if err := acc.AddResult(r); err != nil {
			return nil, fmt.Errorf("%s: %v", imageFrom[im.Index], err)
		}
		if im.Objects != nil {
			o, err := im.Objects.scores()
			if err != nil {
				return nil, fmt.Errorf("%s: image %s: %v", imageFrom[im.Index], im.Name, err)
			}
			m.objs.Set(im.Name, o)
		}
	}
	report.Failed = failed
	// In the unsharded run's order: the problems found before the split (shard 0's), then
	// the pairs in the data list's order.
	slices.SortStableFunc(skipped, func(a, b skippedEntry) int { return cmp.Or(a.at-b.at, a.shard-b.shard) })
	report.Skipped = []skippedPair{}
	for _, e := range skipped {
		report.Skipped = append(report.Skipped, e.pair)
	}
	for i := range first.Shards {
		m.paths = append(m.paths, byIndex[i])
		m.files = append(m.files, fileOf[i])
	}
	m.report = report
	return m, nil
}

// reportParts reads the parts of the report that the shards wrote into dir, each checked
// against its shard file's token.
func (m *merged) reportParts(dir string) (*mergedReport, error) {
	r := &mergedReport{dir: dir}
	for i, f := range m.files {
		if f.ReportPart == "" {
			return nil, fmt.Errorf("%s: scored without --report: the shard wrote no part of a report to merge (run the shards with --report %s)", m.paths[i], dir)
		}
		part, err := report.ReadPart(filepath.Join(dir, shardPartName(shard.Shard{I: f.Shard, N: f.Shards})))
		if err != nil {
			return nil, err
		}
		if part.Token != f.ReportPart {
			return nil, fmt.Errorf("%s: the part of another run of the shard than %s (a shard run again with another --out or --report?): run the shard again", part.Dir, m.paths[i])
		}
		r.parts = append(r.parts, part)
	}
	return r, nil
}

// mergedReport is the report of merged shards: the page of the parts they wrote.
type mergedReport struct {
	dir   string
	parts []*report.Part
}

func (r *mergedReport) finish(s metrics.Summary) error { return report.Merge(r.dir, r.parts, s) }

func (r *mergedReport) printWhere(w io.Writer) {
	fmt.Fprintf(w, "report: %s\n", filepath.Join(r.dir, "index.html"))
}

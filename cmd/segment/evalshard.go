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
	"github.com/segment-dev/segment/shard"
)

// shardFileFormat names the format of a shard file, checked when it is read.
const shardFileFormat = "segment-eval-shard/2"

// evalShard is the shard an eval task scores, and what it learns on the way for its file.
type evalShard struct {
	s      shard.Shard
	errOut io.Writer
	names  []string // every pair of the data, in the unsharded run's order
	keep   []int    // the pairs of the shard (indices in names), in the order they are scored
}

// pick keeps the pairs of the shard, by their pixels, and prints which it took.
func (e *evalShard) pick(names []string, pixels func(k int) int64) []int {
	e.names = append([]string(nil), names...)
	e.keep = pickShard(e.s, names, pixels, e.errOut)
	return e.keep
}

// shardPairs keeps the data set pairs of the shard, by their image sizes; all of them for
// a nil e (a report, serve).
func shardPairs(e *evalShard, pairs []dataset.Pair) []dataset.Pair {
	if e == nil {
		return pairs
	}
	names := make([]string, len(pairs))
	for k, p := range pairs {
		names[k] = p.Name
	}
	keep := e.pick(names, func(k int) int64 { return int64(pairs[k].Width) * int64(pairs[k].Height) })
	out := make([]dataset.Pair, len(keep))
	for j, k := range keep {
		out[j] = pairs[k]
	}
	return out
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
	Images    []shardImage  `json:"images"`
}

// shardImage is one image's metrics.ImageResult, its scores as strconv's shortest text
// ("NaN" included), which reads back to the same float64 bits.
type shardImage struct {
	Index  int                 `json:"index"` // in the data list
	Name   string              `json:"name"`
	Size   [2]int              `json:"size"` // width, height
	Counts []metrics.Confusion `json:"counts"`
	Scores [][]string          `json:"scores"`
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
// its scores; failed is the task's count of failures.
func writeShard(dir string, e *evalShard, report evalReport, acc *metrics.Accumulator, failed int, modelPath string) (string, error) {
	f := shardFile{Format: shardFileFormat, Shard: e.s.I, Shards: e.s.N, Names: e.names, DataSHA256: namesHash(e.names)}
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
	// split (every task finds them) count in shard 0 alone.
	pairFailed := len(e.keep) - len(images)
	f.Failed = pairFailed
	f.Skipped = skipped[max(len(skipped)-pairFailed, 0):] // the pair failures come last
	if e.s.I == 0 {
		f.Failed = failed
		f.Skipped = skipped
	}
	f.SkippedAt = failedAt(e, images, len(f.Skipped))
	for _, im := range images {
		k, ok := index[im.Name]
		if !ok {
			return "", fmt.Errorf("eval: image %q is not in the data list", im.Name)
		}
		si := shardImage{Index: k, Name: im.Name, Size: [2]int{im.Width, im.Height}, Counts: im.Counts}
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

// failedAt gives, for the n entries that end a shard's list of skipped pairs, the index in
// e.names of each entry's pair: the shard's pairs that are not among its scored images, in
// the order they were scored, which is the order their failures were reported in. The
// entries before them, problems found before the split, get -1. Should the failures not
// match the unscored pairs one for one, they keep the shard's order, after every pair.
func failedAt(e *evalShard, images []metrics.ImageResult, n int) []int {
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
		switch u := j - (n - len(unscored)); {
		case len(unscored) > n:
			at[j] = len(e.names)
		case u < 0:
			at[j] = -1
		default:
			at[j] = unscored[u]
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

// mergeShards reads the shard files and checks that they are the shards 0 to n-1 of one
// evaluation, each once: the same count, model, data list and record. It returns the
// accumulator filled as the unsharded run fills it (the images in the data list's order)
// and the report without its scores.
func mergeShards(paths []string) (*metrics.Accumulator, evalReport, error) {
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
	for _, p := range paths {
		b, err := regular.ReadFile(p)
		if err != nil {
			return nil, report, err
		}
		var f shardFile
		if err := json.Unmarshal(b, &f); err != nil {
			return nil, report, fmt.Errorf("%s: not a shard file of segment eval: %v", p, err)
		}
		if f.Format != shardFileFormat {
			return nil, report, fmt.Errorf("%s: not a shard file of segment eval (format %q, want %q)", p, f.Format, shardFileFormat)
		}
		if f.Shards < 1 || f.Shard < 0 || f.Shard >= f.Shards || f.DataSHA256 != namesHash(f.Names) {
			return nil, report, fmt.Errorf("%s: shard %d of %d, with a data list that does not match its hash: a damaged shard file", p, f.Shard, f.Shards)
		}
		if len(f.SkippedAt) != len(f.Skipped) {
			return nil, report, fmt.Errorf("%s: %d skipped pairs but %d places for them: a damaged shard file", p, len(f.Skipped), len(f.SkippedAt))
		}
		if first == nil {
			first, firstP = &f, p
			if err := json.Unmarshal(f.Report, &report); err != nil {
				return nil, report, fmt.Errorf("%s: %v", p, err)
			}
		}
		switch {
		case f.Shards != first.Shards:
			return nil, report, fmt.Errorf("%s: shard %d of %d, but %s is of %d shards", p, f.Shard, f.Shards, firstP, first.Shards)
		case f.ModelSHA256 != first.ModelSHA256:
			return nil, report, fmt.Errorf("%s: from another model than %s (model SHA-256 %.12s, not %.12s)", p, firstP, f.ModelSHA256, first.ModelSHA256)
		case f.DataSHA256 != first.DataSHA256:
			return nil, report, fmt.Errorf("%s: from another data set than %s (%d images, data list SHA-256 %.12s; %d, %.12s)", p, firstP, len(f.Names), f.DataSHA256, len(first.Names), first.DataSHA256)
		case string(f.Report) != string(first.Report) || f.Ignore != first.Ignore || f.EmptyPolicy != first.EmptyPolicy || !slices.Equal(f.Classes, first.Classes):
			return nil, report, fmt.Errorf("%s: scored with other settings than %s (%s, not %s)", p, firstP, f.Report, first.Report)
		}
		if prev, ok := byIndex[f.Shard]; ok {
			return nil, report, fmt.Errorf("%s: shard %d of %d given twice (also %s)", p, f.Shard, f.Shards, prev)
		}
		byIndex[f.Shard] = p
		failed += f.Failed
		for j, sp := range f.Skipped {
			skipped = append(skipped, skippedEntry{at: f.SkippedAt[j], shard: f.Shard, pair: sp})
		}
		for _, im := range f.Images {
			if im.Index < 0 || im.Index >= len(f.Names) || f.Names[im.Index] != im.Name {
				return nil, report, fmt.Errorf("%s: image %q at %d is not in the data list", p, im.Name, im.Index)
			}
			if prev, ok := imageFrom[im.Index]; ok {
				return nil, report, fmt.Errorf("%s: image %s is in %s too", p, im.Name, prev)
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
		return nil, report, fmt.Errorf("shards missing: %s (of %d; given %s)", strings.Join(missing, ", "), first.Shards, strings.Join(paths, ", "))
	}
	slices.SortFunc(images, func(a, b shardImage) int { return a.Index - b.Index })
	var policy metrics.EmptyPolicy
	if err := policy.UnmarshalText([]byte(first.EmptyPolicy)); err != nil {
		return nil, report, fmt.Errorf("%s: %v", firstP, err)
	}
	acc, err := metrics.NewAccumulator(first.Classes, first.Ignore, policy)
	if err != nil {
		return nil, report, fmt.Errorf("%s: %v", firstP, err)
	}
	for _, im := range images {
		r := metrics.ImageResult{Name: im.Name, Width: im.Size[0], Height: im.Size[1], Counts: im.Counts}
		for _, row := range im.Scores {
			var sc metrics.Scores
			if len(row) != len(sc) {
				return nil, report, fmt.Errorf("image %s: %d scores, want %d", im.Name, len(row), len(sc))
			}
			for m, s := range row {
				v, err := strconv.ParseFloat(s, 64)
				if err != nil {
					return nil, report, fmt.Errorf("image %s: score %q: %v", im.Name, s, err)
				}
				sc[m] = v
			}
			r.Scores = append(r.Scores, sc)
		}
		if err := acc.AddResult(r); err != nil {
			return nil, report, err
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
	return acc, report, nil
}

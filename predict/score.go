package predict

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/segment-dev/segment/dataset"
	"github.com/segment-dev/segment/metrics"
)

// MaskPair is a predicted mask file and the ground-truth mask it is scored against.
type MaskPair struct {
	Name     string // the stem they share
	Pred, GT string // paths
	// GTLabels says GT is a label image of separate objects (ReadLabelImage): its pixel
	// scores take every object as the foreground of a binary task.
	GTLabels bool
}

// maskSuffixes are what a mask file's stem may add to the image's: predict writes
// <stem>_mask.png, other tools _pred or _prediction.
var maskSuffixes = []string{"_mask", "_prediction", "_pred"}

// pairKey is the image stem a mask file belongs to.
func pairKey(name string) string {
	stem := strings.TrimSuffix(name, filepath.Ext(name))
	for _, s := range maskSuffixes {
		if k, ok := strings.CutSuffix(stem, s); ok && k != "" {
			return k
		}
	}
	return stem
}

// maskFiles lists the mask files of a folder by pair key, leaving out hidden files and the
// overlays, probability maps and label images predict writes beside its masks. A file is listed as
// itself. A folder holding masks/ (a data set) stands for that folder.
func maskFiles(p string) (map[string]string, []error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, []error{pathError(p, err)}
	}
	if !st.IsDir() {
		return map[string]string{pairKey(filepath.Base(p)): p}, nil
	}
	if isDir(filepath.Join(p, "masks")) {
		p = filepath.Join(p, "masks")
	}
	des, err := os.ReadDir(p)
	if err != nil {
		return nil, []error{pathError(p, err)}
	}
	files := make(map[string]string)
	var problems []error
	for _, de := range des {
		name := de.Name()
		stem := strings.TrimSuffix(name, filepath.Ext(name))
		if de.IsDir() || strings.HasPrefix(name, ".") || !isImageName(name) ||
			strings.HasSuffix(stem, "_overlay") || strings.Contains(stem, "_probs") || strings.HasSuffix(stem, "_instances") {
			continue
		}
		k := pairKey(name)
		if prev, ok := files[k]; ok {
			problems = append(problems, fmt.Errorf("%s: %s is the mask of the same image; skipped", filepath.Join(p, name), filepath.Base(prev)))
			continue
		}
		files[k] = filepath.Join(p, name)
	}
	if len(files) == 0 && len(problems) == 0 {
		problems = append(problems, fmt.Errorf("%s: no PNG, JPEG, TIFF, BMP or GIF files in the folder", p))
	}
	return files, problems
}

// PairMasks pairs the predicted masks at pred with the ground truth at gt: two files, or
// two folders whose files pair by image stem (a.png, a_mask.png, a_pred.png and
// a_prediction.png all belong to image a; a data set folder's masks/ is used). Files of
// either side without a partner are problems, returned with the pairs of the others.
func PairMasks(pred, gt string) ([]MaskPair, []error) {
	pf, problems := maskFiles(pred)
	gf, gp := maskFiles(gt)
	problems = append(problems, gp...)
	if pf == nil || gf == nil {
		return nil, problems
	}
	if len(pf) == 1 && len(gf) == 1 { // two files: they pair whatever their names
		for pk, pp := range pf {
			for _, gp := range gf {
				return expandStacks([]MaskPair{{Name: pk, Pred: pp, GT: gp}}, problems)
			}
		}
	}
	var pairs []MaskPair
	for k, g := range gf {
		if p, ok := pf[k]; ok {
			pairs = append(pairs, MaskPair{Name: k, Pred: p, GT: g})
		} else {
			problems = append(problems, fmt.Errorf("%s: no prediction for this mask in %s", g, pred))
		}
	}
	for k, p := range pf {
		if _, ok := gf[k]; !ok {
			problems = append(problems, fmt.Errorf("%s: no ground-truth mask for this prediction in %s", p, gt))
		}
	}
	pairs, problems = expandStacks(pairs, problems)
	slices.SortFunc(pairs, func(a, b MaskPair) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(problems, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return pairs, problems
}

// expandStacks replaces a pair of which either mask is a TIFF stack by a pair per page,
// named NAME#pN as data sets name pages. Pages of one side that the other lacks are
// problems naming the page; the pages both have are scored.
func expandStacks(pairs []MaskPair, problems []error) ([]MaskPair, []error) {
	var out []MaskPair
	for _, mp := range pairs {
		np, perr := dataset.Pages(mp.Pred)
		ng, gerr := 1, error(nil)
		if !mp.GTLabels {
			ng, gerr = dataset.Pages(mp.GT)
		}
		if perr != nil || gerr != nil {
			for _, e := range []error{perr, gerr} {
				if e != nil {
					problems = append(problems, e)
				}
			}
			continue
		}
		if np == 1 && ng == 1 {
			out = append(out, mp)
			continue
		}
		for k := 1; k <= min(np, ng); k++ {
			out = append(out, MaskPair{Name: fmt.Sprintf("%s#p%d", mp.Name, k), Pred: dataset.PagePath(mp.Pred, k), GT: dataset.PagePath(mp.GT, k), GTLabels: mp.GTLabels})
		}
		switch {
		case np > ng:
			problems = append(problems, fmt.Errorf("%s: no ground truth for this page: the prediction has %d pages, its ground truth %s %d", dataset.PagePath(mp.Pred, ng+1), np, mp.GT, ng))
		case ng > np:
			problems = append(problems, fmt.Errorf("%s: no prediction for this page: the ground truth has %d pages, its prediction %s %d", dataset.PagePath(mp.GT, np+1), ng, mp.Pred, np))
		}
	}
	return out, problems
}

// readGT reads the ground truth of a pair as class indices of c.
func readGT(mp MaskPair, c dataset.Classes, maxPixels int) ([]int32, int, int, error) {
	if !mp.GTLabels {
		return c.ReadMask(mp.GT, maxPixels)
	}
	if !c.Binary() {
		return nil, 0, 0, fmt.Errorf("%s: a label image is the ground truth of a binary task; the masks have %d classes", mp.GT, len(c.Values))
	}
	l, err := ReadLabelImage(mp.GT, maxPixels)
	if err != nil {
		return nil, 0, 0, err
	}
	idx := make([]int32, len(l.Pix))
	for i, id := range l.Pix {
		if id != 0 {
			idx[i] = 1
		}
	}
	return idx, l.W, l.H, nil
}

// ScoreMasks reads every pair's masks as the classes c (values, ignore value, colour) and
// adds their scores to acc (made by NewAccumulator for c), scoring several pairs at once
// and adding them in order. done(i, err) is called for every pair in order; err names the
// file at fault. maxPixels bounds a mask's size as dataset.Options.MaxPixels does.
func ScoreMasks(ctx context.Context, pairs []MaskPair, c dataset.Classes, policy metrics.EmptyPolicy, acc *metrics.Accumulator, maxPixels int, done func(i int, err error)) error {
	return ScoreMasksEach(ctx, pairs, c, policy, acc, maxPixels, nil, done)
}

// sizeError is the problem of a pair whose prediction is pw x ph and ground truth gw x gh.
func (mp MaskPair) sizeError(pw, ph, gw, gh int) error {
	return fmt.Errorf("%s: prediction is %dx%d, its ground truth %s is %dx%d", mp.Pred, pw, ph, mp.GT, gw, gh)
}

// eachPair calls f(j) for every j in [0, n) on up to GOMAXPROCS goroutines, which take the
// indices in order and stop taking them once ctx is cancelled: how the pairs of masks are
// read and scored side by side. It returns at once; wait waits for the goroutines.
func eachPair(ctx context.Context, n int, f func(j int)) (wait func()) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Go(func() {
			for {
				j := int(next.Add(1) - 1)
				if j >= n || ctx.Err() != nil {
					return
				}
				f(j)
			}
		})
	}
	return wg.Wait
}

// ScoreMasksEach is ScoreMasks that also hands each pair's maps and scores to each (when
// not nil). each is called from several goroutines at once, as the pairs are scored; its
// error is the pair's.
func ScoreMasksEach(ctx context.Context, pairs []MaskPair, c dataset.Classes, policy metrics.EmptyPolicy, acc *metrics.Accumulator, maxPixels int, each func(Scored) error, done func(i int, err error)) error {
	type result struct {
		r   metrics.ImageResult
		err error
	}
	results := make([]result, len(pairs))
	ready := make([]chan struct{}, len(pairs))
	for i := range ready {
		ready[i] = make(chan struct{})
	}
	k := len(c.Values)
	score := func(mp MaskPair) (metrics.ImageResult, error) {
		gt, gw, gh, err := readGT(mp, c, maxPixels)
		if err != nil {
			return metrics.ImageResult{}, err
		}
		pred, pw, ph, err := c.ReadMask(mp.Pred, maxPixels)
		if err != nil {
			return metrics.ImageResult{}, err
		}
		if pw != gw || ph != gh {
			return metrics.ImageResult{}, mp.sizeError(pw, ph, gw, gh)
		}
		forMetrics(gt, k)
		forMetrics(pred, k)
		r, err := metrics.Evaluate(mp.Name, pred, gt, gw, gh, k, metricIgnore(c), policy)
		if err != nil {
			return r, fmt.Errorf("%s: %w", mp.Pred, err)
		}
		if each != nil {
			if err := each(Scored{Name: mp.Name, Truth: gt, Pred: pred, Width: gw, Height: gh, Result: r}); err != nil {
				return r, err
			}
		}
		return r, nil
	}
	defer eachPair(ctx, len(pairs), func(j int) {
		results[j].err = safely(func() (err error) { results[j].r, err = score(pairs[j]); return err })
		close(ready[j])
	})()
	for j := range pairs {
		select {
		case <-ready[j]:
		case <-ctx.Done():
			return ctx.Err()
		}
		err := results[j].err
		if err == nil {
			err = acc.AddResult(results[j].r)
		}
		results[j] = result{}
		done(j, err)
	}
	return nil
}

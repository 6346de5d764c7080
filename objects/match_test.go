package objects

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// bruteScores computes the scores the plain way, to check Match and Scores against: a dense
// IoU matrix from a count over all pixels for each pair of objects, and at each threshold
// of 0.5 or more the pairs above it, which must form a one-to-one matching.
func bruteScores(t *testing.T, pred, gt *Labels) Scores {
	t.Helper()
	np, ng := pred.N(), gt.N()
	iou := make([][]float64, np+1)
	inter := make([][]int, np+1)
	for p := 1; p <= np; p++ {
		iou[p] = make([]float64, ng+1)
		inter[p] = make([]int, ng+1)
		for g := 1; g <= ng; g++ {
			var in, un int
			for i := range pred.Pix {
				a, b := int(pred.Pix[i]) == p, int(gt.Pix[i]) == g
				if a && b {
					in++
				}
				if a || b {
					un++
				}
			}
			inter[p][g] = in
			iou[p][g] = float64(in) / float64(un)
		}
	}
	count := func(th float64) (tp int) {
		seenP, seenG := map[int]bool{}, map[int]bool{}
		for p := 1; p <= np; p++ {
			for g := 1; g <= ng; g++ {
				if iou[p][g] > th {
					if seenP[p] || seenG[g] {
						t.Fatalf("IoU above %v is not one to one", th)
					}
					seenP[p], seenG[g] = true, true
					tp++
				}
			}
		}
		return tp
	}
	s := Scores{Pred: np, GT: ng}
	s.TP = count(0.5)
	s.FP, s.FN = np-s.TP, ng-s.TP
	s.Precision, s.Recall, s.F1 = 1, 1, 1
	if np > 0 {
		s.Precision = float64(s.TP) / float64(np)
	}
	if ng > 0 {
		s.Recall = float64(s.TP) / float64(ng)
	}
	if np+ng > 0 {
		s.F1 = 2 * float64(s.TP) / float64(np+ng)
	}
	for k := range 10 {
		th := 0.5 + 0.05*float64(k)
		tp := count(th)
		if np+ng-tp == 0 {
			s.DSB += 1
		} else {
			s.DSB += float64(tp) / float64(np+ng-tp)
		}
	}
	s.DSB /= 10
	areaP, areaG := pred.Areas(), gt.Areas()
	for p := 1; p <= np; p++ {
		n := 0
		for g := 1; g <= ng; g++ {
			if 2*inter[p][g] >= areaG[g] && inter[p][g] > 0 {
				n++
			}
		}
		if n >= 2 {
			s.Merges++
		}
	}
	for g := 1; g <= ng; g++ {
		n := 0
		for p := 1; p <= np; p++ {
			if 2*inter[p][g] >= areaP[p] && inter[p][g] > 0 {
				n++
			}
		}
		if n >= 2 {
			s.Splits++
		}
	}
	return s
}

func sameScores(a, b Scores) bool {
	close := func(x, y float64) bool { return math.Abs(x-y) <= 1e-9 }
	return a.Pred == b.Pred && a.GT == b.GT && a.TP == b.TP && a.FP == b.FP && a.FN == b.FN &&
		close(a.Precision, b.Precision) && close(a.Recall, b.Recall) && close(a.F1, b.F1) &&
		close(a.DSB, b.DSB) && a.Merges == b.Merges && a.Splits == b.Splits
}

// pairOfMaps draws a ground truth of random discs and a prediction that shifts, grows,
// shrinks, drops, merges and adds objects.
func pairOfMaps(r *rand.Rand, w, h int) (pred, gt []uint8) {
	gt = make([]uint8, w*h)
	pred = make([]uint8, w*h)
	for range 1 + r.IntN(15) {
		cx, cy, rad := r.Float64()*float64(w), r.Float64()*float64(h), 2+r.Float64()*8
		disc(gt, w, cx, cy, rad, 1)
		if r.IntN(6) > 0 {
			disc(pred, w, cx+r.NormFloat64()*1.5, cy+r.NormFloat64()*1.5, rad*(0.7+0.6*r.Float64()), 1)
		}
	}
	for range r.IntN(4) {
		disc(pred, w, r.Float64()*float64(w), r.Float64()*float64(h), 1+r.Float64()*5, 1)
	}
	return pred, gt
}

func TestScoresMatchBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for trial := range 300 {
		w, h := 10+r.IntN(50), 10+r.IntN(50)
		pm, gm := pairOfMaps(r, w, h)
		pred, _ := Label(pm, w, h)
		gt, _ := Label(gm, w, h)
		if trial%4 == 0 {
			pred.Split(2 + r.Float64()*4) // splits too
		}
		m, err := Match(pred, gt)
		if err != nil {
			t.Fatal(err)
		}
		got, want := m.Scores(), bruteScores(t, pred, gt)
		if !sameScores(got, want) {
			t.Fatalf("trial %d: got %+v\nwant %+v", trial, got, want)
		}
	}
}

func TestScoresByHand(t *testing.T) {
	gt := label(t,
		"11.22.....",
		"11.22.....",
		"..........",
		"333333.44.",
		"333333....")
	pred := label(t,
		"11111.....",
		"11111.....",
		"..........",
		"111.11....",
		"111.11...1")
	m, err := Match(pred, gt)
	if err != nil {
		t.Fatal(err)
	}
	s := m.Scores()
	// One prediction merges gt 1 and 2 (IoU 0.4 each), two split gt 3 (IoU 6/12 and 4/12,
	// neither above 0.5), gt 4 is missed and one speck is extra: nothing matches at 0.5.
	want := Scores{Pred: 4, GT: 4, FP: 4, FN: 4, Precision: 0, Recall: 0, F1: 0, DSB: 0, Merges: 1, Splits: 1}
	if !sameScores(s, want) {
		t.Fatalf("got %+v\nwant %+v", s, want)
	}
	// Below 0.5, the greedy one-to-one matching: the larger piece takes gt 3 (0.5), the
	// merged prediction one of its two (0.4); the smaller piece (1/3) finds gt 3 taken.
	if tp, fp, fn := m.Count(0.3); tp != 2 || fp != 2 || fn != 2 {
		t.Fatalf("at 0.3: tp %d fp %d fn %d, want 2 2 2", tp, fp, fn)
	}
	// IoUs of 6/9 and 1: both match at the 4 thresholds 0.5 to 0.65 (score 1), only the
	// exact one at the 6 from 0.7 (1/3).
	gt = label(t, "111.11", "111.11", "111...")
	pred = label(t, "111.11", "111.11", "......")
	m, _ = Match(pred, gt)
	s = m.Scores()
	if want := (4*1.0 + 6*(1.0/3)) / 10; math.Abs(s.DSB-want) > 1e-12 || s.F1 != 1 {
		t.Fatalf("DSB %v, want %v; F1 %v", s.DSB, want, s.F1)
	}
	// A prediction that holds exactly half of each of two objects merges them.
	gt = label(t, "11.22", "11.22")
	pred = label(t, "11111", ".....")
	m, _ = Match(pred, gt)
	if s := m.Scores(); s.Merges != 1 || s.Splits != 0 {
		t.Fatalf("half of each: %d merges, %d splits, want 1 and 0", s.Merges, s.Splits)
	}
	// Two empty images agree perfectly.
	empty := label(t, "...")
	m, _ = Match(empty, empty)
	if s := m.Scores(); s.DSB != 1 || s.F1 != 1 || s.Precision != 1 || s.Recall != 1 {
		t.Fatalf("empty images: %+v", s)
	}
	if _, err := Match(empty, label(t, "..", "..")); err == nil {
		t.Fatal("images of different sizes were matched")
	}
}

// The same scores from scikit-image's labelling and a numpy IoU matrix, written the usual
// way for the Data Science Bowl metric, to 1e-9 (Debian's python3-skimage; skipped where
// absent).
func TestScoresMatchScikitImage(t *testing.T) {
	const py = "/usr/bin/python3"
	if out, err := exec.Command(py, "-c", "import skimage.measure, numpy").CombinedOutput(); err != nil {
		t.Skipf("no scikit-image: %v %s (apt-get install python3-skimage)", err, bytes.TrimSpace(out))
	}
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(7, 8))
	type job struct {
		w, h     int
		pred, gt []uint8
	}
	var jobs []job
	for range 60 {
		w, h := 20+r.IntN(80), 20+r.IntN(80)
		p, g := pairOfMaps(r, w, h)
		jobs = append(jobs, job{w, h, p, g})
	}
	var list strings.Builder
	for k, j := range jobs {
		for _, side := range []struct {
			name string
			m    []uint8
		}{{"pred", j.pred}, {"gt", j.gt}} {
			path := filepath.Join(dir, fmt.Sprintf("%d-%s.raw", k, side.name))
			if err := os.WriteFile(path, side.m, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		fmt.Fprintf(&list, "%d %d %d\n", k, j.w, j.h)
	}
	cmd := exec.Command(py, "-c", `
import sys, os, numpy as np
from skimage.measure import label
d = sys.argv[1]
for line in sys.stdin:
    k, w, h = map(int, line.split())
    read = lambda s: np.fromfile(os.path.join(d, '%d-%s.raw' % (k, s)), dtype=np.uint8).reshape(h, w)
    p = label(read('pred'), connectivity=2)
    g = label(read('gt'), connectivity=2)
    np_, ng = p.max(), g.max()
    inter = np.zeros((np_ + 1, ng + 1), dtype=np.int64)
    np.add.at(inter, (p.ravel(), g.ravel()), 1)
    area_p = np.bincount(p.ravel(), minlength=np_ + 1)
    area_g = np.bincount(g.ravel(), minlength=ng + 1)
    inter = inter[1:, 1:]
    union = area_p[1:, None] + area_g[None, 1:] - inter
    iou = inter / np.maximum(union, 1)
    scores = []
    for t in np.arange(0.5, 1.0, 0.05):
        m = iou > t
        tp = int(m.sum())
        fp, fn = np_ - tp, ng - tp
        scores.append(1.0 if tp + fp + fn == 0 else tp / (tp + fp + fn))
    tp = int((iou > 0.5).sum())
    print(k, np_, ng, tp, repr(float(np.mean(scores))))
`, dir)
	cmd.Stdin = strings.NewReader(list.String())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("scikit-image: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(jobs) {
		t.Fatalf("%d answers for %d images:\n%s", len(lines), len(jobs), out)
	}
	for _, line := range lines {
		f := strings.Fields(line)
		k, _ := strconv.Atoi(f[0])
		j := jobs[k]
		pred, _ := Label(j.pred, j.w, j.h)
		gt, _ := Label(j.gt, j.w, j.h)
		m, _ := Match(pred, gt)
		s := m.Scores()
		dsb, _ := strconv.ParseFloat(f[4], 64)
		got := fmt.Sprintf("%d %d %d", s.Pred, s.GT, s.TP)
		if want := strings.Join(f[1:4], " "); got != want || math.Abs(s.DSB-dsb) > 1e-9 {
			t.Errorf("image %d: objects, gt, TP %s and DSB %.17g; scikit-image %s and %.17g", k, got, s.DSB, want, dsb)
		}
	}
}

// TestCountGreedyHighestFirst: below an IoU of 0.5 an object can overlap several others
// enough to match, and the order of the greedy matching decides. On one row of 20 pixels,
// ground truth A = 0-9 and B = 10-19, prediction 1 = 4-13 and 2 = 14-19: by hand, IoU(1, A)
// = 6/14, IoU(1, B) = 4/16, IoU(2, B) = 6/10. Highest first matches 2-B then 1-A, two true
// positives; taking 1-B first would leave one.
func TestCountGreedyHighestFirst(t *testing.T) {
	row := func(spans ...[3]int) []uint16 {
		pix := make([]uint16, 20)
		for _, s := range spans {
			for i := s[0]; i <= s[1]; i++ {
				pix[i] = uint16(s[2])
			}
		}
		return pix
	}
	gt, err := FromLabelImage(row([3]int{0, 9, 1}, [3]int{10, 19, 2}), 20, 1)
	if err != nil {
		t.Fatal(err)
	}
	pred, err := FromLabelImage(row([3]int{4, 13, 1}, [3]int{14, 19, 2}), 20, 1)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Match(pred, gt)
	if err != nil {
		t.Fatal(err)
	}
	if tp, fp, fn := m.Count(0.2); tp != 2 || fp != 0 || fn != 0 {
		t.Errorf("Count(0.2) = %d, %d, %d; want 2, 0, 0", tp, fp, fn)
	}
	if tp, fp, fn := m.Count(0.5); tp != 1 || fp != 1 || fn != 1 {
		t.Errorf("Count(0.5) = %d, %d, %d; want 1, 1, 1 (only 2-B is above 0.5)", tp, fp, fn)
	}
}

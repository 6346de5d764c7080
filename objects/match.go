package objects

import (
	"fmt"
	"slices"
)

// Pair is two objects, one predicted and one of the ground truth, that share pixels.
type Pair struct {
	Pred, GT int     // ids
	Inter    int     // pixels in both
	IoU      float64 // Inter over the pixels in either
}

// Matching holds the overlaps between predicted and ground-truth objects: the sparse IoU
// matrix from which the object scores follow.
type Matching struct {
	PredArea, GTArea []int  // indexed by id; [0] is the background's
	Pairs            []Pair // every pair that shares pixels, sorted by Pred then GT
}

// DSBThresholds are the IoU thresholds of the 2018 Data Science Bowl score: 0.5 to 0.95 by
// 0.05.
var DSBThresholds = []float64{0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95}

// Match finds the overlaps between predicted objects and ground-truth objects of the same
// image size, in one pass over the pixels. Classes are not compared: an object matches
// whatever it overlaps. To score one class of several, match the OfClass of both.
func Match(pred, gt *Labels) (*Matching, error) {
	if pred.W != gt.W || pred.H != gt.H {
		return nil, fmt.Errorf("objects: prediction is %dx%d, ground truth %dx%d", pred.W, pred.H, gt.W, gt.H)
	}
	m := &Matching{PredArea: pred.Areas(), GTArea: gt.Areas()}
	inter := map[uint32]int{}
	// Neighbouring pixels mostly belong to the same pair: count runs, not pixels, in the map.
	var last uint32
	run := 0
	for i, p := range pred.Pix {
		g := gt.Pix[i]
		if p == 0 || g == 0 {
			continue
		}
		key := uint32(p)<<16 | uint32(g)
		if key != last && run > 0 {
			inter[last] += run
			run = 0
		}
		last = key
		run++
	}
	if run > 0 {
		inter[last] += run
	}
	for key, n := range inter {
		p, g := int(key>>16), int(key&0xffff)
		union := m.PredArea[p] + m.GTArea[g] - n
		m.Pairs = append(m.Pairs, Pair{Pred: p, GT: g, Inter: n, IoU: float64(n) / float64(union)})
	}
	slices.SortFunc(m.Pairs, func(a, b Pair) int {
		if a.Pred != b.Pred {
			return a.Pred - b.Pred
		}
		return a.GT - b.GT
	})
	return m, nil
}

// Count matches predicted and ground-truth objects one to one at an IoU threshold and counts
// the true positives (matched pairs), false positives (unmatched predictions) and false
// negatives (unmatched ground truth). A pair can match when its IoU is above threshold. For
// thresholds of 0.5 and more that matching is unique, since two objects that overlap one
// object by more than half of the union cannot both exist. Below 0.5 the pairs are taken
// greedily, highest IoU first (ties: lower predicted id, then lower ground-truth id), each
// object matching at most once.
func (m *Matching) Count(threshold float64) (tp, fp, fn int) {
	pairs := m.Pairs
	if threshold < 0.5 {
		pairs = slices.Clone(pairs)
		slices.SortStableFunc(pairs, func(a, b Pair) int {
			switch {
			case a.IoU > b.IoU:
				return -1
			case a.IoU < b.IoU:
				return 1
			}
			return 0
		})
	}
	usedP := make([]bool, len(m.PredArea))
	usedG := make([]bool, len(m.GTArea))
	for _, p := range pairs {
		if p.IoU > threshold && !usedP[p.Pred] && !usedG[p.GT] {
			usedP[p.Pred], usedG[p.GT] = true, true
			tp++
		}
	}
	return tp, len(m.PredArea) - 1 - tp, len(m.GTArea) - 1 - tp
}

// Scores are the object-level scores of one image.
type Scores struct {
	Pred, GT   int // objects predicted and in the ground truth
	TP, FP, FN int // at IoU 0.5
	// Precision, Recall and F1 at IoU 0.5: TP/Pred, TP/GT and 2TP/(Pred+GT). Each is 1 when
	// its denominator is 0 (nothing predicted: no false positive; nothing to find: nothing
	// missed).
	Precision, Recall, F1 float64
	// DSB is the 2018 Data Science Bowl score of the image: the mean over DSBThresholds of
	// TP/(TP+FP+FN) with the one-to-one matching of Count. It is 1 when neither image has an
	// object. (The competition's score of a data set is the mean of its images' scores.)
	DSB float64
	// Merges counts the predicted objects that hold at least half of each of two or more
	// ground-truth objects: objects the prediction failed to separate.
	Merges int
	// Splits counts the ground-truth objects that hold at least half of each of two or more
	// predicted objects: objects the prediction cut into pieces.
	Splits int
}

// Scores computes the scores of the matching.
func (m *Matching) Scores() Scores {
	s := Scores{Pred: len(m.PredArea) - 1, GT: len(m.GTArea) - 1}
	s.TP, s.FP, s.FN = m.Count(0.5)
	s.Precision = ratio(s.TP, s.Pred)
	s.Recall = ratio(s.TP, s.GT)
	s.F1 = ratio(2*s.TP, s.Pred+s.GT)
	for _, t := range DSBThresholds {
		tp, fp, fn := m.Count(t)
		s.DSB += ratio(tp, tp+fp+fn)
	}
	s.DSB /= float64(len(DSBThresholds))
	covered := make([]int, len(m.PredArea)) // ground-truth objects at least half inside each prediction
	pieces := make([]int, len(m.GTArea))    // predicted objects at least half inside each ground-truth object
	for _, p := range m.Pairs {
		if 2*p.Inter >= m.GTArea[p.GT] {
			covered[p.Pred]++
		}
		if 2*p.Inter >= m.PredArea[p.Pred] {
			pieces[p.GT]++
		}
	}
	for _, c := range covered {
		if c >= 2 {
			s.Merges++
		}
	}
	for _, c := range pieces {
		if c >= 2 {
			s.Splits++
		}
	}
	return s
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

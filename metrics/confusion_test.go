package metrics

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

// grid parses rows of space-separated integers into a row-major class-index map.
func grid(t testing.TB, rows ...string) (m []int32, w, h int) {
	t.Helper()
	for y, r := range rows {
		f := strings.Fields(r)
		if y == 0 {
			w = len(f)
		} else if len(f) != w {
			t.Fatalf("row %d has %d values, want %d", y, len(f), w)
		}
		for _, s := range f {
			v, err := strconv.Atoi(s)
			if err != nil {
				t.Fatal(err)
			}
			m = append(m, int32(v))
		}
	}
	return m, w, len(rows)
}

// same reports whether a and b are both NaN or within 1e-12 of each other.
func same(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= 1e-12
}

func checkScores(t *testing.T, what string, got, want Scores) {
	t.Helper()
	for m := range got {
		if !same(got[m], want[m]) {
			t.Errorf("%s: %s = %v, want %v", what, Metric(m), got[m], want[m])
		}
	}
}

var nan = math.NaN()

// TestCountAndScores checks counts and confusion metrics on small masks computed by hand.
func TestCountAndScores(t *testing.T) {
	tests := []struct {
		name     string
		gt, pred []string
		classes  int
		ignore   int
		counts   []Confusion
		scores   []Scores // under EmptyNaN, HD95 left out (NaN)
	}{
		{
			// class 1: TP = (1,1) (1,2) (2,2) = 3; FP = (1,3) = 1; FN = (2,1) = 1;
			// TN = 16 - 5 = 11.
			// Dice = 6/8, IoU = 3/5, precision = 3/4, recall = 3/4,
			// specificity = 11/12, accuracy = (3+11)/16 = 14/16.
			// class 0 is the mirror: TP = 11, FP = 1 (at (2,1)), FN = 1 (at (1,3)), TN = 3.
			// Dice = 22/24, IoU = 11/13, precision = recall = 11/12, specificity = 3/4,
			// accuracy = 14/16.
			name: "binary 4x4",
			gt: []string{
				"0 0 0 0",
				"0 1 1 0",
				"0 1 1 0",
				"0 0 0 0",
			},
			pred: []string{
				"0 0 0 0",
				"0 1 1 1",
				"0 0 1 0",
				"0 0 0 0",
			},
			classes: 2, ignore: -1,
			counts: []Confusion{{TP: 11, FP: 1, FN: 1, TN: 3}, {TP: 3, FP: 1, FN: 1, TN: 11}},
			scores: []Scores{
				{Dice: 22.0 / 24, IoU: 11.0 / 13, Precision: 11.0 / 12, Recall: 11.0 / 12, Specificity: 3.0 / 4, Accuracy: 14.0 / 16},
				{Dice: 6.0 / 8, IoU: 3.0 / 5, Precision: 3.0 / 4, Recall: 3.0 / 4, Specificity: 11.0 / 12, Accuracy: 14.0 / 16},
			},
		},
		{
			// class 1: gt has 6 pixels (rows 0-1, cols 0-2), pred 4 (rows 0-1, cols 2-3).
			// TP = (0,2) (1,2) = 2; FP = (0,3) (1,3) = 2; FN = (0,0) (0,1) (1,0) (1,1) = 4;
			// TN = 16 - 8 = 8.
			// Dice = 4/10, IoU = 2/8, precision = 2/4, recall = 2/6, specificity = 8/10,
			// accuracy = 10/16.
			// class 0: TP = 8, FP = 4, FN = 2, TN = 2: Dice = 16/22, IoU = 8/14,
			// precision = 8/12, recall = 8/10, specificity = 2/6, accuracy = 10/16.
			name: "binary shifted",
			gt: []string{
				"1 1 1 0",
				"1 1 1 0",
				"0 0 0 0",
				"0 0 0 0",
			},
			pred: []string{
				"0 0 1 1",
				"0 0 1 1",
				"0 0 0 0",
				"0 0 0 0",
			},
			classes: 2, ignore: -1,
			counts: []Confusion{{TP: 8, FP: 4, FN: 2, TN: 2}, {TP: 2, FP: 2, FN: 4, TN: 8}},
			scores: []Scores{
				{Dice: 16.0 / 22, IoU: 8.0 / 14, Precision: 8.0 / 12, Recall: 8.0 / 10, Specificity: 2.0 / 6, Accuracy: 10.0 / 16},
				{Dice: 4.0 / 10, IoU: 2.0 / 8, Precision: 2.0 / 4, Recall: 2.0 / 6, Specificity: 8.0 / 10, Accuracy: 10.0 / 16},
			},
		},
		{
			// Three classes, ignore 255: the 3 pixels (2,2) (2,3) (3,3) are dropped, 13 count.
			// (gt, pred) pairs, row by row:
			//   (0,0) (0,1) (1,1) (1,1)
			//   (0,0) (0,0) (1,1) (1,2)
			//   (2,2) (2,2)  ign   ign     <- pred 0 and 1 under ignore count nowhere
			//   (2,2) (2,0) (2,2)  ign     <- pred 2 under ignore counts nowhere
			// class 0: TP 3, FN 1 (pred 1), FP 1 (gt 2 at (3,1)), TN 13-5 = 8:
			//   Dice 6/8, IoU 3/5, precision 3/4, recall 3/4, specificity 8/9, accuracy 11/13.
			// class 1: TP 3, FN 1 (pred 2 at (1,3)), FP 1 (gt 0 at (0,1)), TN 8: the same.
			// class 2: TP 4, FN 1 (pred 0 at (3,1)), FP 1 (gt 1 at (1,3)), TN 13-6 = 7:
			//   Dice 8/10, IoU 4/6, precision 4/5, recall 4/5, specificity 7/8,
			//   accuracy 11/13.
			name: "three classes with ignore",
			gt: []string{
				"0 0 1 1",
				"0 0 1 1",
				"2 2 255 255",
				"2 2 2 255",
			},
			pred: []string{
				"0 1 1 1",
				"0 0 1 2",
				"2 2 0 1",
				"2 0 2 2",
			},
			classes: 3, ignore: 255,
			counts: []Confusion{{TP: 3, FP: 1, FN: 1, TN: 8}, {TP: 3, FP: 1, FN: 1, TN: 8}, {TP: 4, FP: 1, FN: 1, TN: 7}},
			scores: []Scores{
				{Dice: 6.0 / 8, IoU: 3.0 / 5, Precision: 3.0 / 4, Recall: 3.0 / 4, Specificity: 8.0 / 9, Accuracy: 11.0 / 13},
				{Dice: 6.0 / 8, IoU: 3.0 / 5, Precision: 3.0 / 4, Recall: 3.0 / 4, Specificity: 8.0 / 9, Accuracy: 11.0 / 13},
				{Dice: 8.0 / 10, IoU: 4.0 / 6, Precision: 4.0 / 5, Recall: 4.0 / 5, Specificity: 7.0 / 8, Accuracy: 11.0 / 13},
			},
		},
		{
			// Values outside 0..classes-1 belong to no class in Count: the pred 7 at (0,1) is
			// a false negative of class 1 and nothing else; the gt 9 at (1,1) is not ignored
			// (ignore is none), so the pred 0 there is a false positive of class 0.
			// class 0: TP (1,0) = 1, FP (1,1) = 1, FN 0, TN 2.
			// class 1: TP (0,0) = 1, FN (0,1) = 1, FP 0, TN 2.
			name: "out of range is no class",
			gt: []string{
				"1 1",
				"0 9",
			},
			pred: []string{
				"1 7",
				"0 0",
			},
			classes: 2, ignore: -1,
			counts: []Confusion{{TP: 1, FP: 1, FN: 0, TN: 2}, {TP: 1, FP: 0, FN: 1, TN: 2}},
			scores: []Scores{
				{Dice: 2.0 / 3, IoU: 1.0 / 2, Precision: 1.0 / 2, Recall: 1, Specificity: 2.0 / 3, Accuracy: 3.0 / 4},
				{Dice: 2.0 / 3, IoU: 1.0 / 2, Precision: 1, Recall: 1.0 / 2, Specificity: 1, Accuracy: 3.0 / 4},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gt, _, _ := grid(t, tc.gt...)
			pred, _, _ := grid(t, tc.pred...)
			got := Count(pred, gt, tc.classes, tc.ignore)
			if len(got) != len(tc.counts) {
				t.Fatalf("got %d classes, want %d", len(got), len(tc.counts))
			}
			// The same through uint8 maps.
			g8, p8 := make([]uint8, len(gt)), make([]uint8, len(pred))
			for i := range gt {
				g8[i], p8[i] = uint8(gt[i]), uint8(pred[i])
			}
			got8 := Count(p8, g8, tc.classes, tc.ignore)
			for c := range got {
				if got[c] != tc.counts[c] {
					t.Errorf("class %d: counts %+v, want %+v", c, got[c], tc.counts[c])
				}
				if got8[c] != got[c] {
					t.Errorf("class %d: uint8 counts %+v, int32 %+v", c, got8[c], got[c])
				}
				want := tc.scores[c]
				want[HD95] = nan
				for _, p := range []EmptyPolicy{EmptyNaN, EmptyOne} {
					// No case here has a zero denominator: both policies agree.
					checkScores(t, "class "+strconv.Itoa(c)+" "+p.String(), ScoresOf(got[c], nan, p), want)
				}
			}
		})
	}
}

// TestEmptyMasks checks class 1 in every empty-mask case under both policies, HD95
// included.
func TestEmptyMasks(t *testing.T) {
	tests := []struct {
		name     string
		gt, pred []string
		ignore   int
		counts   Confusion
		nan, one Scores
	}{
		{
			// TP+FP+FN = 0: the policy decides Dice, IoU, precision, recall and HD95;
			// specificity 4/4 and accuracy 4/4 are defined.
			name: "both empty",
			gt:   []string{"0 0", "0 0"}, pred: []string{"0 0", "0 0"}, ignore: -1,
			counts: Confusion{TN: 4},
			nan:    Scores{Dice: nan, IoU: nan, Precision: nan, Recall: nan, Specificity: 1, Accuracy: 1, HD95: nan},
			one:    Scores{Dice: 1, IoU: 1, Precision: 1, Recall: 1, Specificity: 1, Accuracy: 1, HD95: 0},
		},
		{
			// FP on an empty gt: Dice 0/1, IoU 0/1, precision 0/1, recall 0/0 scored 0;
			// specificity 3/4, accuracy 3/4; HD95 undefined under both policies.
			name: "gt empty with FP",
			gt:   []string{"0 0", "0 0"}, pred: []string{"0 1", "0 0"}, ignore: -1,
			counts: Confusion{FP: 1, TN: 3},
			nan:    Scores{Dice: 0, IoU: 0, Precision: 0, Recall: 0, Specificity: 3.0 / 4, Accuracy: 3.0 / 4, HD95: nan},
			one:    Scores{Dice: 0, IoU: 0, Precision: 0, Recall: 0, Specificity: 3.0 / 4, Accuracy: 3.0 / 4, HD95: nan},
		},
		{
			// Empty prediction of a non-empty gt: precision 0/0 scored 0, recall 0/1;
			// specificity 3/3, accuracy 3/4; HD95 undefined.
			name: "pred empty with FN",
			gt:   []string{"0 1", "0 0"}, pred: []string{"0 0", "0 0"}, ignore: -1,
			counts: Confusion{FN: 1, TN: 3},
			nan:    Scores{Dice: 0, IoU: 0, Precision: 0, Recall: 0, Specificity: 1, Accuracy: 3.0 / 4, HD95: nan},
			one:    Scores{Dice: 0, IoU: 0, Precision: 0, Recall: 0, Specificity: 1, Accuracy: 3.0 / 4, HD95: nan},
		},
		{
			// The class covers everything in both: specificity 0/0 with TN+FP+FN = 0 is
			// the complement's "both empty", so the policy decides; the boundaries coincide,
			// HD95 0.
			name: "both full",
			gt:   []string{"1 1", "1 1"}, pred: []string{"1 1", "1 1"}, ignore: -1,
			counts: Confusion{TP: 4},
			nan:    Scores{Dice: 1, IoU: 1, Precision: 1, Recall: 1, Specificity: nan, Accuracy: 1, HD95: 0},
			one:    Scores{Dice: 1, IoU: 1, Precision: 1, Recall: 1, Specificity: 1, Accuracy: 1, HD95: 0},
		},
		{
			// gt full, one pixel missed: specificity 0/0 with FN = 1 scores 0 under both.
			// Dice 6/7, IoU 3/4, precision 3/3, recall 3/4, accuracy 3/4.
			// HD95: all 3 predicted pixels and all 4 gt pixels are on the image edge, so on
			// the boundary; distances pred->gt 0 0 0, gt->pred 0 0 0 and 1 for (1,1).
			// Sorted 0 0 0 0 0 0 1: index 0.95*6 = 5.7 between 0 and 1, HD95 = 0.7.
			name: "gt full, pred misses one",
			gt:   []string{"1 1", "1 1"}, pred: []string{"1 1", "1 0"}, ignore: -1,
			counts: Confusion{TP: 3, FN: 1},
			nan:    Scores{Dice: 6.0 / 7, IoU: 3.0 / 4, Precision: 1, Recall: 3.0 / 4, Specificity: 0, Accuracy: 3.0 / 4, HD95: 0.7},
			one:    Scores{Dice: 6.0 / 7, IoU: 3.0 / 4, Precision: 1, Recall: 3.0 / 4, Specificity: 0, Accuracy: 3.0 / 4, HD95: 0.7},
		},
		{
			// Every pixel ignored: nothing counted, so even accuracy is the policy's.
			name: "all ignored",
			gt:   []string{"255 255", "255 255"}, pred: []string{"1 0", "1 1"}, ignore: 255,
			counts: Confusion{},
			nan:    Scores{Dice: nan, IoU: nan, Precision: nan, Recall: nan, Specificity: nan, Accuracy: nan, HD95: nan},
			one:    Scores{Dice: 1, IoU: 1, Precision: 1, Recall: 1, Specificity: 1, Accuracy: 1, HD95: 0},
		},
		{
			// The predicted pixel lies under the ignore value: it counts nowhere, so class
			// 1 is empty on both sides.
			name: "FP only under ignore",
			gt:   []string{"0 255", "0 0"}, pred: []string{"0 1", "0 0"}, ignore: 255,
			counts: Confusion{TN: 3},
			nan:    Scores{Dice: nan, IoU: nan, Precision: nan, Recall: nan, Specificity: 1, Accuracy: 1, HD95: nan},
			one:    Scores{Dice: 1, IoU: 1, Precision: 1, Recall: 1, Specificity: 1, Accuracy: 1, HD95: 0},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gt, w, h := grid(t, tc.gt...)
			pred, _, _ := grid(t, tc.pred...)
			for _, p := range []EmptyPolicy{EmptyNaN, EmptyOne} {
				r, err := Evaluate("x", pred, gt, w, h, 2, tc.ignore, p)
				if err != nil {
					t.Fatal(err)
				}
				if r.Counts[1] != tc.counts {
					t.Errorf("%v: counts %+v, want %+v", p, r.Counts[1], tc.counts)
				}
				want := tc.nan
				if p == EmptyOne {
					want = tc.one
				}
				checkScores(t, p.String(), r.Scores[1], want)
			}
		})
	}
}

func TestEmptyPolicyText(t *testing.T) {
	for _, p := range []EmptyPolicy{EmptyNaN, EmptyOne} {
		b, err := p.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var q EmptyPolicy
		if err := q.UnmarshalText(b); err != nil || q != p {
			t.Errorf("%v: round trip gave %v, %v", p, q, err)
		}
		if r, err := ParseEmptyPolicy(p.String()); err != nil || r != p {
			t.Errorf("ParseEmptyPolicy(%q) = %v, %v", p.String(), r, err)
		}
	}
	if _, err := ParseEmptyPolicy("zero"); err == nil {
		t.Error("ParseEmptyPolicy(zero) succeeded")
	}
	if _, err := EmptyPolicy(5).MarshalText(); err == nil {
		t.Error("MarshalText of an invalid policy succeeded")
	}
}

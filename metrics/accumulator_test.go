package metrics

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Three 4x4 binary images for the summary tests:
//
//	a: the "binary 4x4" case of TestCountAndScores: class 1 counts TP 3, FP 1, FN 1, TN 11,
//	   Dice 3/4, IoU 3/5. HD95: gt is the 2x2 square at rows/cols 1-2, pred the pixels
//	   (1,1) (1,2) (1,3) (2,2), all on both boundaries; pred->gt 0 0 1 0, gt->pred
//	   0 0 1 0; sorted 0 x6, 1 x2, index 0.95*7 = 6.65: 1.
//	b: both empty: TN 16.
//	c: gt empty, one false positive: FP 1, TN 15.
var (
	imgA = [2][]string{
		{"0 0 0 0", "0 1 1 0", "0 1 1 0", "0 0 0 0"}, // gt
		{"0 0 0 0", "0 1 1 1", "0 0 1 0", "0 0 0 0"}, // pred
	}
	imgB = [2][]string{
		{"0 0 0 0", "0 0 0 0", "0 0 0 0", "0 0 0 0"},
		{"0 0 0 0", "0 0 0 0", "0 0 0 0", "0 0 0 0"},
	}
	imgC = [2][]string{
		{"0 0 0 0", "0 0 0 0", "0 0 0 0", "0 0 0 0"},
		{"0 0 0 0", "0 0 0 0", "0 0 1 0", "0 0 0 0"},
	}
)

func accumulate(t *testing.T, classes []Class, ignore int, p EmptyPolicy, imgs map[string][2][]string, order ...string) *Accumulator {
	t.Helper()
	a, err := NewAccumulator(classes, ignore, p)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range order {
		gt, w, h := grid(t, imgs[name][0]...)
		pred, _, _ := grid(t, imgs[name][1]...)
		if err := a.Add(name, pred, gt, w, h); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

func checkStat(t *testing.T, what string, got, want Stat) {
	t.Helper()
	if !same(float64(got.Mean), float64(want.Mean)) || !same(float64(got.Std), float64(want.Std)) ||
		!same(float64(got.Dataset), float64(want.Dataset)) || got.N != want.N || got.Excluded != want.Excluded {
		t.Errorf("%s = %+v, want %+v", what, got, want)
	}
}

// TestSummaryPolicies reduces images a, b and c under both policies.
func TestSummaryPolicies(t *testing.T) {
	imgs := map[string][2][]string{"a": imgA, "b": imgB, "c": imgC}
	// Summed class-1 counts: TP 3, FP 1+1, FN 1, TN 11+16+15 = 42.
	// Dataset Dice 6/9, IoU 3/6, precision 3/5, recall 3/4, specificity 42/44, accuracy
	// 45/48, under both policies (the sum is not empty).
	sum := Confusion{TP: 3, FP: 2, FN: 1, TN: 42}
	tests := []struct {
		policy                    EmptyPolicy
		dice, iou, recall, hd95   Stat
		accuracy                  Stat
		foregroundDice, foreIoU   float64
		foreDatasetDice, foreHD95 float64
	}{
		{
			// nan: b is left out of Dice, IoU and recall; Dice over a and c: 3/4 and 0,
			// mean 3/8, population std 3/8. IoU 3/5 and 0: mean 3/10, std 3/10.
			// Recall 3/4 and 0 (c's FP on an empty gt scores 0): mean 3/8, std 3/8.
			// HD95: only a's 1 is defined (b both empty, c one-sided): mean 1, std 0.
			// Accuracy is defined everywhere: 14/16, 16/16, 15/16: mean 15/16,
			// deviations -1/16, 1/16, 0: std sqrt(2/3)/16.
			policy:          EmptyNaN,
			dice:            Stat{Mean: 3.0 / 8, Std: 3.0 / 8, Dataset: 6.0 / 9, N: 2, Excluded: 1},
			iou:             Stat{Mean: 3.0 / 10, Std: 3.0 / 10, Dataset: 3.0 / 6, N: 2, Excluded: 1},
			recall:          Stat{Mean: 3.0 / 8, Std: 3.0 / 8, Dataset: 3.0 / 4, N: 2, Excluded: 1},
			hd95:            Stat{Mean: 1, Std: 0, Dataset: Float(nan), N: 1, Excluded: 2},
			accuracy:        Stat{Mean: 15.0 / 16, Std: Float(math.Sqrt(2.0/3) / 16), Dataset: 45.0 / 48, N: 3},
			foregroundDice:  3.0 / 8,
			foreIoU:         3.0 / 10,
			foreDatasetDice: 6.0 / 9,
			foreHD95:        1,
		},
		{
			// one: b scores 1. Dice 3/4, 1, 0: mean 7/12, deviations 1/6, 5/12, -7/12,
			// squares 4/144 + 25/144 + 49/144 = 78/144, std sqrt(78/144/3) = sqrt(13/72).
			// IoU 3/5, 1, 0: mean 8/15, deviations 1/15, 7/15, -8/15: squares
			// (1+49+64)/225 = 114/225, std sqrt(114/675).
			// HD95: a 1, b 0, c still undefined: mean 1/2, std 1/2.
			policy:          EmptyOne,
			dice:            Stat{Mean: 7.0 / 12, Std: Float(math.Sqrt(13.0 / 72)), Dataset: 6.0 / 9, N: 3},
			iou:             Stat{Mean: 8.0 / 15, Std: Float(math.Sqrt(114.0 / 675)), Dataset: 3.0 / 6, N: 3},
			recall:          Stat{Mean: 7.0 / 12, Std: Float(math.Sqrt(13.0 / 72)), Dataset: 3.0 / 4, N: 3},
			hd95:            Stat{Mean: 0.5, Std: 0.5, Dataset: Float(nan), N: 2, Excluded: 1},
			accuracy:        Stat{Mean: 15.0 / 16, Std: Float(math.Sqrt(2.0/3) / 16), Dataset: 45.0 / 48, N: 3},
			foregroundDice:  7.0 / 12,
			foreIoU:         8.0 / 15,
			foreDatasetDice: 6.0 / 9,
			foreHD95:        0.5,
		},
	}
	for _, tc := range tests {
		t.Run(tc.policy.String(), func(t *testing.T) {
			a := accumulate(t, Binary(), -1, tc.policy, imgs, "a", "b", "c")
			s := a.Summary()
			if s.Images != 3 || s.EmptyPolicy != tc.policy || s.Ignore != -1 || len(s.Classes) != 2 {
				t.Fatalf("summary header %d images, %v, ignore %d, %d classes", s.Images, s.EmptyPolicy, s.Ignore, len(s.Classes))
			}
			fg := s.Classes[1]
			if fg.Index != 1 || fg.Value != 255 || fg.Name != "foreground" {
				t.Errorf("class 1 is %d/%d/%q", fg.Index, fg.Value, fg.Name)
			}
			if fg.Counts != sum {
				t.Errorf("summed counts %+v, want %+v", fg.Counts, sum)
			}
			if fg.Empty != 1 {
				t.Errorf("empty images %d, want 1", fg.Empty)
			}
			checkStat(t, "dice", fg.Stats[Dice], tc.dice)
			checkStat(t, "iou", fg.Stats[IoU], tc.iou)
			checkStat(t, "recall", fg.Stats[Recall], tc.recall)
			checkStat(t, "hd95", fg.Stats[HD95], tc.hd95)
			checkStat(t, "accuracy", fg.Stats[Accuracy], tc.accuracy)
			if got := float64(s.ForegroundMean[Dice]); !same(got, tc.foregroundDice) {
				t.Errorf("foreground mean dice %v, want %v", got, tc.foregroundDice)
			}
			if got := float64(s.ForegroundMean[IoU]); !same(got, tc.foreIoU) {
				t.Errorf("foreground mean iou %v, want %v", got, tc.foreIoU)
			}
			if got := float64(s.ForegroundMean[HD95]); !same(got, tc.foreHD95) {
				t.Errorf("foreground mean hd95 %v, want %v", got, tc.foreHD95)
			}
			if got := float64(s.ForegroundDataset[Dice]); !same(got, tc.foreDatasetDice) {
				t.Errorf("foreground dataset dice %v, want %v", got, tc.foreDatasetDice)
			}
			if !s.ForegroundDataset[HD95].IsNaN() {
				t.Errorf("foreground dataset hd95 %v, want NaN", s.ForegroundDataset[HD95])
			}
		})
	}
}

// TestDatasetVersusMean: a large object found exactly and a one-pixel object missed.
// Image 1: class 1 covers rows 0-1 (8 pixels), predicted exactly: TP 8, Dice 1, IoU 1.
// Image 2: class 1 is the pixel (3,3), predicted at (0,0): TP 0, FP 1, FN 1, Dice 0, IoU 0.
// Mean over images: Dice 1/2 (std 1/2), IoU 1/2, precision 1/2, recall 1/2.
// Dataset: TP 8, FP 1, FN 1: Dice 16/18, IoU 8/10, precision 8/9, recall 8/9.
func TestDatasetVersusMean(t *testing.T) {
	imgs := map[string][2][]string{
		"big": {
			{"1 1 1 1", "1 1 1 1", "0 0 0 0", "0 0 0 0"},
			{"1 1 1 1", "1 1 1 1", "0 0 0 0", "0 0 0 0"},
		},
		"small": {
			{"0 0 0 0", "0 0 0 0", "0 0 0 0", "0 0 0 1"},
			{"1 0 0 0", "0 0 0 0", "0 0 0 0", "0 0 0 0"},
		},
	}
	a := accumulate(t, Binary(), -1, EmptyNaN, imgs, "big", "small")
	fg := a.Summary().Classes[1]
	checkStat(t, "dice", fg.Stats[Dice], Stat{Mean: 0.5, Std: 0.5, Dataset: 16.0 / 18, N: 2})
	checkStat(t, "iou", fg.Stats[IoU], Stat{Mean: 0.5, Std: 0.5, Dataset: 8.0 / 10, N: 2})
	checkStat(t, "precision", fg.Stats[Precision], Stat{Mean: 0.5, Std: 0.5, Dataset: 8.0 / 9, N: 2})
	checkStat(t, "recall", fg.Stats[Recall], Stat{Mean: 0.5, Std: 0.5, Dataset: 8.0 / 9, N: 2})
}

// TestMultiClassSummary runs the three-class case of TestCountAndScores (ignore 255) through
// AddUint8: the foreground mean is over classes 1 and 2 only.
func TestMultiClassSummary(t *testing.T) {
	gt32, w, h := grid(t, "0 0 1 1", "0 0 1 1", "2 2 255 255", "2 2 2 255")
	pred32, _, _ := grid(t, "0 1 1 1", "0 0 1 2", "2 2 0 1", "2 0 2 2")
	gt, pred := make([]uint8, len(gt32)), make([]uint8, len(pred32))
	for i := range gt {
		gt[i], pred[i] = uint8(gt32[i]), uint8(pred32[i])
	}
	classes := []Class{{0, "background"}, {128, "liver"}, {255, "tumour"}}
	a, err := NewAccumulator(classes, 255, EmptyNaN)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.AddUint8("m", pred, gt, w, h); err != nil {
		t.Fatal(err)
	}
	s := a.Summary()
	// Dice: class 0 3/4, class 1 3/4, class 2 4/5; foreground (1, 2): 31/40.
	// IoU: 3/5, 3/5, 4/6; foreground: (3/5 + 2/3)/2 = 19/30.
	for c, want := range []float64{3.0 / 4, 3.0 / 4, 4.0 / 5} {
		checkStat(t, fmt.Sprint("dice ", c), s.Classes[c].Stats[Dice], Stat{Mean: Float(want), Std: 0, Dataset: Float(want), N: 1})
	}
	if got := float64(s.ForegroundMean[Dice]); !same(got, 31.0/40) {
		t.Errorf("foreground dice %v, want 31/40", got)
	}
	if got := float64(s.ForegroundMean[IoU]); !same(got, 19.0/30) {
		t.Errorf("foreground iou %v, want 19/30", got)
	}
	if s.Ignore != 255 || s.Classes[2].Value != 255 || s.Classes[1].Name != "liver" {
		t.Errorf("summary labels: ignore %d, class 2 value %d, class 1 name %q", s.Ignore, s.Classes[2].Value, s.Classes[1].Name)
	}
}

// TestForegroundSkipsUndefined: under nan a class absent from every image has no mean, and
// the foreground mean is over the classes that have one.
func TestForegroundSkipsUndefined(t *testing.T) {
	imgs := map[string][2][]string{
		// class 1: gt at (0,0), pred at (0,0) and (0,1): TP 1, FP 1, Dice 2/3.
		// class 2 appears nowhere.
		"x": {{"1 0", "0 0"}, {"1 1", "0 0"}},
	}
	a := accumulate(t, []Class{{0, "bg"}, {1, "a"}, {2, "b"}}, -1, EmptyNaN, imgs, "x")
	s := a.Summary()
	if !s.Classes[2].Stats[Dice].Mean.IsNaN() || s.Classes[2].Stats[Dice].Excluded != 1 {
		t.Errorf("absent class dice %+v, want NaN with 1 excluded", s.Classes[2].Stats[Dice])
	}
	if got := float64(s.ForegroundMean[Dice]); !same(got, 2.0/3) {
		t.Errorf("foreground dice %v, want 2/3", got)
	}
	// With a single class there is no foreground.
	b := accumulate(t, []Class{{0, "only"}}, -1, EmptyNaN, map[string][2][]string{"y": {{"0"}, {"0"}}}, "y")
	if fm := b.Summary().ForegroundMean; !fm[Dice].IsNaN() {
		t.Errorf("single-class foreground dice %v, want NaN", fm[Dice])
	}
}

func TestAddErrors(t *testing.T) {
	a, err := NewAccumulator([]Class{{0, "a"}, {1, "b"}, {2, "c"}}, 255, EmptyNaN)
	if err != nil {
		t.Fatal(err)
	}
	ok := []int32{0, 1, 2, 255}
	tests := []struct {
		name     string
		pred, gt []int32
		w, h     int
		fails    bool
	}{
		{"valid", ok, ok, 2, 2, false},
		{"pred ignore value is allowed", []int32{255, 1, 2, 0}, ok, 2, 2, false},
		{"pred class out of range", []int32{3, 1, 2, 0}, ok, 2, 2, true},
		{"gt value out of range", ok, []int32{0, 1, 254, 0}, 2, 2, true},
		{"negative value", []int32{-1, 1, 2, 0}, ok, 2, 2, true},
		{"wrong length", ok, ok, 3, 2, true},
		{"lengths differ", ok, ok[:3], 2, 2, true},
		{"zero size", nil, nil, 0, 0, true},
	}
	for _, tc := range tests {
		if err := a.Add(tc.name, tc.pred, tc.gt, tc.w, tc.h); (err != nil) != tc.fails {
			t.Errorf("%s: error %v, want failure %v", tc.name, err, tc.fails)
		}
	}
	if n := len(a.Images()); n != 2 {
		t.Errorf("%d images recorded, want the 2 valid ones", n)
	}
	if _, err := NewAccumulator(nil, -1, EmptyNaN); err == nil {
		t.Error("NewAccumulator without classes succeeded")
	}
	if _, err := NewAccumulator(Binary(), -1, EmptyPolicy(9)); err == nil {
		t.Error("NewAccumulator with an invalid policy succeeded")
	}
	if err := a.AddResult(ImageResult{Name: "short", Counts: make([]Confusion, 2), Scores: make([]Scores, 2)}); err == nil {
		t.Error("AddResult with 2 classes of 3 succeeded")
	}
}

// TestSummaryJSON checks the JSON shape: keys, the class value, null for undefined values.
func TestSummaryJSON(t *testing.T) {
	imgs := map[string][2][]string{"a": imgA, "b": imgB, "c": imgC}
	a := accumulate(t, Binary(), -1, EmptyNaN, imgs, "a", "b", "c")
	var buf bytes.Buffer
	if err := a.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatalf("%v\n%s", err, buf.Bytes())
	}
	for _, k := range []string{"images", "empty_policy", "ignore", "classes", "foreground_mean", "foreground_dataset"} {
		if _, ok := m[k]; !ok {
			t.Errorf("summary lacks %q", k)
		}
	}
	if m["images"] != 3.0 || m["empty_policy"] != "nan" || m["ignore"] != -1.0 {
		t.Errorf("images %v, empty_policy %v, ignore %v", m["images"], m["empty_policy"], m["ignore"])
	}
	classes, ok := m["classes"].([]any)
	if !ok || len(classes) != 2 {
		t.Fatalf("classes = %v", m["classes"])
	}
	fg := classes[1].(map[string]any)
	if fg["value"] != 255.0 || fg["name"] != "foreground" || fg["index"] != 1.0 || fg["empty"] != 1.0 {
		t.Errorf("class 1 = value %v name %v index %v empty %v", fg["value"], fg["name"], fg["index"], fg["empty"])
	}
	// The names eval.json has always had: a literal list, not the registry, so that a
	// renamed or dropped metric fails here.
	for _, metric := range []string{"dice", "iou", "precision", "recall", "specificity", "accuracy", "hd95"} {
		st, ok := fg[metric].(map[string]any)
		if !ok {
			t.Errorf("class 1 lacks %q", metric)
			continue
		}
		for _, k := range []string{"mean", "std", "dataset", "n", "excluded"} {
			if _, ok := st[k]; !ok {
				t.Errorf("class 1 %s lacks %q", metric, k)
			}
		}
	}
	if d := fg["dice"].(map[string]any); d["mean"] != 0.375 || d["excluded"] != 1.0 {
		t.Errorf("dice = %v", d)
	}
	if h := fg["hd95"].(map[string]any); h["dataset"] != nil || h["mean"] != 1.0 {
		t.Errorf("hd95 = %v, want dataset null and mean 1", h)
	}
	if c := fg["counts"].(map[string]any); c["tp"] != 3.0 || c["fp"] != 2.0 || c["fn"] != 1.0 || c["tn"] != 42.0 {
		t.Errorf("counts = %v", c)
	}
	fm := m["foreground_mean"].(map[string]any)
	if fm["dice"] != 0.375 || fm["iou"] != 0.3 {
		t.Errorf("foreground_mean = %v", fm)
	}
	// Round trip through the struct: null comes back as NaN.
	var s Summary
	if err := json.Unmarshal(buf.Bytes(), &s); err != nil {
		t.Fatal(err)
	}
	if s.EmptyPolicy != EmptyNaN || !s.Classes[1].Stats[HD95].Dataset.IsNaN() || s.Classes[1].Stats[Dice].Mean != 0.375 {
		t.Errorf("round trip: %+v", s.Classes[1])
	}
}

func TestFloatJSON(t *testing.T) {
	for _, tc := range []struct {
		f    Float
		want string
	}{{Float(nan), "null"}, {Float(math.Inf(1)), "null"}, {0.5, "0.5"}, {3, "3"}, {1e-7, "1e-7"}} {
		b, err := json.Marshal(tc.f)
		if err != nil || string(b) != tc.want {
			t.Errorf("Marshal(%v) = %s, %v; want %s", float64(tc.f), b, err, tc.want)
		}
	}
	var f Float
	if err := json.Unmarshal([]byte("null"), &f); err != nil || !f.IsNaN() {
		t.Errorf("null read as %v, %v", f, err)
	}
	if err := json.Unmarshal([]byte("2.25"), &f); err != nil || f != 2.25 {
		t.Errorf("2.25 read as %v, %v", f, err)
	}
}

// TestWriteCSV checks the header and the rows of images a and b under nan.
func TestWriteCSV(t *testing.T) {
	imgs := map[string][2][]string{"a": imgA, "b": imgB}
	a := accumulate(t, Binary(), -1, EmptyNaN, imgs, "a", "b")
	var buf bytes.Buffer
	if err := a.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"image,class_index,class_value,class,tp,fp,fn,tn,dice,iou,precision,recall,specificity,accuracy,hd95",
		// a, background: the mirror of class 1's counts. HD95: the gt background's
		// boundary is the 12 edge pixels; the predicted background's is the 11 edge
		// pixels other than (1,3), plus (2,1), next to the predicted (1,1). pred->gt:
		// 0 x11 and 1 for (2,1); gt->pred: 0 x11 and 1 for (1,3). Sorted: 0 x22, 1 x2;
		// index 0.95*23 = 21.85 between 0 and 1: 0.85.
		"a,0,0,background,11,1,1,3,0.9166666666666666,0.8461538461538461,0.9166666666666666,0.9166666666666666,0.75,0.875,0.85",
		"a,1,255,foreground,3,1,1,11,0.75,0.6,0.75,0.75,0.9166666666666666,0.875,1",
		// b, background everywhere on both sides: specificity undefined (no negatives
		// on either side); HD95 0 (the same boundary).
		"b,0,0,background,16,0,0,0,1,1,1,1,nan,1,0",
		"b,1,255,foreground,0,0,0,16,nan,nan,nan,nan,1,1,nan",
	}
	got := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(got) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(got), len(want), buf.String())
	}
	if got[0] != want[0] {
		t.Errorf("header %s, want %s", got[0], want[0])
	}
	for i := 1; i < len(want); i++ {
		g, w := strings.Split(got[i], ","), strings.Split(want[i], ",")
		if len(g) != len(w) {
			t.Errorf("line %d has %d fields, want %d: %s", i, len(g), len(w), got[i])
			continue
		}
		for j := range w {
			if j < 8 || w[j] == "nan" {
				if g[j] != w[j] {
					t.Errorf("line %d field %d = %s, want %s", i, j, g[j], w[j])
				}
				continue
			}
			gv, err1 := strconv.ParseFloat(g[j], 64)
			wv, err2 := strconv.ParseFloat(w[j], 64)
			if err1 != nil || err2 != nil || !same(gv, wv) {
				t.Errorf("line %d field %d = %s, want %s", i, j, g[j], w[j])
			}
		}
	}
}

// TestConcurrentAdd adds images from several goroutines.
func TestConcurrentAdd(t *testing.T) {
	a, err := NewAccumulator(Binary(), -1, EmptyOne)
	if err != nil {
		t.Fatal(err)
	}
	gt, w, h := grid(t, imgA[0]...)
	pred, _, _ := grid(t, imgA[1]...)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			if err := a.Add(fmt.Sprint(i), pred, gt, w, h); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	s := a.Summary()
	if s.Images != 16 || s.Classes[1].Stats[Dice].Mean != 0.75 || s.Classes[1].Counts.TP != 48 {
		t.Errorf("%d images, dice %v, TP %d", s.Images, s.Classes[1].Stats[Dice].Mean, s.Classes[1].Counts.TP)
	}
}

package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/segment-dev/segment/internal/atomicfile"
)

// maskOf draws the rectangles [x0, y0, x1, y1) (ends excluded) in 255 on a w x h mask.
func maskOf(w, h int, rects ...[4]int) []uint8 {
	pix := make([]uint8, w*h)
	for _, r := range rects {
		for y := r[1]; y < r[3]; y++ {
			for x := r[0]; x < r[2]; x++ {
				pix[y*w+x] = 255
			}
		}
	}
	return pix
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

type instancesJSON struct {
	Instances *struct {
		Images                int
		Precision, Recall, F1 *float64
		DSB                   *float64 `json:"dsb"`
		Pred, GT, TP, FP, FN  int
		Merges, Splits        int
		GTLabels              bool `json:"gt_label_images"`
	} `json:"instances"`
}

func runEvalObjects(t *testing.T, args ...string) (rows [][]string, r instancesJSON) {
	t.Helper()
	out := t.TempDir()
	code, _, errOut := runCmd(append([]string{"eval", "--out", out, "-q", "--mask-values", "0,255"}, args...)...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	data, err := os.ReadFile(filepath.Join(out, "eval.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	return readCSV(t, filepath.Join(out, "eval.csv")), r
}

// Object scores of hand-made masks, worked out by hand. Ground truth: A, 3x3; B, 2x2; C,
// 2x1. Prediction: A exactly (IoU 1); B grown to 2x3 (IoU 4/6); a speck D. At IoU 0.5: TP 2
// (A, B), FP 1 (D), FN 1 (C): precision, recall and F1 2/3. DSB: B matches at the 4
// thresholds below 2/3 (TP 2, FP 1, FN 1: 2/4) and not at the 6 others (TP 1, FP 2, FN 2:
// 1/5), so (4*0.5 + 6*0.2)/10 = 0.32. The pixel columns are those of eval without
// --instances, byte for byte.
func TestEvalInstancesByHand(t *testing.T) {
	dir := t.TempDir()
	pred, gt := filepath.Join(dir, "pred.png"), filepath.Join(dir, "gt.png")
	writeGrayPNG(t, gt, 10, 10, maskOf(10, 10, [4]int{1, 1, 4, 4}, [4]int{6, 6, 8, 8}, [4]int{0, 9, 2, 10}))
	writeGrayPNG(t, pred, 10, 10, maskOf(10, 10, [4]int{1, 1, 4, 4}, [4]int{6, 6, 8, 9}, [4]int{9, 0, 10, 1}))
	rows, r := runEvalObjects(t, "--pred", pred, "--gt", gt, "--instances")
	plain, _ := runEvalObjects(t, "--pred", pred, "--gt", gt)
	s := r.Instances
	if s == nil {
		t.Fatal("eval.json has no instances object")
	}
	if s.Images != 1 || s.Pred != 3 || s.GT != 3 || s.TP != 2 || s.FP != 1 || s.FN != 1 || s.Merges != 0 || s.Splits != 0 {
		t.Errorf("counts %+v", *s)
	}
	near(t, "precision", s.Precision, 2.0/3)
	near(t, "recall", s.Recall, 2.0/3)
	near(t, "F1", s.F1, 2.0/3)
	near(t, "DSB", s.DSB, 0.32)
	if len(rows) != len(plain) {
		t.Fatalf("%d rows, %d without --instances", len(rows), len(plain))
	}
	for k := range rows {
		n := len(plain[k])
		if !slices.Equal(rows[k][:n], plain[k]) {
			t.Errorf("row %d: %q, without --instances %q", k, rows[k][:n], plain[k])
		}
		extra := rows[k][n:]
		if k == 0 {
			if !slices.Equal(extra, objectColumns) {
				t.Errorf("header: object columns %q", extra)
			}
			continue
		}
		for c, want := range []float64{3, 3, 2, 1, 1, 2.0 / 3, 2.0 / 3, 2.0 / 3, 0.32, 0, 0} {
			got, err := strconv.ParseFloat(extra[c], 64)
			if err != nil || math.Abs(got-want) > 1e-9 {
				t.Errorf("row %d: %s is %q, want %g", k, objectColumns[c], extra[c], want)
			}
		}
	}
}

// Ground truth as a label image: two touching 2x2 objects (ids 7 and 9) that the prediction
// covers as one 2x4 object. Each has IoU 4/8, not above 0.5: no match, one merge, FP 1,
// FN 2, DSB 0. Read as a semantic mask instead, the two are one object, matched exactly.
func TestEvalInstancesLabelImage(t *testing.T) {
	dir := t.TempDir()
	pred, gt := filepath.Join(dir, "pred.png"), filepath.Join(dir, "gt.png")
	labels := image.NewGray16(image.Rect(0, 0, 6, 4))
	for y := 1; y < 3; y++ {
		for x := 1; x < 5; x++ {
			id := uint16(7)
			if x >= 3 {
				id = 9
			}
			labels.SetGray16(x, y, color.Gray16{Y: id})
		}
	}
	if err := atomicfile.WritePNG(gt, labels); err != nil {
		t.Fatal(err)
	}
	writeGrayPNG(t, pred, 6, 4, maskOf(6, 4, [4]int{1, 1, 5, 3}))
	_, r := runEvalObjects(t, "--pred", pred, "--gt", gt, "--instances", "--gt-instances", "--mask-values", "0,255")
	s := r.Instances
	if s == nil || !s.GTLabels || s.Pred != 1 || s.GT != 2 || s.TP != 0 || s.FP != 1 || s.FN != 2 || s.Merges != 1 {
		t.Fatalf("instances %+v", s)
	}
	near(t, "DSB", s.DSB, 0)
	near(t, "F1", s.F1, 0)
}

// Two touching discs: the ground truth has them as two objects (a label image, split at
// the midline), the prediction as one foreground region. Without --split that region is
// one object holding both (a merge); with --split the watershed
// cuts it into two of nearly equal area that match the two discs.
func TestEvalInstancesSplit(t *testing.T) {
	const w, h = 128, 128
	dir := t.TempDir()
	pred, gt := filepath.Join(dir, "pred.png"), filepath.Join(dir, "gt.png")
	labels := image.NewGray16(image.Rect(0, 0, w, h))
	fg := make([]uint8, w*h)
	for y := range h {
		for x := range w {
			for id, cx := range []int{50, 76} {
				if (x-cx)*(x-cx)+(y-64)*(y-64) <= 15*15 {
					fg[y*w+x] = 255
					if (x < 63) == (id == 0) {
						labels.SetGray16(x, y, color.Gray16{Y: uint16(id + 1)})
					}
				}
			}
		}
	}
	if err := atomicfile.WritePNG(gt, labels); err != nil {
		t.Fatal(err)
	}
	writeGrayPNG(t, pred, w, h, fg)
	args := []string{"--pred", pred, "--gt", gt, "--instances", "--gt-instances"}
	_, r := runEvalObjects(t, args...)
	// The merged region holds half of itself in each disc: it may match one of them, at
	// an IoU near 0.5, but never both.
	if s := r.Instances; s == nil || s.Pred != 1 || s.GT != 2 || s.TP > 1 || s.FN < 1 || s.Merges != 1 {
		t.Fatalf("without --split: instances %+v, want the two discs as one merged object", s)
	}
	_, r = runEvalObjects(t, append(args, "--split", "--split-distance", "10")...)
	if s := r.Instances; s == nil || s.Pred != 2 || s.GT != 2 || s.TP != 2 || s.FP != 0 || s.FN != 0 || s.Merges != 0 {
		t.Fatalf("with --split: instances %+v, want both discs matched", s)
	}
	near(t, "F1 with --split", r.Instances.F1, 1)

	code, _, errOut := runCmd("eval", "--pred", pred, "--gt", gt, "--split")
	if code != exitUsage || !strings.Contains(errOut, "--instances") {
		t.Errorf("--split without --instances: exit %d, %q; want a usage error naming --instances", code, errOut)
	}
}

// eval --data --instances scores the objects of every image the model predicts, and leaves
// the pixel columns and the pixel summary as they are without it.
func TestEvalInstancesModel(t *testing.T) {
	rows, r := runEvalObjects(t, "--data", "../../sample_data/val", "--instances")
	plain, _ := runEvalObjects(t, "--data", "../../sample_data/val")
	s := r.Instances
	if s == nil || s.Images != 8 || s.GT == 0 || s.F1 == nil || *s.F1 <= 0 || *s.F1 > 1 || s.DSB == nil || *s.DSB > *s.F1 {
		t.Fatalf("instances %+v", s)
	}
	if len(rows) != len(plain) {
		t.Fatalf("%d rows, %d without --instances", len(rows), len(plain))
	}
	for k := range rows {
		if n := len(plain[k]); len(rows[k]) != n+len(objectColumns) || !slices.Equal(rows[k][:n], plain[k]) {
			t.Errorf("row %d: %q, without --instances %q", k, rows[k], plain[k])
		}
	}
}

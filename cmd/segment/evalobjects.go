package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"github.com/segment-dev/segment/dataset"
	"io"
	"math"
	"slices"
	"strconv"

	"github.com/segment-dev/segment/metrics"
	"github.com/segment-dev/segment/predict"
)

// objectColumns are the columns eval --instances adds to eval.csv: the image's object
// scores, the same on each of its class rows.
var objectColumns = []string{"objects_pred", "objects_gt", "objects_tp", "objects_fp", "objects_fn",
	"objects_precision", "objects_recall", "objects_f1", "objects_dsb", "objects_merges", "objects_splits"}

// instancesSummary is the "instances" object of eval.json: the means over the images of
// their object scores, and the counts summed over them.
type instancesSummary struct {
	Images     int           `json:"images"`
	GTLabels   bool          `json:"gt_label_images"`
	Precision  metrics.Float `json:"precision"`
	Recall     metrics.Float `json:"recall"`
	F1         metrics.Float `json:"f1"`
	DSB        metrics.Float `json:"dsb"`
	Pred       int           `json:"pred"`
	GT         int           `json:"gt"`
	TP         int           `json:"tp"`
	FP         int           `json:"fp"`
	FN         int           `json:"fn"`
	Merges     int           `json:"merges"`
	Splits     int           `json:"splits"`
	IoU        float64       `json:"iou_threshold"`
	Thresholds string        `json:"dsb_thresholds"`
}

// summarizeObjects gives the instances object of the images scored, summed in the order of
// acc's images (the data list's, in a run and in a merge of shards alike), so that the
// means are the same to the last bit whatever order the images were scored in.
func summarizeObjects(objs *predict.ObjectScores, acc *metrics.Accumulator, gtLabels bool) *instancesSummary {
	s := &instancesSummary{GTLabels: gtLabels, IoU: 0.5, Thresholds: "0.5:0.95:0.05"}
	for _, im := range acc.Images() {
		r, ok := objs.Get(im.Name)
		if !ok {
			continue // its objects could not be scored, and it is counted as failed
		}
		s.Images++
		s.Precision += metrics.Float(r.Precision)
		s.Recall += metrics.Float(r.Recall)
		s.F1 += metrics.Float(r.F1)
		s.DSB += metrics.Float(r.DSB)
		s.Pred += r.Pred
		s.GT += r.GT
		s.TP += r.TP
		s.FP += r.FP
		s.FN += r.FN
		s.Merges += r.Merges
		s.Splits += r.Splits
	}
	if s.Images == 0 {
		nan := metrics.Float(math.NaN())
		s.Precision, s.Recall, s.F1, s.DSB = nan, nan, nan, nan
		return s
	}
	n := metrics.Float(s.Images)
	s.Precision, s.Recall, s.F1, s.DSB = s.Precision/n, s.Recall/n, s.F1/n, s.DSB/n
	return s
}

// evalCSV writes eval.csv: acc's rows, and with objs each row's image's object scores in
// objectColumns (empty for an image whose objects were not scored).
func evalCSV(acc *metrics.Accumulator, objs *predict.ObjectScores) func(io.Writer) error {
	if objs == nil {
		return acc.WriteCSV
	}
	return func(w io.Writer) error {
		var buf bytes.Buffer
		if err := acc.WriteCSV(&buf); err != nil {
			return err
		}
		rows, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			return err
		}
		cw := csv.NewWriter(w)
		f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
		for k, row := range rows {
			switch r, ok := objs.Get(row[0]); {
			case k == 0:
				row = append(row, objectColumns...)
			case ok:
				row = append(row, strconv.Itoa(r.Pred), strconv.Itoa(r.GT), strconv.Itoa(r.TP), strconv.Itoa(r.FP), strconv.Itoa(r.FN),
					f(r.Precision), f(r.Recall), f(r.F1), f(r.DSB), strconv.Itoa(r.Merges), strconv.Itoa(r.Splits))
			default:
				row = append(row, make([]string, len(objectColumns))...)
			}
			if err := cw.Write(row); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	}
}

// scoreMaskObjects scores the objects of the mask pairs at pred and gt whose pixels were
// scored into acc; a pair whose objects cannot be scored is reported and counted as failed.
func scoreMaskObjects(ctx context.Context, pred, gt string, classes dataset.Classes, acc *metrics.Accumulator, gtLabels bool, objs *predict.ObjectScores, t *tally) error {
	pairs, _ := predict.PairMasks(pred, gt) // its problems were reported with the pixel scores
	scored := make(map[string]bool)
	for _, im := range acc.Images() {
		scored[im.Name] = true
	}
	pairs = slices.DeleteFunc(pairs, func(p predict.MaskPair) bool { return !scored[p.Name] })
	for i := range pairs {
		pairs[i].GTLabels = gtLabels
	}
	return predict.ScoreObjects(ctx, pairs, classes, objs, 0, func(i int, err error) {
		if err != nil {
			t.failed++
			t.problem(err)
		}
	})
}

// printObjects prints the object scores for people, when there are any.
func printObjects(w io.Writer, s *instancesSummary) {
	if s == nil {
		return
	}
	fmt.Fprintf(w, "objects (mean over %d images): precision %.4f, recall %.4f, F1 %.4f at IoU 0.5; DSB score %.4f; %d predicted, %d in the ground truth, %d merges, %d splits\n",
		s.Images, s.Precision, s.Recall, s.F1, s.DSB, s.Pred, s.GT, s.Merges, s.Splits)
}

// withObjects adds the scoring of each image's objects into objs (when not nil) to each,
// the per-image hook of EvaluateEach.
func withObjects(each func(predict.Scored) error, objs *predict.ObjectScores, classes int) func(predict.Scored) error {
	if objs == nil {
		return each
	}
	return func(s predict.Scored) error {
		if err := objs.Add(s.Name, s.Pred, s.Truth, nil, classes, s.Width, s.Height); err != nil {
			return err
		}
		if each != nil {
			return each(s)
		}
		return nil
	}
}

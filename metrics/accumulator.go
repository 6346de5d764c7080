package metrics

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"sync"
)

// Class describes one class of the masks for the output: the i-th Class given to
// [NewAccumulator] is class index i in the class-index maps, Value is the pixel value the
// class has in the mask files (0 and 255 for a binary mask) and Name its label.
type Class struct {
	Value int    `json:"value"`
	Name  string `json:"name"`
}

// Binary returns the classes of a binary mask stored as 0/255: index 0 "background"
// (value 0) and index 1 "foreground" (value 255).
func Binary() []Class {
	return []Class{{Value: 0, Name: "background"}, {Value: 255, Name: "foreground"}}
}

// ImageResult is the evaluation of one image: for each class index, its counts and scores.
type ImageResult struct {
	// Name is the name the image was added under.
	Name string
	// Width and Height are the image's size in pixels.
	Width, Height int
	// Counts and Scores are indexed by class index.
	Counts []Confusion
	Scores []Scores
}

// Evaluate scores one image: counts, confusion metrics and HD95 for each class
// 0..classes-1, with the ignore index (negative for none) and the empty-mask policy. It
// returns an error if the sizes disagree, or if a ground-truth value is neither a class
// index nor ignore, or a predicted value neither a class index nor ignore.
func Evaluate[T Label](name string, pred, gt []T, w, h, classes, ignore int, policy EmptyPolicy) (ImageResult, error) {
	if classes < 1 {
		return ImageResult{}, fmt.Errorf("metrics: %d classes", classes)
	}
	if policy != EmptyNaN && policy != EmptyOne {
		return ImageResult{}, fmt.Errorf("metrics: invalid empty-mask policy %d", int(policy))
	}
	if err := shapeError(len(pred), len(gt), w, h); err != nil {
		return ImageResult{}, fmt.Errorf("%v (image %q)", err, name)
	}
	if err := checkValues(gt, classes, ignore, "ground truth"); err != nil {
		return ImageResult{}, fmt.Errorf("%v (image %q)", err, name)
	}
	if err := checkValues(pred, classes, ignore, "prediction"); err != nil {
		return ImageResult{}, fmt.Errorf("%v (image %q)", err, name)
	}
	r := ImageResult{Name: name, Width: w, Height: h, Counts: Count(pred, gt, classes, ignore)}
	pb, gb := boundaries(pred, gt, w, h, 0, classes, ignore)
	var s hdScratch
	r.Scores = make([]Scores, classes)
	for c := range r.Scores {
		r.Scores[c] = ScoresOf(r.Counts[c], s.hd95(pb[c], gb[c], w, policy), policy)
	}
	return r, nil
}

func checkValues[T Label](m []T, classes, ignore int, what string) error {
	for i, v := range m {
		if k := int(v); (k < 0 || k >= classes) && (ignore < 0 || k != ignore) {
			return fmt.Errorf("metrics: %s pixel %d has value %d, not a class index 0..%d or the ignore index", what, i, k, classes-1)
		}
	}
	return nil
}

// Accumulator collects the evaluations of images one by one and reduces them to a
// [Summary]. Its methods may be called from several goroutines at once; the images are kept
// in the order their Add calls finished.
type Accumulator struct {
	classes []Class
	ignore  int
	policy  EmptyPolicy

	mu     sync.Mutex
	images []ImageResult
}

// NewAccumulator returns an Accumulator for masks whose class index i is classes[i], with
// the ignore index (negative for none) and the empty-mask policy.
func NewAccumulator(classes []Class, ignore int, policy EmptyPolicy) (*Accumulator, error) {
	if len(classes) == 0 {
		return nil, fmt.Errorf("metrics: no classes")
	}
	if policy != EmptyNaN && policy != EmptyOne {
		return nil, fmt.Errorf("metrics: invalid empty-mask policy %d", int(policy))
	}
	if ignore < 0 {
		ignore = -1
	}
	return &Accumulator{classes: append([]Class(nil), classes...), ignore: ignore, policy: policy}, nil
}

// Add evaluates one image, given as predicted and ground-truth class-index maps of width w
// and height h, and records it under name. See [Evaluate] for the errors.
func (a *Accumulator) Add(name string, pred, gt []int32, w, h int) error {
	r, err := Evaluate(name, pred, gt, w, h, len(a.classes), a.ignore, a.policy)
	if err != nil {
		return err
	}
	a.record(r)
	return nil
}

// AddUint8 is Add for class-index maps stored as bytes.
func (a *Accumulator) AddUint8(name string, pred, gt []uint8, w, h int) error {
	r, err := Evaluate(name, pred, gt, w, h, len(a.classes), a.ignore, a.policy)
	if err != nil {
		return err
	}
	a.record(r)
	return nil
}

// AddResult records an image already evaluated by [Evaluate] with this Accumulator's number
// of classes, ignore index and policy (for callers who evaluate in parallel themselves).
func (a *Accumulator) AddResult(r ImageResult) error {
	if len(r.Counts) != len(a.classes) || len(r.Scores) != len(a.classes) {
		return fmt.Errorf("metrics: image %q has %d counts and %d scores for %d classes", r.Name, len(r.Counts), len(r.Scores), len(a.classes))
	}
	a.record(r)
	return nil
}

func (a *Accumulator) record(r ImageResult) {
	a.mu.Lock()
	a.images = append(a.images, r)
	a.mu.Unlock()
}

// Images returns the per-image records so far, in the order they were added.
func (a *Accumulator) Images() []ImageResult {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]ImageResult(nil), a.images...)
}

// Stat reduces one metric of one class over the images.
type Stat struct {
	// Mean is the mean over the images whose value is defined.
	Mean Float `json:"mean"`
	// Std is the population standard deviation (ddof=0) of the same values.
	Std Float `json:"std"`
	// Dataset is the metric of the counts summed over all images (NaN for HD95).
	Dataset Float `json:"dataset"`
	// N is the number of images in Mean and Std.
	N int `json:"n"`
	// Excluded is the number of images whose value was NaN and was left out.
	Excluded int `json:"excluded"`
}

// newStat reduces the per-image values of a metric.
func newStat(vals []float64, dataset float64) Stat {
	var sum float64
	n := 0
	for _, v := range vals {
		if !math.IsNaN(v) {
			sum += v
			n++
		}
	}
	st := Stat{Mean: Float(math.NaN()), Std: Float(math.NaN()), Dataset: Float(dataset), N: n, Excluded: len(vals) - n}
	if n == 0 {
		return st
	}
	mean := sum / float64(n)
	var ss float64
	for _, v := range vals {
		if !math.IsNaN(v) {
			ss += (v - mean) * (v - mean)
		}
	}
	st.Mean, st.Std = Float(mean), Float(math.Sqrt(ss/float64(n)))
	return st
}

// ClassSummary is the reduction of one class over the images.
type ClassSummary struct {
	// Index is the class index in the masks, Value its pixel value and Name its label.
	Index int    `json:"index"`
	Value int    `json:"value"`
	Name  string `json:"name"`
	// Empty is the number of images where the class is absent from both prediction and
	// ground truth.
	Empty int `json:"empty"`
	// Counts is the sum of the class's counts over the images.
	Counts Confusion `json:"counts"`

	// Stats holds the class's reduction of each metric, indexed by [Metric]; in JSON each
	// is a key of the class's object, named after its metric.
	Stats [numMetrics]Stat `json:"-"`
}

// classFields are the fields of a ClassSummary's JSON before its metrics.
type classFields struct {
	Index  int       `json:"index"`
	Value  int       `json:"value"`
	Name   string    `json:"name"`
	Empty  int       `json:"empty"`
	Counts Confusion `json:"counts"`
}

// MarshalJSON writes the class's fields and then one key per metric, in metric order.
func (c ClassSummary) MarshalJSON() ([]byte, error) {
	head, err := json.Marshal(classFields{c.Index, c.Value, c.Name, c.Empty, c.Counts})
	if err != nil {
		return nil, err
	}
	b := bytes.NewBuffer(head[:len(head)-1])
	b.WriteByte(',')
	if err := writeMetrics(b, func(k Metric) any { return c.Stats[k] }); err != nil {
		return nil, err
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads what MarshalJSON writes; a metric absent from the object has a NaN
// mean, standard deviation and dataset value.
func (c *ClassSummary) UnmarshalJSON(data []byte) error {
	var f classFields
	if err := json.Unmarshal(data, &f); err != nil {
		return err
	}
	c.Index, c.Value, c.Name, c.Empty, c.Counts = f.Index, f.Value, f.Name, f.Empty, f.Counts
	return readMetrics(data, func(k Metric, raw json.RawMessage) error { return json.Unmarshal(raw, &c.Stats[k]) },
		func(k Metric) {
			c.Stats[k] = Stat{Mean: Float(math.NaN()), Std: Float(math.NaN()), Dataset: Float(math.NaN())}
		})
}

// Summary is the reduction of all the images, ready for encoding/json (undefined values
// become null). Its shape:
//
//	{"images": N, "empty_policy": "nan", "ignore": -1,
//	 "classes": [{"index": 1, "value": 255, "name": "foreground", "empty": 0,
//	              "counts": {"tp": .., "fp": .., "fn": .., "tn": ..},
//	              "dice": {"mean": .., "std": .., "dataset": .., "n": .., "excluded": ..},
//	              "iou": {..}, "precision": {..}, "recall": {..}, "specificity": {..},
//	              "accuracy": {..}, "hd95": {..}}, ...],
//	 "foreground_mean": {"dice": .., "iou": .., ...},
//	 "foreground_dataset": {"dice": .., "iou": .., ...}}
type Summary struct {
	// Images is the number of images.
	Images int `json:"images"`
	// EmptyPolicy is the empty-mask policy the scores were computed with.
	EmptyPolicy EmptyPolicy `json:"empty_policy"`
	// Ignore is the ignore index, -1 for none.
	Ignore int `json:"ignore"`
	// Classes holds one entry per class index, background included.
	Classes []ClassSummary `json:"classes"`
	// ForegroundMean is, per metric, the mean of Classes[i].<metric>.Mean over the
	// foreground classes i >= 1 (class 1 alone for a binary task), skipping NaN; NaN if
	// none is defined, or if there is no foreground class.
	ForegroundMean Means `json:"foreground_mean"`
	// ForegroundDataset is the same over the dataset-level values.
	ForegroundDataset Means `json:"foreground_dataset"`
}

// Summary reduces the images added so far.
func (a *Accumulator) Summary() Summary {
	images := a.Images()
	s := Summary{Images: len(images), EmptyPolicy: a.policy, Ignore: a.ignore, Classes: make([]ClassSummary, len(a.classes))}
	vals := make([]Scores, len(images))
	col := make([]float64, len(images))
	for c, cl := range a.classes {
		cs := &s.Classes[c]
		cs.Index, cs.Value, cs.Name = c, cl.Value, cl.Name
		for i, im := range images {
			cs.Counts = cs.Counts.Add(im.Counts[c])
			if im.Counts[c].Empty() {
				cs.Empty++
			}
			vals[i] = im.Scores[c]
		}
		dataset := ScoresOf(cs.Counts, math.NaN(), a.policy)
		for m := range cs.Stats {
			for i := range vals {
				col[i] = vals[i][m]
			}
			cs.Stats[m] = newStat(col, dataset[m])
		}
	}
	for m := range numMetrics {
		var mean, data []float64
		for c := 1; c < len(s.Classes); c++ {
			st := s.Classes[c].Stats[m]
			mean = append(mean, float64(st.Mean))
			data = append(data, float64(st.Dataset))
		}
		s.ForegroundMean[m] = Float(NaNMean(mean))
		s.ForegroundDataset[m] = Float(NaNMean(data))
	}
	return s
}

// NaNMean is the mean of the values that are not NaN, or NaN if there are none: how a
// score undefined for some classes or images (an empty class) is averaged over the others.
func NaNMean(v []float64) float64 {
	var sum float64
	n := 0
	for _, x := range v {
		if !math.IsNaN(x) {
			sum += x
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return sum / float64(n)
}

// WriteJSON writes the [Summary] as indented JSON.
func (a *Accumulator) WriteJSON(w io.Writer) error {
	b, err := json.MarshalIndent(a.Summary(), "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// CSVHeader gives the header row [Accumulator.WriteCSV] writes: the image, the class, its
// counts, and one column per [Metric].
func CSVHeader() []string {
	h := []string{"image", "class_index", "class_value", "class", "tp", "fp", "fn", "tn"}
	for _, m := range Metrics() {
		h = append(h, m.String())
	}
	return h
}

// WriteCSV writes one row per image and class, after the header [CSVHeader]: the image name,
// the class's index, pixel value and name, its counts and its metrics. Numbers are written
// with strconv's shortest representation; NaN is written "nan".
func (a *Accumulator) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	header := CSVHeader()
	if err := cw.Write(header); err != nil {
		return err
	}
	row := make([]string, len(header))
	for _, im := range a.Images() {
		for c, cl := range a.classes {
			k := im.Counts[c]
			row = append(row[:0], im.Name, strconv.Itoa(c), strconv.Itoa(cl.Value), cl.Name,
				strconv.FormatInt(k.TP, 10), strconv.FormatInt(k.FP, 10),
				strconv.FormatInt(k.FN, 10), strconv.FormatInt(k.TN, 10))
			for _, v := range im.Scores[c] {
				row = append(row, formatFloat(v))
			}
			if err := cw.Write(row); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

func formatFloat(v float64) string {
	if math.IsNaN(v) {
		return "nan"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

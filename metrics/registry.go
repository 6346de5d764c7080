package metrics

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
)

// Metric names one score of a class on an image. It indexes [Scores], [Means] and
// [ClassSummary].Stats, and its order is the order of the JSON keys and CSV columns.
//
// To add a metric: add its constant before numMetrics and its entry in definitions, both
// in this file (with a Confusion method beside the others if its formula is new), and a
// case in the tests. Everything else (Scores, the summaries, eval.json, eval.csv, eval's
// table where it shows the metric) follows from this table.
type Metric int

// The metrics, in output order.
const (
	Dice        Metric = iota // 2TP / (2TP + FP + FN)
	IoU                       // TP / (TP + FP + FN), the Jaccard index
	Precision                 // TP / (TP + FP)
	Recall                    // TP / (TP + FN), the sensitivity
	Specificity               // TN / (TN + FP)
	Accuracy                  // (TP + TN) / (TP + FP + FN + TN)
	HD95                      // 95th-percentile Hausdorff distance of the boundaries, in pixels
	numMetrics
)

// definition says how a metric is named and computed.
type definition struct {
	name string
	// of computes the metric from a class's counts under an empty-mask policy; nil for a
	// metric the counts do not determine (HD95, which needs the masks' boundaries: its
	// per-image value comes from [Evaluate] and its dataset-level value is NaN).
	of func(Confusion, EmptyPolicy) float64
}

var definitions = [numMetrics]definition{
	Dice:        {"dice", Confusion.Dice},
	IoU:         {"iou", Confusion.IoU},
	Precision:   {"precision", Confusion.Precision},
	Recall:      {"recall", Confusion.Recall},
	Specificity: {"specificity", Confusion.Specificity},
	Accuracy:    {"accuracy", Confusion.Accuracy},
	HD95:        {"hd95", nil},
}

// Metrics lists every metric in output order.
func Metrics() []Metric {
	m := make([]Metric, numMetrics)
	for i := range m {
		m[i] = Metric(i)
	}
	return m
}

// String gives the metric's name in eval.json and eval.csv ("dice", "hd95", ...).
func (m Metric) String() string {
	if m < 0 || m >= numMetrics {
		return fmt.Sprintf("Metric(%d)", int(m))
	}
	return definitions[m].name
}

// Scores holds one class's metrics for one image, indexed by [Metric]; NaN marks an
// undefined value (see the package documentation for when).
type Scores [numMetrics]float64

// ScoresOf returns the metrics of counts c under policy p, with the metrics the counts do
// not determine (HD95) set to hd.
func ScoresOf(c Confusion, hd float64, p EmptyPolicy) Scores {
	var s Scores
	for m, d := range definitions {
		if d.of == nil {
			s[m] = hd
		} else {
			s[m] = d.of(c, p)
		}
	}
	return s
}

// Means holds one number per metric, indexed by [Metric]: a macro mean over classes. It
// marshals as a JSON object keyed by the metrics' names.
type Means [numMetrics]Float

// MarshalJSON writes {"dice": .., "iou": .., ...} in metric order.
func (m Means) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	if err := writeMetrics(&b, func(k Metric) any { return m[k] }); err != nil {
		return nil, err
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads what MarshalJSON writes; a metric absent from the object is NaN.
func (m *Means) UnmarshalJSON(data []byte) error {
	return readMetrics(data, func(k Metric, raw json.RawMessage) error { return json.Unmarshal(raw, &m[k]) },
		func(k Metric) { m[k] = Float(math.NaN()) })
}

// writeMetrics writes `"name": value` for every metric, comma-separated.
func writeMetrics(b *bytes.Buffer, value func(Metric) any) error {
	for k := range numMetrics {
		v, err := json.Marshal(value(k))
		if err != nil {
			return err
		}
		if k > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(b, "%q:", k.String())
		b.Write(v)
	}
	return nil
}

// readMetrics decodes the metric keys of a JSON object with set, and calls missing for
// each metric the object lacks.
func readMetrics(data []byte, set func(Metric, json.RawMessage) error, missing func(Metric)) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return err
	}
	for k := range numMetrics {
		raw, ok := obj[k.String()]
		if !ok {
			missing(k)
			continue
		}
		if err := set(k, raw); err != nil {
			return fmt.Errorf("metric %s: %w", k, err)
		}
	}
	return nil
}

package metrics

import (
	"fmt"
	"math"
)

// Label is the element type of a class-index map: any integer type a mask may be stored in.
type Label interface {
	~uint8 | ~uint16 | ~uint32 | ~int8 | ~int16 | ~int32 | ~int64 | ~int
}

// Confusion holds one class's pixel counts for one image, or summed over images: true
// positives, false positives, false negatives and true negatives, over the pixels that are
// not ignored.
type Confusion struct {
	TP int64 `json:"tp"`
	FP int64 `json:"fp"`
	FN int64 `json:"fn"`
	TN int64 `json:"tn"`
}

// Add returns the element-wise sum of two counts, for dataset-level metrics.
func (c Confusion) Add(o Confusion) Confusion {
	return Confusion{TP: c.TP + o.TP, FP: c.FP + o.FP, FN: c.FN + o.FN, TN: c.TN + o.TN}
}

// Total returns the number of pixels counted.
func (c Confusion) Total() int64 { return c.TP + c.FP + c.FN + c.TN }

// Empty reports whether the class is absent from both the prediction and the ground truth
// (TP+FP+FN = 0), the case the [EmptyPolicy] decides.
func (c Confusion) Empty() bool { return c.TP+c.FP+c.FN == 0 }

// ratio is num/den, or when den is zero the policy's value if empty, else 0.
func ratio(num, den int64, empty bool, p EmptyPolicy) float64 {
	if den > 0 {
		return float64(num) / float64(den)
	}
	if empty {
		return p.emptyValue()
	}
	return 0
}

// Dice returns the Dice coefficient 2TP/(2TP+FP+FN); see the package documentation for the
// empty-mask rule.
func (c Confusion) Dice(p EmptyPolicy) float64 {
	return ratio(2*c.TP, 2*c.TP+c.FP+c.FN, c.Empty(), p)
}

// IoU returns the intersection over union (Jaccard index) TP/(TP+FP+FN).
func (c Confusion) IoU(p EmptyPolicy) float64 {
	return ratio(c.TP, c.TP+c.FP+c.FN, c.Empty(), p)
}

// Precision returns TP/(TP+FP); an empty prediction of a non-empty ground truth scores 0.
func (c Confusion) Precision(p EmptyPolicy) float64 {
	return ratio(c.TP, c.TP+c.FP, c.Empty(), p)
}

// Recall returns the sensitivity TP/(TP+FN); false positives on an empty ground truth score 0.
func (c Confusion) Recall(p EmptyPolicy) float64 {
	return ratio(c.TP, c.TP+c.FN, c.Empty(), p)
}

// Specificity returns TN/(TN+FP). Its zero-denominator case mirrors recall's on the
// complement of the class: the policy decides when TN+FP+FN = 0, otherwise it is 0.
func (c Confusion) Specificity(p EmptyPolicy) float64 {
	return ratio(c.TN, c.TN+c.FP, c.TN+c.FP+c.FN == 0, p)
}

// Accuracy returns the pixel accuracy (TP+TN)/(TP+FP+FN+TN); the policy decides only when no
// pixel was counted (an image wholly ignored).
func (c Confusion) Accuracy(p EmptyPolicy) float64 {
	return ratio(c.TP+c.TN, c.Total(), c.Total() == 0, p)
}

// EmptyPolicy selects the score of a class absent from both prediction and ground truth.
type EmptyPolicy int

const (
	// EmptyNaN ("nan") makes the score NaN: the image is left out of the mean for that class
	// and counted as excluded, as nnU-Net does.
	EmptyNaN EmptyPolicy = iota
	// EmptyOne ("one") scores it 1 (HD95 0), as PyTorch-UNet does.
	EmptyOne
)

// String returns the policy's name, "nan" or "one".
func (p EmptyPolicy) String() string {
	switch p {
	case EmptyNaN:
		return "nan"
	case EmptyOne:
		return "one"
	}
	return fmt.Sprintf("EmptyPolicy(%d)", int(p))
}

// ParseEmptyPolicy returns the policy named "nan" or "one", for command-line flags.
func ParseEmptyPolicy(s string) (EmptyPolicy, error) {
	switch s {
	case "nan":
		return EmptyNaN, nil
	case "one":
		return EmptyOne, nil
	}
	return 0, fmt.Errorf("metrics: unknown empty-mask policy %q (want nan or one)", s)
}

// MarshalText writes the policy's name, so that it appears as "nan" or "one" in JSON.
func (p EmptyPolicy) MarshalText() ([]byte, error) {
	if p != EmptyNaN && p != EmptyOne {
		return nil, fmt.Errorf("metrics: invalid empty-mask policy %d", int(p))
	}
	return []byte(p.String()), nil
}

// UnmarshalText reads a policy's name, the inverse of MarshalText.
func (p *EmptyPolicy) UnmarshalText(b []byte) error {
	q, err := ParseEmptyPolicy(string(b))
	if err != nil {
		return err
	}
	*p = q
	return nil
}

func (p EmptyPolicy) emptyValue() float64 {
	if p == EmptyOne {
		return 1
	}
	return math.NaN()
}

// Count returns the confusion counts of classes 0..classes-1 between a predicted and a
// ground-truth class-index map of the same length. Pixels whose ground truth equals ignore
// are skipped (ignore < 0 means none); any other value outside 0..classes-1 belongs to no
// class. It panics if the lengths differ.
func Count[T Label](pred, gt []T, classes int, ignore int) []Confusion {
	if len(pred) != len(gt) {
		panic(fmt.Sprintf("metrics.Count: prediction has %d pixels, ground truth %d", len(pred), len(gt)))
	}
	cm := make([]Confusion, classes)
	var n int64
	for i, gv := range gt {
		g := int(gv)
		if g == ignore && ignore >= 0 {
			continue
		}
		n++
		p := int(pred[i])
		gin := g >= 0 && g < classes
		pin := p >= 0 && p < classes
		switch {
		case gin && p == g:
			cm[g].TP++
		default:
			if gin {
				cm[g].FN++
			}
			if pin {
				cm[p].FP++
			}
		}
	}
	for c := range cm {
		cm[c].TN = n - cm[c].TP - cm[c].FP - cm[c].FN
	}
	return cm
}

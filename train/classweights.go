package train

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// maxClassWeight bounds the ratio of an auto class weight to the median class's, both
// ways: a class of a millionth of the pixels would otherwise swamp the batch with the
// gradient of a handful of pixels.
const maxClassWeight = 10

// AutoClassWeights gives each class a weight from its pixel count: the inverse square
// root of its share of the pixels, scaled so that the median class (among those with
// pixels) weighs 1, and clipped to [1/maxClassWeight, maxClassWeight]. A class without
// pixels weighs 1 (it is never a target, so its weight only matters on data not seen).
//
// Why the square root: median-frequency balancing (Eigen & Fergus), the inverse share,
// weighs CamVid's bicyclists (0.24% of the training pixels) 130 times the road (32%):
// cross-entropy then over-predicts them everywhere, and the gradient of a batch is that
// of a few pixels. The square root halves the exponent: they weigh 11.5 times the road
// (4.6 against the median class's 1), enough for the loss to feel them without trading
// the common classes for them.
func AutoClassWeights(pixels []int64) []float64 {
	var total int64
	for _, n := range pixels {
		total += n
	}
	w := make([]float64, len(pixels))
	var seen []float64
	for c, n := range pixels {
		w[c] = math.NaN()
		if n > 0 {
			w[c] = 1 / math.Sqrt(float64(n)/float64(total))
			seen = append(seen, w[c])
		}
	}
	if len(seen) == 0 {
		for c := range w {
			w[c] = 1
		}
		return w
	}
	slices.Sort(seen)
	med := seen[len(seen)/2]
	if len(seen)%2 == 0 {
		med = (seen[len(seen)/2-1] + seen[len(seen)/2]) / 2
	}
	for c := range w {
		if math.IsNaN(w[c]) {
			w[c] = 1
			continue
		}
		w[c] = min(max(w[c]/med, 1.0/maxClassWeight), maxClassWeight)
	}
	return w
}

// ClassWeights reads --class-weights: "" or "none" gives nil (no weights), "auto"
// AutoClassWeights of pixels, and a comma-separated list one positive weight per class
// (two for a binary task: background, foreground).
func ClassWeights(spec string, pixels []int64) ([]float64, error) {
	switch spec {
	case "", "none":
		return nil, nil
	case "auto":
		return AutoClassWeights(pixels), nil
	}
	w, err := parseClassWeights(spec)
	if err != nil {
		return nil, err
	}
	if len(w) != len(pixels) {
		return nil, fmt.Errorf("class weights %q: %d weights for %d classes", spec, len(w), len(pixels))
	}
	return w, nil
}

// CheckClassWeights says whether spec is a --class-weights that ClassWeights can read
// ("", "none", "auto" or positive numbers), before the data says how many classes there
// are: so that a typing error stops a run before its data is read.
func CheckClassWeights(spec string) error {
	switch spec {
	case "", "none", "auto":
		return nil
	}
	_, err := parseClassWeights(spec)
	return err
}

// parseClassWeights reads a comma-separated list of positive weights.
func parseClassWeights(spec string) ([]float64, error) {
	parts := strings.Split(spec, ",")
	w := make([]float64, len(parts))
	for i, p := range parts {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || !(v > 0) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("class weights %q: weight %d, %q, is not a positive number", spec, i, p)
		}
		w[i] = v
	}
	return w, nil
}

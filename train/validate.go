package train

import (
	"context"
	"math"

	"github.com/segment-dev/segment/dataset"
	"github.com/segment-dev/segment/metrics"
	"github.com/segment-dev/segment/predict"
	"github.com/segment-dev/segment/unet"
)

// validator scores the model on the validation images as `segment eval --data` would score
// it: through a predict.Predictor with the default options (the whole image when it fits,
// the same padding, threshold and class decision) and predict's accumulator. The
// Predictor keeps its graphs between epochs; they share the model's tensors, so each score
// sees the weights and running statistics training has reached.
type validator struct {
	ds   *dataset.Dataset
	m    *unet.Model
	pred *predict.Predictor // made by the first score
}

func newValidator(ds *dataset.Dataset, m *unet.Model) *validator {
	return &validator{ds: ds, m: m}
}

func (v *validator) close() {
	if v.pred != nil {
		v.pred.Close()
	}
}

// score gives the mean over validation images of the foreground Dice and IoU (class 1 of a
// binary model, the mean over classes 1.. of a multi-class one), NaN without validation
// images.
func (v *validator) score() (dice, iou float64, err error) {
	if len(v.ds.Val) == 0 {
		return math.NaN(), math.NaN(), nil
	}
	if v.pred == nil {
		if v.pred, err = predict.New(v.m, predict.Options{}); err != nil {
			return 0, 0, err
		}
	}
	acc, err := predict.NewAccumulator(v.ds.Classes, metrics.EmptyNaN)
	if err != nil {
		return 0, 0, err
	}
	var first error
	err = v.pred.Evaluate(context.Background(), v.ds, v.ds.Val, acc, func(_ int, err error) {
		if first == nil {
			first = err
		}
	})
	if first != nil {
		return 0, 0, first
	}
	if err != nil {
		return 0, 0, err
	}
	sum := acc.Summary()
	return float64(sum.ForegroundMean[metrics.Dice]), float64(sum.ForegroundMean[metrics.IoU]), nil
}

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
	ds         *dataset.Dataset
	m          *unet.Model
	downsample int                // as the run trains: scored at the images' own size, as eval scores
	pred       *predict.Predictor // made by the first score
}

func newValidator(ds *dataset.Dataset, m *unet.Model, downsample int) *validator {
	return &validator{ds: ds, m: m, downsample: downsample}
}

func (v *validator) close() {
	if v.pred != nil {
		v.pred.Close()
	}
}

// score gives the mean over validation images of the foreground Dice and IoU (class 1 of a
// binary model, the mean over classes 1.. of a multi-class one), NaN without validation
// images. For a multi-class model it also gives each class's mean Dice over the images,
// so that a class stuck at 0 shows during the run; nil for a binary one.
func (v *validator) score() (dice, iou float64, perClass []metrics.Float, err error) {
	if len(v.ds.Val) == 0 {
		return math.NaN(), math.NaN(), nil, nil
	}
	if v.pred == nil {
		if v.pred, err = predict.New(v.m, predict.Options{Downsample: v.downsample}); err != nil {
			return 0, 0, nil, err
		}
	}
	acc, err := predict.NewAccumulator(v.ds.Classes, metrics.EmptyNaN)
	if err != nil {
		return 0, 0, nil, err
	}
	var first error
	err = v.pred.Evaluate(context.Background(), v.ds, v.ds.Val, acc, func(_ int, err error) {
		if first == nil {
			first = err
		}
	})
	if first != nil {
		return 0, 0, nil, first
	}
	if err != nil {
		return 0, 0, nil, err
	}
	sum := acc.Summary()
	if !v.ds.Classes.Binary() {
		for _, c := range sum.Classes {
			perClass = append(perClass, c.Stats[metrics.Dice].Mean)
		}
	}
	return float64(sum.ForegroundMean[metrics.Dice]), float64(sum.ForegroundMean[metrics.IoU]), perClass, nil
}

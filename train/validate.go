package train

import (
	"math"

	"github.com/segment-dev/segment/dataset"
	"github.com/segment-dev/segment/metrics"
	"github.com/segment-dev/segment/unet"
)

// validator scores the model on the validation images, whole, as prediction will see them.
type validator struct {
	ds   *dataset.Dataset
	pred *unet.Predictor
}

func newValidator(ds *dataset.Dataset, m *unet.Model) *validator {
	return &validator{ds: ds, pred: unet.NewPredictor(m)}
}

func (v *validator) close() { v.pred.Close() }

// score gives the mean over validation images of the foreground Dice and IoU (class 1 of a
// binary model, the mean over classes 1.. of a multi-class one), NaN without validation
// images.
func (v *validator) score() (dice, iou float64, err error) {
	if len(v.ds.Val) == 0 {
		return math.NaN(), math.NaN(), nil
	}
	cfg := v.pred.Model.Config
	classes := make([]metrics.Class, 0, len(v.ds.Classes.Values))
	for _, val := range v.ds.Classes.Values {
		classes = append(classes, metrics.Class{Value: val})
	}
	ignore := len(classes) // metrics take a non-negative ignore index
	acc, err := metrics.NewAccumulator(classes, ignore, metrics.EmptyNaN)
	if err != nil {
		return 0, 0, err
	}
	for _, p := range v.ds.Val {
		s, err := v.ds.Load(p)
		if err != nil {
			return 0, 0, err
		}
		logits, err := v.pred.Logits(s.Image, 1, s.H, s.W)
		if err != nil {
			return 0, 0, err
		}
		pred := unet.Classes(logits, 1, cfg.Classes)
		gt := make([]int32, len(s.Mask))
		for i, c := range s.Mask {
			if c < 0 {
				c = int32(ignore)
			}
			gt[i] = c
		}
		if err := acc.Add(p.Name, pred, gt, s.W, s.H); err != nil {
			return 0, 0, err
		}
	}
	sum := acc.Summary()
	return float64(sum.ForegroundMean[metrics.Dice]), float64(sum.ForegroundMean[metrics.IoU]), nil
}

package predict

import (
	"context"
	"fmt"
	"image"
	"image/draw"
	_ "image/png" // label images are read by image.Decode
	"sync"

	"github.com/segment-dev/segment/dataset"
	"github.com/segment-dev/segment/internal/regular"
	"github.com/segment-dev/segment/objects"
	_ "golang.org/x/image/tiff"
)

// ObjectScores collects the object-level scores of images (eval --instances): each image's
// predicted objects (connected components of its predicted classes) are matched with the
// ground truth's, within each class, and scored as package objects scores them.
type ObjectScores struct {
	// Split, when set, splits the predicted objects before they are matched, as predict
	// --split does (objects.Labels.Split, seeds at least SplitDistance pixels apart), so
	// that eval scores the objects predict would write.
	Split         bool
	SplitDistance float64

	mu     sync.Mutex
	images map[string]ImageObjects
}

// ImageObjects are one image's object scores, summed over its foreground classes: the
// counts at IoU 0.5, the scores that follow from them, and the DSB 2018 score from the
// counts at each of objects.DSBThresholds.
type ImageObjects struct {
	Pred, GT, TP, FP, FN  int
	Precision, Recall, F1 float64
	DSB                   float64
	Merges, Splits        int
}

// NewObjectScores makes an empty collection.
func NewObjectScores() *ObjectScores { return &ObjectScores{images: map[string]ImageObjects{}} }

// Get returns the scores of the image of that name, and whether it was scored.
func (s *ObjectScores) Get(name string) (ImageObjects, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.images[name]
	return r, ok
}

// Set records the scores of the image of that name, as Add found them elsewhere: how the
// merge of an evaluation's shards gathers them.
func (s *ObjectScores) Set(name string, r ImageObjects) {
	s.mu.Lock()
	s.images[name] = r
	s.mu.Unlock()
}

// Len returns the number of images scored.
func (s *ObjectScores) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.images)
}

// Images returns every image's scores, by name.
func (s *ObjectScores) Images() map[string]ImageObjects {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]ImageObjects, len(s.images))
	for k, v := range s.images {
		out[k] = v
	}
	return out
}

// labelClasses labels the objects of a map of class indices (ignored pixels, below 0 or
// past the classes, are background).
func labelClasses(idx []int32, classes, w, h int) (*objects.Labels, error) {
	m := make([]uint8, len(idx))
	for i, v := range idx {
		if v > 0 && int(v) < classes {
			m[i] = uint8(v)
		}
	}
	return objects.Label(m, w, h)
}

// Add scores the predicted class map of an image against its ground truth, both as class
// indices of classes classes (0 the background). gt, when not nil, is the ground truth as
// separate objects (a label image, all of class 1); else gtIdx's connected components are.
func (s *ObjectScores) Add(name string, pred, gtIdx []int32, gt *objects.Labels, classes, w, h int) error {
	pl, err := labelClasses(pred, classes, w, h)
	if err != nil {
		return err
	}
	if s.Split {
		if err := pl.Split(s.SplitDistance); err != nil {
			return err
		}
	}
	if gt == nil {
		if gt, err = labelClasses(gtIdx, classes, w, h); err != nil {
			return err
		}
	} else {
		if gt.W != w || gt.H != h {
			return fmt.Errorf("label image is %dx%d, the prediction %dx%d", gt.W, gt.H, w, h)
		}
		// Ground-truth objects are of no class: every predicted object is of theirs.
		for id := range pl.Class {
			if id > 0 {
				pl.Class[id] = 1
			}
		}
		classes = 2
	}
	var r ImageObjects
	tps := make([]int, len(objects.DSBThresholds))
	errsum := make([]int, len(objects.DSBThresholds))
	for c := 1; c < classes; c++ {
		m, err := objects.Match(pl.OfClass(c), gt.OfClass(c))
		if err != nil {
			return err
		}
		sc := m.Scores()
		r.Pred += sc.Pred
		r.GT += sc.GT
		r.TP += sc.TP
		r.FP += sc.FP
		r.FN += sc.FN
		r.Merges += sc.Merges
		r.Splits += sc.Splits
		for k, th := range objects.DSBThresholds {
			tp, fp, fn := m.Count(th)
			tps[k] += tp
			errsum[k] += fp + fn
		}
	}
	ratio := func(a, b int) float64 {
		if b == 0 {
			return 1
		}
		return float64(a) / float64(b)
	}
	r.Precision, r.Recall, r.F1 = ratio(r.TP, r.Pred), ratio(r.TP, r.GT), ratio(2*r.TP, r.Pred+r.GT)
	for k := range tps {
		r.DSB += ratio(tps[k], tps[k]+errsum[k])
	}
	r.DSB /= float64(len(tps))
	s.mu.Lock()
	s.images[name] = r
	s.mu.Unlock()
	return nil
}

// ReadLabelImage reads a label image of separate objects (8- or 16-bit gray PNG or TIFF:
// each value other than 0 is one object), as ground truth for object scores.
func ReadLabelImage(path string, maxPixels int) (*objects.Labels, error) {
	if maxPixels <= 0 {
		maxPixels = dataset.DefaultMaxPixels
	}
	f, err := regular.Open(path)
	if err != nil {
		return nil, pathError(path, err)
	}
	defer f.Close()
	cfg, format, err := image.DecodeConfig(f)
	if err != nil {
		return nil, fmt.Errorf("%s: not a PNG or TIFF label image (%v)", path, err)
	}
	if int64(cfg.Width)*int64(cfg.Height) > int64(maxPixels) {
		return nil, fmt.Errorf("%s: %dx%d pixels, more than the limit of %d", path, cfg.Width, cfg.Height, maxPixels)
	}
	if _, err := f.Seek(0, 0); err != nil {
		return nil, pathError(path, err)
	}
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: unreadable %s label image (%v)", path, format, err)
	}
	var g *image.Gray16
	switch m := img.(type) {
	case *image.Gray16:
		g = m
	case *image.Gray:
		g = image.NewGray16(m.Bounds())
		draw.Draw(g, g.Bounds(), m, m.Bounds().Min, draw.Src)
	default:
		return nil, fmt.Errorf("%s: a label image is 8- or 16-bit gray, this is %T", path, img)
	}
	l, err := objects.FromGray16(g)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return l, nil
}

// ScoreObjects scores the objects of every pair of masks into s, several pairs at once:
// the predicted masks are read as the classes c, the ground truth too, or when the pair's
// GTLabels says so as a label image of separate objects (ReadLabelImage). done(i, err) is called for every pair,
// in order.
func ScoreObjects(ctx context.Context, pairs []MaskPair, c dataset.Classes, s *ObjectScores, maxPixels int, done func(i int, err error)) error {
	k := len(c.Values)
	errs := make([]error, len(pairs))
	eachPair(ctx, len(pairs), func(j int) {
		mp := pairs[j]
		errs[j] = safely(func() error {
			pred, w, h, err := c.ReadMask(mp.Pred, maxPixels)
			if err != nil {
				return err
			}
			var gt []int32
			var gl *objects.Labels
			if mp.GTLabels {
				gl, err = ReadLabelImage(mp.GT, maxPixels)
			} else {
				var gw, gh int
				gt, gw, gh, err = c.ReadMask(mp.GT, maxPixels)
				if err == nil && (gw != w || gh != h) {
					err = mp.sizeError(w, h, gw, gh)
				}
			}
			if err != nil {
				return err
			}
			if err := s.Add(mp.Name, pred, gt, gl, k, w, h); err != nil {
				return fmt.Errorf("%s: %w", mp.Pred, err)
			}
			return nil
		})
	})()
	if err := ctx.Err(); err != nil {
		return err
	}
	for j := range pairs {
		done(j, errs[j])
	}
	return nil
}

package dataset

import (
	"cmp"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
)

// Report is what Diagnose found in a data set: its pairs and files, image and mask
// statistics per split, the classes, warnings about things that train badly, and the
// problems that stop training altogether.
type Report struct {
	Dir    string
	Layout string // "images/ masks/" or the split folders found, as "train/ val/ test/"
	Splits []SplitReport
	// HeldOut is the number of train pairs Open holds out for validation when there is no
	// val folder (0 when there is one).
	HeldOut int
	// Channels is the number of channels of the inputs (after Options.Channels).
	Channels int
	// Classes is how mask values become classes; nil when they could not be decided.
	Classes *Classes
	// Warnings are things that will not stop training but may spoil it.
	Warnings []string
	// Problems are what stops training: Open would return the first of them.
	Problems []*Error

	valueSpaceColour bool
}

// SplitReport describes one split (train, val or test) of a data set.
type SplitReport struct {
	Name     string // "train", "val" or "test"
	Dir      string // the folder holding images/ and masks/
	Pairs    int    // images with a mask, good or not
	NoMask   []string
	NoImage  []string
	Ignored  []string // files in images/ or masks/ that are not images
	Sizes    []Count  // image sizes, e.g. "512x512"
	Images   []Count  // image formats, e.g. "PNG gray 8-bit"
	Masks    []Count  // mask formats
	Values   []ValueCount
	MeanGray float64 // mean image value in [0, 1]
	MinGray  float64 // lowest image value
	MaxGray  float64 // highest image value
	Decoded  int     // images decoded (the intensity statistics cover these)
	// Empty counts binary masks with no foreground pixel; for multi-class tasks, masks
	// that hold a single class.
	Empty int
	// Tiny counts binary masks whose foreground covers less than 0.1% of the pixels.
	Tiny int
	// ClassPixels counts the pixels of each class, and IgnoredPixels those ignored; nil
	// when the classes are not known.
	ClassPixels   []int64
	IgnoredPixels int64
}

// Count is how many files share a property.
type Count struct {
	What string
	N    int
}

// ValueCount is how many mask pixels hold a value, and in how many masks.
type ValueCount struct {
	Value  int
	Pixels int64
	Masks  int
}

// OK reports whether training can start: there is no problem.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// counter counts strings and gives them most frequent first.
type counter map[string]int

func (c counter) sorted() []Count {
	out := make([]Count, 0, len(c))
	for k, n := range c {
		out = append(out, Count{k, n})
	}
	slices.SortFunc(out, func(a, b Count) int {
		return cmp.Or(cmp.Compare(b.N, a.N), cmp.Compare(a.What, b.What))
	})
	return out
}

// Diagnose reads the data set at dir as Open would with opts, decoding every image and
// mask, and reports all it finds rather than stopping at the first problem. Its error is
// an *Error when dir cannot be read as a data set at all (missing, a file, or without
// images/ and masks/ folders); every other problem is in the Report.
func Diagnose(dir string, opts Options) (*Report, error) {
	s := scan(dir, opts, true, nil)
	if len(s.folders) == 0 {
		return nil, s.problems[0]
	}
	r := &Report{Dir: dir, Channels: s.channels, Problems: s.problems, valueSpaceColour: s.colour}
	if s.flat {
		r.Layout = "images/ masks/"
	} else {
		var names []string
		for _, f := range s.folders {
			names = append(names, filepath.Base(f.dir)+"/")
		}
		r.Layout = strings.Join(names, " ")
	}
	if s.classErr == nil && len(s.classes.Values) > 0 {
		c := s.classes
		r.Classes = &c
	}
	var index func(int32) (int32, bool)
	if r.Classes != nil {
		index = r.Classes.mapper()
	}
	hasVal := false
	for _, f := range s.folders {
		hasVal = hasVal || f.split == "val"
		r.Splits = append(r.Splits, splitReport(f, r.Classes, index))
	}
	if !hasVal {
		train, _ := holdOut(make([]Pair, r.Splits[0].Pairs), opts.ValFraction, opts.Seed)
		r.HeldOut = r.Splits[0].Pairs - len(train)
	}
	r.warn(s, opts)
	return r, nil
}

// splitReport sums up one folder.
func splitReport(f *folder, c *Classes, index func(int32) (int32, bool)) SplitReport {
	sr := SplitReport{Name: f.split, Dir: f.dir, Pairs: len(f.pairs), NoMask: f.noMask, NoImage: f.noImage, Ignored: f.ignored,
		MinGray: math.Inf(1), MaxGray: math.Inf(-1)}
	sizes, images, masks := counter{}, counter{}, counter{}
	values := map[int32]*ValueCount{}
	if c != nil {
		sr.ClassPixels = make([]int64, len(c.Values))
	}
	var meanSum float64
	for _, p := range f.pairs {
		if p.img.Format != "" {
			sizes[fmt.Sprintf("%dx%d", p.img.Width, p.img.Height)]++
			images[p.img.Format+" "+p.img.describe()]++
		}
		if p.msk.Format != "" {
			masks[p.msk.Format+" "+p.msk.describe()]++
		}
		if p.decoded {
			sr.Decoded++
			meanSum += float64(p.stats.mean)
			sr.MinGray = math.Min(sr.MinGray, float64(p.stats.lo))
			sr.MaxGray = math.Max(sr.MaxGray, float64(p.stats.hi))
		}
		if p.hist == nil {
			continue
		}
		var total, fg int64
		classesSeen := 0
		for v, n := range p.hist {
			vc := values[v]
			if vc == nil {
				vc = &ValueCount{Value: int(v)}
				values[v] = vc
			}
			vc.Pixels += n
			vc.Masks++
			total += n
			if index == nil {
				continue
			}
			k, ok := index(v)
			switch {
			case !ok:
			case k == IgnoreIndex:
				sr.IgnoredPixels += n
			default:
				sr.ClassPixels[k] += n
				classesSeen++
				if k > 0 {
					fg += n
				}
			}
		}
		if c == nil {
			continue
		}
		if c.Binary() {
			if fg == 0 {
				sr.Empty++
			} else if fg*1000 < total {
				sr.Tiny++
			}
		} else if classesSeen == 1 {
			sr.Empty++
		}
	}
	if sr.Decoded > 0 {
		sr.MeanGray = meanSum / float64(sr.Decoded)
	} else {
		sr.MinGray, sr.MaxGray = 0, 0
	}
	sr.Sizes, sr.Images, sr.Masks = sizes.sorted(), images.sorted(), masks.sorted()
	for _, vc := range values {
		sr.Values = append(sr.Values, *vc)
	}
	slices.SortFunc(sr.Values, func(a, b ValueCount) int { return cmp.Compare(a.Value, b.Value) })
	return sr
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// warn adds the warnings: things that train badly or surprise.
func (r *Report) warn(s *scanned, opts Options) {
	w := func(format string, a ...any) { r.Warnings = append(r.Warnings, fmt.Sprintf(format, a...)) }
	var jpegMasks, alpha, sixteen, ignored int
	var example string
	for _, f := range s.folders {
		ignored += len(f.ignored)
		for _, p := range f.pairs {
			if p.msk.Format == formatJPEG {
				jpegMasks++
				if example == "" {
					example = p.Mask
				}
			}
			if p.img.Alpha {
				alpha++
			}
			if p.img.Bits == 16 {
				sixteen++
			}
		}
	}
	if jpegMasks > 0 {
		w("%s JPEG (e.g. %s): JPEG is lossy, its compression makes new values near edges; save masks as PNG", plural(jpegMasks, "mask is", "masks are"), example)
	}
	if ignored > 0 {
		w("%s skipped: not PNG, JPEG, TIFF, BMP or GIF (listed under each split)", plural(ignored, "file", "files"))
	}
	r.Warnings = append(r.Warnings, nestedWarnings(s.folders)...)
	if alpha > 0 {
		w("%s an alpha channel, which is dropped", plural(alpha, "image has", "images have"))
	}
	if sixteen > 0 {
		w("%s 16 bits per sample: values are scaled by 1/65535, so a 12-bit camera's images look dark", plural(sixteen, "image has", "images have"))
	}
	c := r.Classes
	if c == nil || len(r.Splits) == 0 {
		return
	}
	train := r.Splits[0]
	if !c.Colour && c.Binary() && c.Values[0] == 0 && c.Values[1] == 1 {
		w("masks hold 0 and 1: they look black in image viewers; that is fine for training (predictions are written back as 0 and 1)")
	}
	var total int64
	for _, n := range train.ClassPixels {
		total += n
	}
	for _, sr := range r.Splits {
		if sr.Empty == 0 {
			continue
		}
		if c.Binary() {
			w("%s: %s no foreground", sr.Name, plural(sr.Empty, "mask has", "masks have"))
		} else {
			w("%s: %s a single class", sr.Name, plural(sr.Empty, "mask holds", "masks hold"))
		}
	}
	for _, sr := range r.Splits {
		if sr.Tiny > 0 {
			w("%s: %s foreground under 0.1%% of the pixels", sr.Name, plural(sr.Tiny, "mask has", "masks have"))
		}
	}
	if total > 0 && c.Binary() {
		if f := float64(train.ClassPixels[1]) / float64(total); f < 0.01 {
			w("foreground is only %.2f%% of the train pixels: a plain loss may learn to predict background everywhere; weight the classes or use a Dice loss", 100*f)
		}
	}
	if total > 0 && !c.Binary() {
		var rare []string
		for k, n := range train.ClassPixels {
			if float64(n) < 0.01*float64(total) {
				rare = append(rare, fmt.Sprintf("%d (value %s, %.1f%%)", k, c.formatValue(c.Values[k]), 100*float64(n)/float64(total)))
			}
		}
		if len(rare) > 0 {
			w("%s under 1%% of the train pixels: %s; consider class weights", plural(len(rare), "class covers", "classes cover"), strings.Join(rare, ", "))
		}
	}
	for k := range c.Values {
		if train.ClassPixels[k] > 0 {
			continue
		}
		var in []string
		for _, sr := range r.Splits[1:] {
			if sr.ClassPixels[k] > 0 {
				in = append(in, sr.Name)
			}
		}
		where := ""
		if len(in) > 0 {
			where = " (it is in " + strings.Join(in, ", ") + ")"
		}
		w("class %d (value %s) never appears in train%s: the model cannot learn it", k, c.formatValue(c.Values[k]), where)
	}
	if c.Ignore != nil {
		var n int64
		for _, sr := range r.Splits {
			n += sr.IgnoredPixels
		}
		if n == 0 {
			w("the ignore value %s appears in no mask", c.formatValue(*c.Ignore))
		}
	} else if !c.Binary() {
		last := c.Values[len(c.Values)-1]
		if !c.Colour && last == 255 && len(c.Values) > 2 && c.Values[len(c.Values)-2] < 100 {
			w("value 255 stands apart from the other classes: if it marks void pixels (as in Pascal VOC), give it as the ignore value")
		} else {
			w("no ignore value: if one of the values marks void or unlabelled pixels (as 11 in CamVid), give it as the ignore value")
		}
	}
}

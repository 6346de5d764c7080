package dataset

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/segment-dev/segment/augment"
)

// DefaultValFraction is the share of train held out for validation when a data set has
// no val folder and Options.ValFraction is zero.
const DefaultValFraction = 0.1

// Options says how to read a data set. The zero value reads it as it is: channels and
// classes as the files have them, a tenth of train held out for validation when there is
// no val folder.
type Options struct {
	// Channels is the number of channels of every input: 0 takes the images' own (they
	// must all agree), 1 converts to gray (ITU-R 601 luma), 3 to RGB. Alpha is dropped.
	Channels int
	// Classes is the number of classes of the model: 0 infers it from the masks, 1 is
	// binary (a mask holds at most two values, besides Ignore). With N >= 2 the masks may
	// hold at most N values; when they hold fewer, all in 0..N-1, they are read as class
	// indices and the classes are 0..N-1.
	Classes int
	// MaskValues, when not empty, is the mask value of each class in class order, as a
	// model file stores it (colours as 0xRRGGBB). A mask value not listed is an error.
	MaskValues []int
	// Ignore is a mask value (void) whose pixels the loss and metrics skip: they get
	// IgnoreIndex. Nil ignores nothing.
	Ignore *int
	// ClassNames, when not empty, names the classes in class order (Classes.Names): one
	// name per class, checked by CheckNames.
	ClassNames []string
	// ValFraction is the share of train held out for validation when there is no val
	// folder: 0 means DefaultValFraction, a negative value holds out nothing.
	ValFraction float64
	// Fold, when not zero, holds fold Fold.Index of Fold.Count of the train folder out for
	// validation instead (see Fold.Split); ValFraction and a val folder are then not used,
	// since every fold of a cross-validation must validate on its own held-out fold.
	Fold Fold
	// Seed chooses which train pairs are held out.
	Seed uint64
	// MaxPixels bounds the size of an image, width times height, checked on its header
	// before anything is decoded: 0 means DefaultMaxPixels.
	MaxPixels int
	// CacheBytes bounds the memory kept by decoded images and masks: 0 means
	// DefaultCacheBytes, a negative value keeps nothing.
	CacheBytes int64
	// Workers is the number of goroutines that read files while opening: 0 means
	// GOMAXPROCS.
	Workers int

	skipBad bool // OpenSkipping's: a bad pair is left out, not fatal
}

// Pair is an image and its mask.
type Pair struct {
	Name          string // the file stem they share
	Image, Mask   string // paths
	Width, Height int    // the image's size, which is also its mask's
	Channels      int    // the image file's own channels: 1 (gray) or 3 (colour), before Options.Channels

	img, msk fileInfo
	hist     map[int32]int64 // mask pixels per value, in the data set's value space
	stats    imageStats
	decoded  bool // the image was decoded while scanning: stats is set
	bad      bool // something is wrong with this pair
}

// Dataset is an opened data set: its pairs, split, and how pixels become samples.
type Dataset struct {
	Dir   string
	Train []Pair
	Val   []Pair // from a val folder, or held out of train (ValHeldOut)
	Test  []Pair // from a test folder, or empty
	// ValHeldOut says Val was taken from the train folder (the data set has no val folder).
	ValHeldOut bool
	// Channels is the number of channels of every sample's image.
	Channels int
	// Classes says how mask values become class indices, and is what a model file stores.
	Classes Classes
	// Warnings are things found while opening that do not stop the work but that the user
	// should hear about, one line each naming the file or folder: a folder inside images/,
	// say, which is not read.
	Warnings []string

	opts   Options
	colour bool
	index  func(int32) (int32, bool)
	cache  *cache
}

// Open reads the data set at dir: it pairs images and masks, checks every header, decodes
// every image and mask once (filling the cache) and finds the classes. The first problem
// found is returned as an *Error naming its file; Diagnose lists them all.
func Open(dir string, opts Options) (*Dataset, error) {
	opts.skipBad = false
	d, _, err := open(dir, opts)
	return d, err
}

// OpenSkipping is Open for scoring a data set, where one bad pair must not hide the scores of
// the others: it leaves out every pair with a problem (an unreadable or special file, a
// mask of another size, a mask value not among Options.MaskValues, a stack page without its
// partner, ...) and returns those problems, each naming its file, beside the data set of
// the good pairs. It fails, as Open does, only on what concerns the data set as a whole (its
// layout, the options, the classes of all the masks together) or when no pair is good.
func OpenSkipping(dir string, opts Options) (*Dataset, []*Error, error) {
	opts.skipBad = true
	return open(dir, opts)
}

// open is Open, or OpenSkipping with opts.skipBad.
func open(dir string, opts Options) (*Dataset, []*Error, error) {
	limit := opts.CacheBytes
	if limit == 0 {
		limit = DefaultCacheBytes
	}
	d := &Dataset{Dir: dir, opts: opts, cache: newCache(limit)}
	keep := func(path string, pix []float32) { d.cache.put(path, pix, int64(4*len(pix))) }
	s := scan(dir, opts, true, keep)
	skipped := s.problems
	if len(skipped) > 0 && !opts.skipBad {
		return nil, nil, skipped[0]
	}
	if e := s.fatal(); e != nil {
		return nil, nil, e
	}
	d.Channels, d.Classes, d.colour = s.channels, s.classes, s.colour
	d.Warnings = nestedWarnings(s.folders)
	d.index = d.Classes.mapper()
	good := 0
	for _, f := range s.folders {
		pairs := slices.DeleteFunc(f.pairs, func(p Pair) bool { return p.bad })
		good += len(pairs)
		switch f.split {
		case "train":
			d.Train = pairs
		case "val":
			d.Val = pairs
		case "test":
			d.Test = pairs
		}
	}
	if good == 0 && len(skipped) > 0 {
		return nil, nil, skipped[0]
	}
	switch {
	case !opts.Fold.IsZero():
		train, held, err := opts.Fold.Split(d.Train, opts.Seed)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", dir, err)
		}
		d.Train, d.Val, d.ValHeldOut = train, held, true
	case d.Val == nil:
		d.Train, d.Val = holdOut(d.Train, opts.ValFraction, opts.Seed)
		d.ValHeldOut = len(d.Val) > 0
	}
	return d, skipped, nil
}

// fatal gives the first problem that concerns the data set as a whole rather than one pair:
// its layout, an empty folder, the options, or the classes of the masks together.
func (s *scanned) fatal() *Error {
	if s.classErr != nil {
		return s.classErr
	}
	for _, e := range s.problems {
		for _, kind := range []error{ErrLayout, ErrEmpty, ErrBadOptions, ErrOneValue} {
			if errors.Is(e, kind) {
				return e
			}
		}
	}
	return nil
}

// holdOut splits pairs into train and val, val taking frac of them (0: the default share),
// chosen with seed; both keep the order of pairs. It keeps at least one pair on each side
// when there are two or more.
func holdOut(pairs []Pair, frac float64, seed uint64) (train, val []Pair) {
	if frac == 0 {
		frac = DefaultValFraction
	}
	if frac < 0 || len(pairs) < 2 {
		return pairs, nil
	}
	n := int(math.Round(frac * float64(len(pairs))))
	n = min(max(n, 1), len(pairs)-1)
	r := rand.New(rand.NewPCG(seed, 0x76616c)) // "val"
	pick := r.Perm(len(pairs))[:n]
	slices.Sort(pick)
	for i, j := 0, 0; i < len(pairs); i++ {
		if j < len(pick) && pick[j] == i {
			val = append(val, pairs[i])
			j++
		} else {
			train = append(train, pairs[i])
		}
	}
	return train, val
}

// Load gives the sample of pair p: its image as Channels planes of float32 in [0, 1], its
// mask as class indices (IgnoreIndex for ignored pixels). The slices may be shared with
// the cache and with other callers: do not modify them. Load is safe for concurrent use.
func (d *Dataset) Load(p Pair) (*augment.Sample, error) {
	s := &augment.Sample{C: d.Channels, H: p.Height, W: p.Width}
	if v, ok := d.cache.get(p.Image); ok {
		s.Image = v.([]float32)
	} else {
		img, err := decode(p.Image, p.img)
		if err != nil {
			return nil, err
		}
		s.Image = planar(img, d.Channels)
		d.cache.put(p.Image, s.Image, int64(4*len(s.Image)))
	}
	if v, ok := d.cache.get(p.Mask); ok {
		s.Mask = v.([]int32)
		return s, nil
	}
	img, err := decode(p.Mask, p.msk)
	if err != nil {
		return nil, err
	}
	vals := maskValues(img)
	for i, v := range vals {
		c, ok := d.index(normalize(v, p.msk, d.colour))
		if !ok {
			return nil, fileError(p.Mask, fmt.Errorf("%w: value %s is not one of the mask values %s (the file changed since it was opened?)",
				ErrValues, d.Classes.formatValue(int(normalize(v, p.msk, d.colour))), d.Classes.valueList()))
		}
		vals[i] = c
	}
	s.Mask = vals
	d.cache.put(p.Mask, vals, int64(4*len(vals)))
	return s, nil
}

// loadShrunk is Load, shrunk by the factor f (augment.Shrink) when it is above 1: what
// training crops and class positions are taken from. The shrunk sample is cached beside
// the full-size one (which validation scores): made again for every crop, shrinking was a
// twentieth of a CamVid training step.
func (d *Dataset) loadShrunk(p Pair, f int) (*augment.Sample, error) {
	if f <= 1 {
		return d.Load(p)
	}
	key := fmt.Sprintf("%s\x00shrunk %d", p.Image, f) // no path holds a NUL
	if v, ok := d.cache.get(key); ok {
		return v.(*augment.Sample), nil
	}
	s, err := d.Load(p)
	if err != nil {
		return nil, err
	}
	s = augment.Shrink(s, f)
	d.cache.put(key, s, int64(4*(len(s.Image)+len(s.Mask))))
	return s, nil
}

// ClassPixels counts the mask pixels of each class in pairs (from the counts made when the
// data set was opened), and the ignored ones: what class weights are made from.
func (d *Dataset) ClassPixels(pairs []Pair) (perClass []int64, ignored int64) {
	perClass = make([]int64, len(d.Classes.Values))
	for _, p := range pairs {
		for v, n := range p.hist {
			if c, ok := d.index(v); ok && c >= 0 {
				perClass[c] += n
			} else if ok {
				ignored += n
			}
		}
	}
	return perClass, ignored
}

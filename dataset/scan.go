package dataset

import (
	"fmt"
	"path/filepath"

	"github.com/segment-dev/segment/internal/parallel"
)

// scanned is everything a scan of a data set found, good and bad.
type scanned struct {
	dir      string
	flat     bool      // images/ and masks/ directly in dir
	folders  []*folder // train first, then val and test when present
	problems []*Error  // in the order found: layout, pairing, headers, channels, pixels, values
	channels int       // channels of every sample (after Options.Channels)
	colour   bool      // masks are RGB colours
	classes  Classes
	classErr *Error // why there are no classes (also in problems)
}

// histogram counts the pixels of each value.
func histogram(vals []int32) map[int32]int64 {
	var small [256]int64
	h := make(map[int32]int64)
	for _, v := range vals {
		if v >= 0 && v < 256 {
			small[v]++
		} else {
			h[v]++
		}
	}
	for v, n := range small {
		if n > 0 {
			h[int32(v)] = n
		}
	}
	return h
}

// isGrayColour says whether the colour 0xRRGGBB has R = G = B.
func isGrayColour(v int32) bool { return v>>16&0xff == v>>8&0xff && v>>8&0xff == v&0xff }

// normalize turns a value read by maskValues from a mask of info fi into the data set's
// value space: colours 0xRRGGBB when colour is set (gray levels become gray colours),
// else gray levels and palette indices (gray colours become their level).
func normalize(v int32, fi fileInfo, colour bool) int32 {
	switch {
	case colour && fi.Kind == kindGray && fi.Bits == 16:
		return (v >> 8) * 0x010101
	case colour && fi.Kind == kindGray:
		return v * 0x010101
	case !colour && fi.Kind == kindColour:
		return v & 0xff
	}
	return v
}

// scan reads the data set at dir as opts say. With decodeImages it decodes every image
// too (not only its header) and hands its pixels to keep, when keep is not nil.
func scan(dir string, opts Options, decodeImages bool, keep func(path string, pix []float32)) *scanned {
	s := &scanned{dir: dir}
	flat, folders, ferr := findFolders(dir)
	if ferr != nil {
		s.problems = append(s.problems, ferr)
		return s
	}
	s.flat, s.folders = flat, folders
	var all []*Pair
	for _, f := range folders {
		f.pairUp()
		s.problems = append(s.problems, f.problems...)
		for i := range f.pairs {
			all = append(all, &f.pairs[i])
		}
	}

	// Headers: sizes, formats, channels. Nothing is decoded yet.
	headErrs := make([]*Error, 2*len(all))
	parallel.For(2*len(all), opts.workers(), func(i int) {
		p := all[i/2]
		var err error
		if i%2 == 0 {
			p.img, err = probe(p.Image, opts.MaxPixels)
		} else {
			p.msk, err = probe(p.Mask, opts.MaxPixels)
		}
		if err != nil {
			headErrs[i] = err.(*Error)
		}
	})
	for i, p := range all {
		for _, e := range headErrs[2*i : 2*i+2] {
			if e != nil {
				s.problems = append(s.problems, e)
				p.bad = true
			}
		}
		if p.bad {
			continue
		}
		p.Width, p.Height, p.Channels = p.img.Width, p.img.Height, p.img.Channels
		if p.msk.Width != p.Width || p.msk.Height != p.Height {
			s.problems = append(s.problems, fileError(p.Mask, fmt.Errorf("%w: mask is %dx%d, image %s is %dx%d",
				ErrSize, p.msk.Width, p.msk.Height, filepath.Base(p.Image), p.Width, p.Height)))
			p.bad = true
		}
	}
	s.pickChannels(all, opts)

	// Pixels: every mask's values, and every image when asked.
	pixErrs := make([]*Error, 2*len(all))
	nonGray := make([]bool, len(all))
	parallel.For(2*len(all), opts.workers(), func(i int) {
		p := all[i/2]
		if p.bad || (i%2 == 0 && !decodeImages) {
			return
		}
		if i%2 == 0 {
			img, err := decode(p.Image, p.img)
			if err != nil {
				pixErrs[i] = err.(*Error)
				return
			}
			pix := planar(img, s.channels)
			p.stats = pixelStats(pix)
			p.decoded = true
			if keep != nil {
				keep(p.Image, pix)
			}
			return
		}
		img, err := decode(p.Mask, p.msk)
		if err != nil {
			pixErrs[i] = err.(*Error)
			return
		}
		p.hist = histogram(maskValues(img))
		if p.msk.Kind == kindColour {
			for v := range p.hist {
				if !isGrayColour(v) {
					nonGray[i/2] = true
					break
				}
			}
		}
	})
	for i, p := range all {
		for _, e := range pixErrs[2*i : 2*i+2] {
			if e != nil {
				s.problems = append(s.problems, e)
				p.bad = true
			}
		}
		s.colour = s.colour || nonGray[i]
	}

	// Values: one value space for every mask, then the classes.
	var masks []maskScan
	for _, p := range all {
		if p.hist == nil {
			continue
		}
		if s.colour && p.msk.Kind == kindPalette {
			s.problems = append(s.problems, fileError(p.Mask, UnsupportedError("palette mask among RGB colour masks: save every mask the same way")))
			p.bad = true
			continue
		}
		h := make(map[int32]int64, len(p.hist))
		for v, n := range p.hist {
			h[normalize(v, p.msk, s.colour)] += n
		}
		p.hist = h
		if p.bad {
			continue
		}
		m := maskScan{path: p.Mask, format: p.msk.Format, hist: h}
		if opts.skipBad {
			// A mask whose values alone break the classes (one not among the given mask
			// values, or more than the classes) is its pair's problem: the others go on.
			if _, err := inferClasses(dir, []maskScan{m}, s.colour, opts); err != nil && err.Path == m.path {
				s.problems = append(s.problems, err)
				p.bad = true
				continue
			}
		}
		masks = append(masks, m)
	}
	if len(masks) > 0 {
		s.classes, s.classErr = inferClasses(dir, masks, s.colour, opts)
		if s.classErr != nil {
			s.problems = append(s.problems, s.classErr)
		}
	}
	return s
}

// pickChannels sets s.channels: Options.Channels when given, else the channels of the
// images, which must all agree.
func (s *scanned) pickChannels(all []*Pair, opts Options) {
	switch opts.Channels {
	case 1, 3:
		s.channels = opts.Channels
		return
	case 0:
	default:
		s.problems = append(s.problems, fileError(s.dir, fmt.Errorf("%w: Channels is %d: want 0 (as the images are), 1 (gray) or 3 (RGB)", ErrBadOptions, opts.Channels)))
		s.channels = 3
		return
	}
	var n [4]int
	for _, p := range all {
		if !p.bad {
			n[p.Channels]++
		}
	}
	s.channels = 1
	if n[3] > n[1] {
		s.channels = 3
	}
	if n[1] == 0 || n[3] == 0 {
		return
	}
	name := map[int]string{1: "gray", 3: "colour"}
	for _, p := range all {
		if !p.bad && p.Channels != s.channels {
			s.problems = append(s.problems, fileError(p.Image, fmt.Errorf("%w: this image is %s (%s), %d others are %s; set Options.Channels to 1 (gray) or 3 (RGB) to convert",
				ErrChannels, name[p.Channels], p.img.describe(), n[s.channels], name[s.channels])))
			p.bad = true
		}
	}
}

// imageStats sums up an image's pixel values.
type imageStats struct {
	mean, lo, hi float32
}

func pixelStats(pix []float32) imageStats {
	if len(pix) == 0 {
		return imageStats{}
	}
	st := imageStats{lo: pix[0], hi: pix[0]}
	var sum float64
	for _, v := range pix {
		sum += float64(v)
		st.lo = min(st.lo, v)
		st.hi = max(st.hi, v)
	}
	st.mean = float32(sum / float64(len(pix)))
	return st
}

// workers is the number of goroutines that read files: Workers, or one per core.
func (o Options) workers() int {
	if o.Workers > 0 {
		return o.Workers
	}
	return parallel.Workers()
}

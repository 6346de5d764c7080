package objects

import (
	"math"
	"slices"
)

// levelsPerPixel quantises distances for the watershed's queue: a quarter of a pixel.
const levelsPerPixel = 4

// Split separates touching objects, such as nuclei that the mask joins. Within each object
// it floods the distance transform downwards from its regional maxima, the centres of the
// round parts, so that each maximum grows into its own object and two neighbours meet at
// the narrow neck between them (a watershed on the negated distance transform).
//
// A regional maximum is a connected plateau of equal distance (8-connected, within one
// object) with no higher neighbour. Maxima are taken highest first, and one that lies less
// than minSeedDist pixels (Euclidean, between the plateaus' first pixels) from an
// already taken maximum of the same object is no seed: its plateau is flooded from that
// one. minSeedDist is thus the least distance between the centres of two objects that
// Split will separate; raise it to stop the bumps of an uneven outline splitting an object.
//
// Each new object keeps its original's class; ids follow the objects' first pixels. The
// time is linear in the pixels, plus sorting each object's maxima; objects are flooded one
// at a time, so that the work stays in the cache. On error (more than MaxObjects objects)
// l is unchanged.
func (l *Labels) Split(minSeedDist float64) error {
	s := splitter{w: l.W, h: l.H, orig: l.Pix, d: l.SquaredDistances(), minDist: minSeedDist}
	n := s.w * s.h
	s.seen = make([]bool, n)
	s.label = make([]uint16, n)
	s.cell = max(1, int(math.Ceil(minSeedDist)))
	s.grid = map[[2]int][]int32{}
	w := s.w
	s.offsets = [8]int{-w - 1, -w, -w + 1, -1, 1, w - 1, w, w + 1}

	// Each object's pixels, in raster order, by counting sort.
	area := l.Areas()
	start := make([]int32, len(area)+1)
	for id := 1; id < len(area); id++ {
		start[id+1] = start[id] + int32(area[id])
	}
	pixels := make([]int32, start[len(area)])
	fill := slices.Clone(start)
	for i, id := range l.Pix {
		if id != 0 {
			pixels[fill[id]] = int32(i)
			fill[id]++
		}
	}
	for id := 1; id < len(area); id++ {
		if err := s.object(pixels[start[id]:start[id+1]]); err != nil {
			return err
		}
	}

	// Renumber in the order of first pixels, with the classes of the originals.
	newID := make([]uint16, s.seeds+1)
	class := []int{0}
	for i, k := range s.label {
		if k != 0 && newID[k] == 0 {
			newID[k] = uint16(len(class))
			class = append(class, l.Class[l.Pix[i]])
		}
	}
	for i, k := range s.label {
		l.Pix[i] = newID[k]
	}
	l.Class = class
	return nil
}

// splitter holds the state of Split, shared by the objects it floods one after another.
type splitter struct {
	w, h    int
	orig    []uint16 // the objects to split
	d       []uint32 // their squared distance transform
	minDist float64
	seen    []bool   // pixels whose plateau has been looked at
	label   []uint16 // the new objects, numbered as the seeds are taken
	seeds   int
	offsets [8]int // from a pixel to its 8 neighbours, away from the border

	// Per object, reused.
	maxima  []maximum
	plateau []int32
	cell    int
	grid    map[[2]int][]int32 // the seeds taken, by cell of minDist pixels
	buckets [][]int32
}

type maximum struct {
	first      int32  // the plateau's first pixel
	height     uint32 // its squared distance
	start, end int32  // its pixels are plateau[start:end]
}

// neighbours calls f with each 8-neighbour of pixel p inside the image.
func (s *splitter) neighbours(p int, f func(j int)) {
	x, y := p%s.w, p/s.w
	if x > 0 && y > 0 && x < s.w-1 && y < s.h-1 {
		for _, o := range s.offsets {
			f(p + o)
		}
		return
	}
	for dy := -1; dy <= 1; dy++ {
		for dx := -1; dx <= 1; dx++ {
			xx, yy := x+dx, y+dy
			if (dx != 0 || dy != 0) && xx >= 0 && yy >= 0 && xx < s.w && yy < s.h {
				f(yy*s.w + xx)
			}
		}
	}
}

// higher reports whether pixel p has a neighbour in its object farther from the background.
func (s *splitter) higher(p int) bool {
	id, dp := s.orig[p], s.d[p]
	x, y := p%s.w, p/s.w
	if x > 0 && y > 0 && x < s.w-1 && y < s.h-1 {
		for _, o := range s.offsets {
			if j := p + o; s.orig[j] == id && s.d[j] > dp {
				return true
			}
		}
		return false
	}
	found := false
	s.neighbours(p, func(j int) {
		if s.orig[j] == id && s.d[j] > dp {
			found = true
		}
	})
	return found
}

func (s *splitter) level(p int) int { return int(math.Sqrt(float64(s.d[p])) * levelsPerPixel) }

// object splits the object of the given pixels, in raster order.
func (s *splitter) object(pixels []int32) error {
	// The regional maxima: flood each plateau not yet seen from a pixel with no higher
	// neighbour, and keep it when none of its pixels has one either.
	s.maxima, s.plateau = s.maxima[:0], s.plateau[:0]
	for _, p32 := range pixels {
		i := int(p32)
		if s.seen[i] || s.higher(i) {
			continue
		}
		id, height := s.orig[i], s.d[i]
		start := int32(len(s.plateau))
		s.plateau = append(s.plateau, p32)
		s.seen[i] = true
		isMax := true
		for k := int(start); k < len(s.plateau); k++ {
			p := int(s.plateau[k])
			if k > int(start) && isMax && s.higher(p) {
				isMax = false
			}
			s.neighbours(p, func(j int) {
				if !s.seen[j] && s.orig[j] == id && s.d[j] == height {
					s.seen[j] = true
					s.plateau = append(s.plateau, int32(j))
				}
			})
		}
		if isMax {
			s.maxima = append(s.maxima, maximum{first: p32, height: height, start: start, end: int32(len(s.plateau))})
		} else {
			s.plateau = s.plateau[:start]
		}
	}
	slices.SortStableFunc(s.maxima, func(a, b maximum) int {
		switch {
		case a.height > b.height:
			return -1
		case a.height < b.height:
			return 1
		}
		return 0
	})

	// The seeds: maxima farther than minDist from every seed taken before them.
	clear(s.grid)
	top := -1
	for _, m := range s.maxima {
		x, y := int(m.first)%s.w, int(m.first)/s.w
		if s.nearSeed(x, y) {
			continue
		}
		if s.seeds == MaxObjects {
			return ErrTooMany
		}
		s.seeds++
		c := [2]int{x / s.cell, y / s.cell}
		s.grid[c] = append(s.grid[c], m.first)
		for _, p := range s.plateau[m.start:m.end] {
			s.label[p] = uint16(s.seeds)
		}
		top = max(top, s.level(int(m.first)))
	}

	// The flood: a queue of buckets, one per distance level, highest first; a pixel joins
	// the object of the neighbour that reaches it first, and waits at its own level or at
	// the level being flooded, whichever is lower.
	for len(s.buckets) <= top {
		s.buckets = append(s.buckets, nil)
	}
	for _, m := range s.maxima {
		if s.label[m.first] != 0 {
			for _, p := range s.plateau[m.start:m.end] {
				lv := s.level(int(p))
				s.buckets[lv] = append(s.buckets[lv], p)
			}
		}
	}
	for cur := top; cur >= 0; cur-- {
		for k := 0; k < len(s.buckets[cur]); k++ {
			p := int(s.buckets[cur][k])
			id, seed := s.orig[p], s.label[p]
			s.neighbours(p, func(j int) {
				if s.orig[j] == id && s.label[j] == 0 {
					s.label[j] = seed
					lv := min(s.level(j), cur)
					s.buckets[lv] = append(s.buckets[lv], int32(j))
				}
			})
		}
		s.buckets[cur] = s.buckets[cur][:0]
	}
	return nil
}

// nearSeed reports whether a seed of the current object lies less than minDist from (x, y).
func (s *splitter) nearSeed(x, y int) bool {
	if s.minDist <= 0 {
		return false
	}
	cx, cy := x/s.cell, y/s.cell
	for gy := cy - 1; gy <= cy+1; gy++ {
		for gx := cx - 1; gx <= cx+1; gx++ {
			for _, p := range s.grid[[2]int{gx, gy}] {
				dx, dy := float64(int(p)%s.w-x), float64(int(p)/s.w-y)
				if dx*dx+dy*dy < s.minDist*s.minDist {
					return true
				}
			}
		}
	}
	return false
}

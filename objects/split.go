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
// time is linear in the pixels, plus sorting the maxima.
func (l *Labels) Split(minSeedDist float64) error {
	w, h := l.W, l.H
	d := l.SquaredDistances()
	orig := l.Pix
	n := w * h

	// The regional maxima: flood each plateau not yet seen from a pixel with no higher
	// neighbour, and keep it when none of its pixels has one either.
	seen := make([]bool, n)
	type maximum struct {
		first  int32  // the plateau's first pixel
		height uint32 // its squared distance
		start  int32  // its pixels are plateau[start:end]
		end    int32
	}
	var maxima []maximum
	var plateau []int32
	higher := func(i int, id uint16, di uint32) bool {
		x, y := i%w, i/w
		for dy := -1; dy <= 1; dy++ {
			for dx := -1; dx <= 1; dx++ {
				xx, yy := x+dx, y+dy
				if xx < 0 || yy < 0 || xx >= w || yy >= h {
					continue
				}
				j := yy*w + xx
				if orig[j] == id && d[j] > di {
					return true
				}
			}
		}
		return false
	}
	for i := range n {
		id := orig[i]
		if id == 0 || seen[i] || higher(i, id, d[i]) {
			continue
		}
		start := int32(len(plateau))
		plateau = append(plateau, int32(i))
		seen[i] = true
		isMax := true
		for k := int(start); k < len(plateau); k++ {
			p := int(plateau[k])
			if k > int(start) && isMax && higher(p, id, d[p]) {
				isMax = false
			}
			x, y := p%w, p/w
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					xx, yy := x+dx, y+dy
					if xx < 0 || yy < 0 || xx >= w || yy >= h {
						continue
					}
					j := yy*w + xx
					if !seen[j] && orig[j] == id && d[j] == d[i] {
						seen[j] = true
						plateau = append(plateau, int32(j))
					}
				}
			}
		}
		if isMax {
			maxima = append(maxima, maximum{first: int32(i), height: d[i], start: start, end: int32(len(plateau))})
		} else {
			plateau = plateau[:start]
		}
	}
	slices.SortStableFunc(maxima, func(a, b maximum) int {
		switch {
		case a.height > b.height:
			return -1
		case a.height < b.height:
			return 1
		}
		return 0
	})

	// The seeds: maxima farther than minSeedDist from every seed of their object taken
	// before them, found through a grid of cells minSeedDist wide.
	cell := max(1, int(math.Ceil(minSeedDist)))
	grid := map[[2]int][]int32{}
	label := make([]uint16, n) // the new objects, numbered as the seeds are taken
	var seeds []int32          // the first pixel of each seed, by new id - 1
	level := func(i int) int { return int(math.Sqrt(float64(d[i])) * levelsPerPixel) }
	top := 0
	for _, m := range maxima {
		x, y := int(m.first)%w, int(m.first)/w
		id := orig[m.first]
		near := false
		if minSeedDist > 0 {
			cx, cy := x/cell, y/cell
		search:
			for gy := cy - 1; gy <= cy+1; gy++ {
				for gx := cx - 1; gx <= cx+1; gx++ {
					for _, s := range grid[[2]int{gx, gy}] {
						sx, sy := float64(int(s)%w-x), float64(int(s)/w-y)
						if orig[s] == id && sx*sx+sy*sy < minSeedDist*minSeedDist {
							near = true
							break search
						}
					}
				}
			}
		}
		if near {
			continue
		}
		if len(seeds) == MaxObjects {
			return ErrTooMany
		}
		seeds = append(seeds, m.first)
		grid[[2]int{x / cell, y / cell}] = append(grid[[2]int{x / cell, y / cell}], m.first)
		for _, p := range plateau[m.start:m.end] {
			label[p] = uint16(len(seeds))
		}
		top = max(top, level(int(m.first)))
	}

	// The flood: a queue of buckets, one per distance level, highest first; a pixel joins
	// the object of the neighbour that reaches it first, and waits at its own level or at
	// the level being flooded, whichever is lower.
	buckets := make([][]int32, top+1)
	for _, m := range maxima {
		if s := label[m.first]; s != 0 {
			for _, p := range plateau[m.start:m.end] {
				lv := level(int(p))
				buckets[lv] = append(buckets[lv], p)
			}
		}
	}
	for cur := top; cur >= 0; cur-- {
		for k := 0; k < len(buckets[cur]); k++ {
			p := int(buckets[cur][k])
			id, s := orig[p], label[p]
			x, y := p%w, p/w
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					xx, yy := x+dx, y+dy
					if xx < 0 || yy < 0 || xx >= w || yy >= h {
						continue
					}
					j := yy*w + xx
					if orig[j] == id && label[j] == 0 {
						label[j] = s
						lv := min(level(j), cur)
						buckets[lv] = append(buckets[lv], int32(j))
					}
				}
			}
		}
		buckets[cur] = nil
	}

	// Renumber in the order of first pixels, with the classes of the originals.
	newID := make([]uint16, len(seeds)+1)
	class := []int{0}
	for i, s := range label {
		if s != 0 && newID[s] == 0 {
			newID[s] = uint16(len(class))
			class = append(class, l.Class[orig[i]])
		}
	}
	for i, s := range label {
		l.Pix[i] = newID[s]
	}
	l.Class = class
	return nil
}

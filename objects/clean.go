package objects

// Areas returns each object's area in pixels, indexed by id (Areas()[0] is the background's).
func (l *Labels) Areas() []int {
	a := make([]int, len(l.Class))
	for _, id := range l.Pix {
		a[id]++
	}
	return a
}

// keep removes the objects whose keep[id] is false and renumbers the others 1 to N in their
// former order, which keeps ids in the order of the objects' first pixels.
func (l *Labels) keep(keep []bool) {
	newID := make([]uint16, len(l.Class))
	class := []int{0}
	for id := 1; id < len(l.Class); id++ {
		if keep[id] {
			newID[id] = uint16(len(class))
			class = append(class, l.Class[id])
		}
	}
	if len(class) == len(l.Class) {
		return
	}
	for i, id := range l.Pix {
		l.Pix[i] = newID[id]
	}
	l.Class = class
}

// MinSize removes the objects of fewer than n pixels (specks of noise); their pixels join
// the region around them (see absorb), and the objects are renumbered in order. Since
// pixels only ever join kept objects or the background, no object of fewer than n pixels is
// left.
func (l *Labels) MinSize(n int) {
	area := l.Areas()
	drop := make([]bool, len(area))
	for id := 1; id < len(area); id++ {
		drop[id] = area[id] < n
	}
	l.absorb(drop)
}

// KeepLargest keeps only the largest object, or with perClass the largest object of each
// class, for images known to hold one object (an organ, a cell). Of objects of equal area
// the first is kept. The others' pixels join the region around them (see absorb), so with
// perClass each class is left with one object at most.
func (l *Labels) KeepLargest(perClass bool) {
	area := l.Areas()
	best := map[int]int{} // class, or 0 for all -> id
	for id := 1; id < len(area); id++ {
		c := 0
		if perClass {
			c = l.Class[id]
		}
		if b, ok := best[c]; !ok || area[id] > area[b] {
			best[c] = id
		}
	}
	drop := make([]bool, len(area))
	for id := 1; id < len(area); id++ {
		drop[id] = true
	}
	for _, id := range best {
		drop[id] = false
	}
	l.absorb(drop)
}

// absorb removes the objects whose drop[id] is set: each one's pixels join the region
// around it. Of the pixels that border the object (its pixels' 4 side neighbours), the class
// with the most wins, then of that class the object with the most (the background is one
// region, of class 0). In a binary mask only the background borders an object, so a
// removed object becomes background, as it always did. In a multi-class mask, whose class 0
// is often a class like any other (the sky of a street scene), a speck of one class inside
// a region of another becomes that region rather than a hole of class 0.
//
// An object bordered only by other removed objects waits until they have joined a region,
// so that nested specks end up in the region around them all. One bordered by nothing
// else at all (every object of a background-free image removed) becomes background. The
// objects left are renumbered in the order of their first pixels, as Label numbers them.
func (l *Labels) absorb(drop []bool) {
	// The pixels of each removed object, grouped by id (start[id] to start[id+1]).
	start := make([]int32, len(l.Class)+1)
	for _, id := range l.Pix {
		if drop[id] {
			start[id+1]++
		}
	}
	var pending []uint16
	for id := 1; id < len(l.Class); id++ {
		if drop[id] {
			pending = append(pending, uint16(id))
		}
		start[id+1] += start[id]
	}
	if len(pending) == 0 {
		return
	}
	pix := make([]int32, start[len(l.Class)])
	fill := append([]int32(nil), start[:len(l.Class)]...)
	for i, id := range l.Pix {
		if drop[id] {
			pix[fill[id]] = int32(i)
			fill[id]++
		}
	}
	waiting := append([]bool(nil), drop...)
	byClass, byID := map[int]int{}, map[uint16]int{}
	type move struct{ from, to uint16 }
	for len(pending) > 0 {
		// Every object of a round reads the image as the round found it, so the result does
		// not depend on the order the objects are visited in.
		var moves []move
		rest := pending[:0:0]
		for _, id := range pending {
			clear(byClass)
			clear(byID)
			for _, p := range pix[start[id]:start[id+1]] {
				x, y := int(p)%l.W, int(p)/l.W
				for _, q := range [4][2]int{{x - 1, y}, {x + 1, y}, {x, y - 1}, {x, y + 1}} {
					if q[0] < 0 || q[0] >= l.W || q[1] < 0 || q[1] >= l.H {
						continue
					}
					if n := l.Pix[q[1]*l.W+q[0]]; !waiting[n] {
						byClass[l.Class[n]]++
						byID[n]++
					}
				}
			}
			if len(byClass) == 0 {
				rest = append(rest, id)
				continue
			}
			c := -1
			for k, v := range byClass {
				if c < 0 || v > byClass[c] || v == byClass[c] && k < c {
					c = k
				}
			}
			to, found := uint16(0), false
			for n, v := range byID {
				if l.Class[n] == c && (!found || v > byID[to] || v == byID[to] && n < to) {
					to, found = n, true
				}
			}
			moves = append(moves, move{id, to})
		}
		if len(moves) == 0 {
			// Nothing but removed objects anywhere around these: background.
			for _, id := range rest {
				moves = append(moves, move{id, 0})
			}
			rest = nil
		}
		for _, m := range moves {
			for _, p := range pix[start[m.from]:start[m.from+1]] {
				l.Pix[p] = m.to
			}
			waiting[m.from] = false
		}
		pending = rest
	}
	l.renumber()
}

// renumber numbers the objects 1 to N in the order of their first pixels, leaving out ids
// no pixel holds.
func (l *Labels) renumber() {
	newID := make([]uint16, len(l.Class))
	class := []int{0}
	for i, id := range l.Pix {
		if id == 0 {
			continue
		}
		if newID[id] == 0 {
			newID[id] = uint16(len(class))
			class = append(class, l.Class[id])
		}
		l.Pix[i] = newID[id]
	}
	l.Class = class
}

// FillHoles fills the holes of objects. A hole of an object is a region of background
// pixels, connected through their 4 side neighbours, that does not touch the image border
// and whose only neighbours are that object's pixels; it becomes part of the object. A
// background region bounded by two or more objects is no one's hole and stays.
//
// The background is 4-connected because the objects are 8-connected: a ring closed only at
// a diagonal step is one object, and its inside must be a region apart from the outside; with
// 8-connected background the two would leak into one through that diagonal gap.
func (l *Labels) FillHoles() {
	w, h := l.W, l.H
	r := findRuns(l.Pix, w, h, true)
	// owner[root] is the one object around a background component, 0 while none is seen,
	// -1 when it touches the border or two objects.
	owner := make([]int32, len(r.x0))
	see := func(root int32, id uint16) {
		switch o := owner[root]; {
		case o == -1 || id == 0:
		case o == 0:
			owner[root] = int32(id)
		case o != int32(id):
			owner[root] = -1
		}
	}
	for y := range h {
		for k := r.rowStart[y]; k < r.rowStart[y+1]; k++ {
			root := r.find(k)
			x0, x1 := int(r.x0[k]), int(r.x1[k])
			if y == 0 || y == h-1 || x0 == 0 || x1 == w {
				owner[root] = -1
				continue
			}
			see(root, l.Pix[y*w+x0-1])
			see(root, l.Pix[y*w+x1])
			for x := x0; x < x1; x++ {
				see(root, l.Pix[(y-1)*w+x])
				see(root, l.Pix[(y+1)*w+x])
			}
		}
	}
	for y := range h {
		for k := r.rowStart[y]; k < r.rowStart[y+1]; k++ {
			if o := owner[r.find(k)]; o > 0 {
				row := l.Pix[y*w : (y+1)*w]
				for x := r.x0[k]; x < r.x1[k]; x++ {
					row[x] = uint16(o)
				}
			}
		}
	}
}

// OfClass returns a copy holding only the objects of class c, renumbered in order: to score
// each class apart, match OfClass(c) of the prediction with OfClass(c) of the ground truth.
func (l *Labels) OfClass(c int) *Labels {
	out := &Labels{W: l.W, H: l.H, Pix: append([]uint16(nil), l.Pix...), Class: append([]int(nil), l.Class...)}
	keep := make([]bool, len(l.Class))
	for id := 1; id < len(keep); id++ {
		keep[id] = l.Class[id] == c
	}
	out.keep(keep)
	return out
}

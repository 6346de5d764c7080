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

// MinSize removes the objects of fewer than n pixels (specks of noise); the others are
// renumbered in order.
func (l *Labels) MinSize(n int) {
	area := l.Areas()
	keep := make([]bool, len(area))
	for id := 1; id < len(area); id++ {
		keep[id] = area[id] >= n
	}
	l.keep(keep)
}

// KeepLargest keeps only the largest object, or with perClass the largest object of each
// class, for images known to hold one object (an organ, a cell). Of objects of equal area
// the first is kept.
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
	keep := make([]bool, len(area))
	for _, id := range best {
		keep[id] = true
	}
	l.keep(keep)
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

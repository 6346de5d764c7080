package objects

import (
	"errors"
	"fmt"
)

// MaxObjects is the most objects a Labels holds: its pixels are 16-bit.
const MaxObjects = 65535

// ErrTooMany says an image has more objects than a 16-bit label image can number.
var ErrTooMany = errors.New("more than 65535 objects")

// Labels is a label image: each pixel holds the id of the object it belongs to, 0 for
// background and 1 to N for the N objects, with each object's class.
type Labels struct {
	W, H  int
	Pix   []uint16 // W*H ids, row by row
	Class []int    // Class[id] is object id's class; Class[0] is 0, for the background
}

// N returns the number of objects.
func (l *Labels) N() int { return len(l.Class) - 1 }

// Label finds the objects of a class-index map of w by h pixels: the connected components,
// with 8-connectivity, of the pixels of each class other than 0. Object ids follow the
// order of the objects' first pixels, row by row. It fails if the map is not w*h pixels or
// holds more than MaxObjects objects.
func Label[T ~uint8 | ~uint16](classes []T, w, h int) (*Labels, error) {
	if err := checkSize(len(classes), w, h); err != nil {
		return nil, err
	}
	r := findRuns(classes, w, h, false)
	ids, n, err := r.number()
	if err != nil {
		return nil, err
	}
	l := &Labels{W: w, H: h, Pix: make([]uint16, w*h), Class: make([]int, n+1)}
	for y := range h {
		for k := r.rowStart[y]; k < r.rowStart[y+1]; k++ {
			row := l.Pix[y*w : (y+1)*w]
			id := ids[k]
			for x := r.x0[k]; x < r.x1[k]; x++ {
				row[x] = id
			}
			l.Class[id] = int(classes[y*w+int(r.x0[k])])
		}
	}
	return l, nil
}

// FromLabelImage makes a Labels from a label image that is already made, such as a
// ground truth of separate objects: the pixels of each non-zero value are one object of
// class 1, whether they touch or not. Ids are renumbered 1 to N in the order of the objects'
// first pixels.
func FromLabelImage(pix []uint16, w, h int) (*Labels, error) {
	if err := checkSize(len(pix), w, h); err != nil {
		return nil, err
	}
	var newID [1 << 16]uint16
	l := &Labels{W: w, H: h, Pix: make([]uint16, len(pix)), Class: []int{0}}
	for i, v := range pix {
		if v == 0 {
			continue
		}
		if newID[v] == 0 {
			newID[v] = uint16(len(l.Class))
			l.Class = append(l.Class, 1)
		}
		l.Pix[i] = newID[v]
	}
	return l, nil
}

// ClassMap returns the class-index map of the objects: each pixel holds its object's class,
// 0 for background. It turns cleaned objects back into a semantic mask. Classes are bytes,
// as predict's class maps are (at most 256 classes).
func (l *Labels) ClassMap() []uint8 {
	m := make([]uint8, len(l.Pix))
	for i, id := range l.Pix {
		m[i] = uint8(l.Class[id])
	}
	return m
}

func checkSize(n, w, h int) error {
	if w <= 0 || h <= 0 || int64(w)*int64(h) > 1<<31-1 {
		return fmt.Errorf("objects: bad image size %dx%d", w, h)
	}
	if n != w*h {
		return fmt.Errorf("objects: a %dx%d image needs %d pixels, got %d", w, h, w*h, n)
	}
	return nil
}

// runs holds the runs of an image (maximal horizontal stretches of pixels of one value)
// and a union-find forest over them that joins the runs of one component. Working on runs
// rather than pixels keeps the forest small: masks have few runs per row.
type runs struct {
	rowStart []int32 // the runs of row y are rowStart[y] to rowStart[y+1]-1
	x0, x1   []int32 // run k covers x0[k] <= x < x1[k]
	parent   []int32
}

// findRuns finds the runs and components of an image. With background false, a run is a
// stretch of equal non-zero values and components are 8-connected; with background true, a
// run is a stretch of zeros and components are 4-connected.
func findRuns[T ~uint8 | ~uint16](pix []T, w, h int, background bool) *runs {
	r := &runs{rowStart: make([]int32, h+1)}
	ext := int32(1) // 8-connectivity: runs in adjacent rows touch at a corner too
	if background {
		ext = 0
	}
	for y := range h {
		row := pix[y*w : (y+1)*w]
		start := int32(len(r.x0))
		r.rowStart[y] = start
		for x := 0; x < w; {
			v := row[x]
			if (v == 0) != background {
				x++
				continue
			}
			e := x + 1
			for e < w && row[e] == v {
				e++
			}
			k := int32(len(r.x0))
			r.x0 = append(r.x0, int32(x))
			r.x1 = append(r.x1, int32(e))
			r.parent = append(r.parent, k)
			x = e
		}
		if y == 0 {
			continue
		}
		// Join each run to the runs of the row above that touch it and hold the same value.
		// The first candidate only moves right as the runs do, so the work is linear.
		prev := pix[(y-1)*w : y*w]
		a := r.rowStart[y-1]
		for b := start; b < int32(len(r.x0)); b++ {
			for a < start && r.x1[a]+ext <= r.x0[b] {
				a++
			}
			for c := a; c < start && r.x0[c] < r.x1[b]+ext; c++ {
				if prev[r.x0[c]] == row[r.x0[b]] {
					r.union(c, b)
				}
			}
		}
	}
	r.rowStart[h] = int32(len(r.x0))
	return r
}

func (r *runs) find(k int32) int32 {
	for r.parent[k] != k {
		r.parent[k] = r.parent[r.parent[k]]
		k = r.parent[k]
	}
	return k
}

// union joins the components of a and b under the smaller root, so that a component's root
// is its first run.
func (r *runs) union(a, b int32) {
	a, b = r.find(a), r.find(b)
	switch {
	case a < b:
		r.parent[b] = a
	case b < a:
		r.parent[a] = b
	}
}

// number gives each run the id of its component, 1 to n in the order of their first runs.
func (r *runs) number() (ids []uint16, n int, err error) {
	ids = make([]uint16, len(r.x0))
	for k := range r.x0 {
		root := r.find(int32(k))
		if root == int32(k) {
			if n == MaxObjects {
				return nil, 0, ErrTooMany
			}
			n++
			ids[k] = uint16(n)
		} else {
			ids[k] = ids[root]
		}
	}
	return ids, n, nil
}

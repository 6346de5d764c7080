package objects

import (
	"fmt"
	"image"
	"math"
)

// Object is one row of the table of objects.
type Object struct {
	ID, Class int
	Area      int             // pixels
	CX, CY    float64         // centroid: the mean of the pixels' indices (see the package doc)
	Box       image.Rectangle // the smallest rectangle holding the object's pixels
	// Perimeter is the length of the object's outline in pixel sides: the number of sides
	// its pixels share with pixels of other objects, the background or the image border. A
	// single pixel has 4; a w by h rectangle 2(w+h).
	Perimeter int
	// MeanProb is the mean over the object's pixels of the probability plane given to
	// Objects, NaN without one.
	MeanProb float64
}

// Objects returns the table of objects in id order. prob, when not nil, is a plane of w*h
// probabilities (typically each pixel's probability of its predicted class) averaged over
// each object.
func (l *Labels) Objects(prob []float32) ([]Object, error) {
	w, h := l.W, l.H
	if prob != nil && len(prob) != w*h {
		return nil, fmt.Errorf("objects: a %dx%d image needs %d probabilities, got %d", w, h, w*h, len(prob))
	}
	n := l.N()
	obj := make([]Object, n)
	sx := make([]int64, n)
	sy := make([]int64, n)
	sp := make([]float64, n)
	for k := range obj {
		obj[k] = Object{ID: k + 1, Class: l.Class[k+1], Box: image.Rectangle{Min: image.Pt(w, h)}} // image.Rect would swap the corners
	}
	for y := range h {
		row := l.Pix[y*w : (y+1)*w]
		for x, id := range row {
			if id == 0 {
				continue
			}
			o := &obj[id-1]
			o.Area++
			sx[id-1] += int64(x)
			sy[id-1] += int64(y)
			if prob != nil {
				sp[id-1] += float64(prob[y*w+x])
			}
			o.Box.Min.X = min(o.Box.Min.X, x)
			o.Box.Min.Y = min(o.Box.Min.Y, y)
			o.Box.Max.X = max(o.Box.Max.X, x+1)
			o.Box.Max.Y = max(o.Box.Max.Y, y+1)
			p := 0
			if x == 0 || row[x-1] != id {
				p++
			}
			if x == w-1 || row[x+1] != id {
				p++
			}
			if y == 0 || l.Pix[(y-1)*w+x] != id {
				p++
			}
			if y == h-1 || l.Pix[(y+1)*w+x] != id {
				p++
			}
			o.Perimeter += p
		}
	}
	for k := range obj {
		o := &obj[k]
		o.MeanProb = math.NaN()
		if o.Area == 0 {
			o.Box = image.Rectangle{}
			continue
		}
		o.CX = float64(sx[k]) / float64(o.Area)
		o.CY = float64(sy[k]) / float64(o.Area)
		if prob != nil {
			o.MeanProb = sp[k] / float64(o.Area)
		}
	}
	return obj, nil
}

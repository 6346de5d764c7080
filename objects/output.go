package objects

import (
	"image"
	"math"
	"strconv"
)

// Gray16 returns the label image as a 16-bit gray image, the form in which label images
// are saved (PNG or TIFF): each pixel's value is its object's id.
func (l *Labels) Gray16() *image.Gray16 {
	m := image.NewGray16(image.Rect(0, 0, l.W, l.H))
	for i, id := range l.Pix {
		m.Pix[2*i], m.Pix[2*i+1] = uint8(id>>8), uint8(id)
	}
	return m
}

// FromGray16 makes a Labels from a 16-bit label image, as FromLabelImage does.
func FromGray16(m *image.Gray16) (*Labels, error) {
	b := m.Bounds()
	pix := make([]uint16, 0, b.Dx()*b.Dy())
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			pix = append(pix, m.Gray16At(x, y).Y)
		}
	}
	return FromLabelImage(pix, b.Dx(), b.Dy())
}

// CSVHeader is the header row of the objects table (objects.csv): one row per object of a
// page of an image, as Object.CSVRecord gives it.
var CSVHeader = []string{"image", "page", "class", "id", "area", "centroid_x", "centroid_y",
	"bbox_x0", "bbox_y0", "bbox_x1", "bbox_y1", "mean_probability", "perimeter"}

// CSVRecord returns the object's row of the objects table for the given image and page
// (numbered from 1). The bounding box runs from (bbox_x0, bbox_y0) included to (bbox_x1,
// bbox_y1) excluded; the mean probability is empty when there is none.
func (o Object) CSVRecord(image string, page int) []string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	prob := ""
	if !math.IsNaN(o.MeanProb) {
		prob = f(o.MeanProb)
	}
	return []string{image, strconv.Itoa(page), strconv.Itoa(o.Class), strconv.Itoa(o.ID), strconv.Itoa(o.Area),
		f(o.CX), f(o.CY), strconv.Itoa(o.Box.Min.X), strconv.Itoa(o.Box.Min.Y), strconv.Itoa(o.Box.Max.X), strconv.Itoa(o.Box.Max.Y),
		prob, strconv.Itoa(o.Perimeter)}
}

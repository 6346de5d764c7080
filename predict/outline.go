package predict

// outlineEdges marks the pixels of a w x h region map ids (row by row; a region is all the
// pixels of one id) that an outline width pixels wide draws: those whose city-block
// distance to the nearest pixel of another region, or to the outside of the image, is at
// most width. Width 1 is each region's inner boundary, the pixels with a 4-neighbour
// elsewhere; the image's edge counts as elsewhere, so that a region cut by the edge is
// still drawn closed.
//
// The distances come from the two raster passes of the city-block distance transform,
// seeded with 1 at each boundary pixel and capped at width+1. A seed of another region is
// never nearer than that region's own pixels, so the passes need not tell regions apart.
func outlineEdges[T ~uint8 | ~uint16](ids []T, w, h, width int) []bool {
	far := uint8(min(width, MaxOutline) + 1)
	d := make([]uint8, w*h)
	for y := range h {
		row := ids[y*w : (y+1)*w]
		for x, id := range row {
			i := y*w + x
			if x == 0 || x == w-1 || y == 0 || y == h-1 || row[x-1] != id || row[x+1] != id || ids[i-w] != id || ids[i+w] != id {
				d[i] = 1
			} else {
				d[i] = far
			}
		}
	}
	step := func(a, b uint8) uint8 { return min(a, b+1, far) }
	for y := 1; y < h; y++ {
		for x := 1; x < w; x++ {
			i := y*w + x
			d[i] = step(step(d[i], d[i-1]), d[i-w])
		}
	}
	for y := h - 2; y >= 0; y-- {
		for x := w - 2; x >= 0; x-- {
			i := y*w + x
			d[i] = step(step(d[i], d[i+1]), d[i+w])
		}
	}
	edge := make([]bool, w*h)
	for i, v := range d {
		edge[i] = int(v) <= width
	}
	return edge
}

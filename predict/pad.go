package predict

// PadFor gives the padding before and after a side of length n that makes it a multiple of
// mul: split evenly, the extra pixel after. A Predictor mirrors an image into this margin,
// and its tiles start on the grid of the padded image.
func PadFor(n, mul int) (before, after int) {
	total := (n+mul-1)/mul*mul - n
	return total / 2, total - total/2
}

// ReflectIndex maps a position i outside [0, n) back inside by mirroring at the edges
// without repeating the edge pixel (numpy's and PyTorch's "reflect"), as often as needed, so
// that a pad wider than the image still works. Everything that pads an image uses it, so
// that tiles and whole images see the same borders.
func ReflectIndex(i, n int) int {
	if n == 1 {
		return 0
	}
	period := 2 * (n - 1)
	i %= period
	if i < 0 {
		i += period
	}
	if i >= n {
		i = period - i
	}
	return i
}

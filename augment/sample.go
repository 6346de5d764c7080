package augment

// Sample is an image and its mask, the unit augmentations work on.
type Sample struct {
	C, H, W int // channels, height and width
	// Image holds C planes of H rows of W float32 values in [0, 1]: channel c at (x, y)
	// is Image[(c*H+y)*W+x].
	Image []float32
	// Mask holds H rows of W class indices: (x, y) is Mask[y*W+x]. Negative indices
	// (ignored pixels) are carried like any other. Mask may be nil: then only the image is
	// transformed.
	Mask []int32
}

// NewSample allocates a sample of the given size, with a mask.
func NewSample(c, h, w int) *Sample {
	return &Sample{C: c, H: h, W: w, Image: make([]float32, c*h*w), Mask: make([]int32, h*w)}
}

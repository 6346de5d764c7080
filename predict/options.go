package predict

import (
	"fmt"
	"math"

	"github.com/segment-dev/segment/unet"
)

// Defaults of Options.
const (
	// DefaultTile is the side of the tiles an image is cut into when it is too big for the
	// memory budget in one piece: nnU-Net's usual 2-D patch size, and a size at which the
	// network's zero padding reaches a small share of the tile.
	DefaultTile = 256
	// DefaultOverlap is the share of a tile its neighbour overlaps. nnU-Net uses 0.5, which
	// runs the network on four times the image's pixels; on a CPU a quarter costs 1.8 times
	// and, with the Gaussian blending and tiles wider than the network's reach, changes few
	// pixels' class: the ISBI test images in tiles of 256 score as they do whole, to the
	// fourth decimal (the package tests measure the differences in probability).
	DefaultOverlap = 0.25
	// DefaultThreshold is the foreground probability above which a pixel of a binary model
	// is foreground: the logit's sign. Training's validation decides with it too.
	DefaultThreshold = 0.5
	// DefaultMemory is the memory the network may take, in bytes, when Options.Memory is 0:
	// enough to run a base-32 depth-4 model on a 512x512 image whole.
	DefaultMemory = 4 << 30
)

// bytesPerUnit is the memory, resident set included, that the inference graph takes per
// feature value of its widest layers, measured with the gorgonia graph of package unet: it
// keeps every intermediate tensor of a pass (convolution, normalisation, activation,
// im2col buffers) and the garbage collector lets the heap grow to about twice what is live.
// Measured: 180-215 bytes for base 8 to 32, depth 3 to 4, tiles of 256 and 512.
const bytesPerUnit = 200

// Options says how to predict. The zero value takes the defaults.
type Options struct {
	// Tile is the side of the square tiles, rounded up to a multiple of 2^depth. 0 runs an
	// image whole when the network fits Memory at its size, else in tiles of DefaultTile
	// (smaller if even that does not fit).
	Tile int
	// Overlap is the share of a tile that its neighbours overlap, in [0, 1). Zero means
	// DefaultOverlap; a negative value means no overlap.
	Overlap float64
	// Batch is the number of tiles run in one pass of the network; 0 means 1. On a CPU a
	// larger batch gains little and costs its memory many times over.
	Batch int
	// TTA averages the predictions of the image flipped left-right, top-bottom and both.
	TTA bool
	// Threshold is the foreground probability above which a pixel of a binary model is
	// foreground; 0 means DefaultThreshold. Multi-class models take the most probable class.
	Threshold float64
	// Memory bounds the memory of the network, in bytes, which decides between whole images
	// and tiles, and how many graphs of shapes run before a Predictor keeps; 0 means
	// DefaultMemory.
	Memory int64
}

// withDefaults fills in the defaults and checks the values.
func (o Options) withDefaults() (Options, error) {
	switch {
	case o.Tile < 0:
		return o, fmt.Errorf("tile %d: want 0 (automatic) or a positive side", o.Tile)
	case o.Overlap >= 1 || math.IsNaN(o.Overlap):
		return o, fmt.Errorf("overlap %g: want a share of the tile below 1", o.Overlap)
	case o.Batch < 0:
		return o, fmt.Errorf("batch %d: want a positive number of tiles", o.Batch)
	case o.Threshold < 0 || o.Threshold >= 1 || math.IsNaN(o.Threshold):
		return o, fmt.Errorf("threshold %g: want a probability in (0, 1)", o.Threshold)
	case o.Memory < 0:
		return o, fmt.Errorf("memory %d: want a positive number of bytes", o.Memory)
	}
	if o.Overlap == 0 {
		o.Overlap = DefaultOverlap
	}
	if o.Overlap < 0 {
		o.Overlap = 0
	}
	if o.Batch == 0 {
		o.Batch = 1
	}
	if o.Threshold == 0 {
		o.Threshold = DefaultThreshold
	}
	if o.Memory == 0 {
		o.Memory = DefaultMemory
	}
	return o, nil
}

// NetBytes estimates the memory the inference graph of cfg takes for a batch of n inputs of
// h x w (multiples of 2^depth): bytesPerUnit for every feature value of every level.
func NetBytes(cfg unet.Config, n, h, w int) int64 {
	var units int64
	for l := 0; l <= cfg.Depth; l++ {
		units += int64(cfg.Channels(l)) * int64(h>>l) * int64(w>>l)
	}
	units += int64(cfg.InChannels+cfg.Classes) * int64(h) * int64(w)
	return bytesPerUnit * int64(n) * units
}

// roundUp gives the smallest multiple of mul that is at least n.
func roundUp(n, mul int) int { return (n + mul - 1) / mul * mul }

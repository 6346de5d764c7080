package predict

import (
	"fmt"
	"math"

	"github.com/segment-dev/segment/augment"
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
	// TTA averages the predictions of the image and of its mirror images (flipped back):
	// those of Mirrors.
	TTA bool
	// Mirrors are the mirror images TTA averages over: the ones the model learned to see as
	// the same image (augment.Pipeline.Mirrors of its training's augmentation), since a
	// mirror it never saw (a street scene upside down) only adds errors. The zero value
	// means both, and with them the two together: left-right, top-bottom and both.
	Mirrors Mirrors
	// Threshold is the foreground probability above which a pixel of a binary model is
	// foreground; 0 means DefaultThreshold. Multi-class models take the most probable class.
	Threshold float64
	// Memory bounds the memory of the network, in bytes, which decides between whole images
	// and tiles, and how many graphs of shapes run before a Predictor keeps; 0 means
	// DefaultMemory.
	Memory int64
	// Downsample is the factor the model's training shrank its images by (the model
	// file's, weights.Meta.Downsample): each image is shrunk alike (augment.ShrinkPlanes)
	// before the network sees it, and the probabilities are scaled back to the image's
	// size bilinearly before the classes are decided. 0 and 1 take images as they are.
	// Tile and Memory apply to the shrunk image.
	Downsample int
}

// Mirrors says which mirror images of an image test-time augmentation uses.
type Mirrors struct{ LeftRight, TopBottom bool }

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
	case o.Downsample < 0 || o.Downsample > augment.MaxShrink:
		return o, fmt.Errorf("downsample %d: want a factor from 1 to %d", o.Downsample, augment.MaxShrink)
	}
	o.Downsample = max(o.Downsample, 1)
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
// h x w (multiples of 2^depth): twice the model's weights and the most its layers' outputs
// hold at once (unet.Arch.ActivationBytes). The graph gives an output memory shared with
// outputs that are never alive at the same time, so it holds about that peak (1.2 times it
// at depth 4, as a shared buffer keeps the size of the largest output it held), and the
// garbage collector lets the heap grow up to twice what is live. Measured at depth 4 (base
// 16 on 1024x1024 and 2048x2048, base 32 on 512x512, base 64 on 256x256), the peak resident
// set was 1.3 to 1.5 times weights and peak.
func NetBytes(cfg unet.Config, n, h, w int) int64 {
	var weights int64
	for _, p := range cfg.Params() {
		weights += 4 * int64(p.Size())
	}
	return 2 * (weights + cfg.Arch().ActivationBytes(n, h, w))
}

// roundUp gives the smallest multiple of mul that is at least n.
func roundUp(n, mul int) int { return (n + mul - 1) / mul * mul }

package main

import (
	"flag"

	"github.com/segment-dev/segment/unet"
)

// blockFlags registers --growth and --dense-layers, the shape of dense blocks, beside a
// command's --block; the function it gives sets them into a configuration whose Block and
// BaseChannels are known, filling the defaults (unet.DefaultGrowth, unet.DefaultDenseLayers)
// for dense blocks and leaving both zero for others, as their configuration requires.
func blockFlags(fs *flag.FlagSet) func(c *unet.Config) error {
	growth := fs.Int("growth", 0, "dense blocks: channels each convolution adds at level 0, doubled at each level down (default: half the base channels)")
	layers := fs.Int("dense-layers", unet.DefaultDenseLayers, "dense blocks: 3x3 convolutions in each level's block")
	return func(c *unet.Config) error {
		if c.Block != unet.BlockDense {
			set := false
			fs.Visit(func(f *flag.Flag) { set = set || f.Name == "growth" || f.Name == "dense-layers" })
			if set {
				return usagef("--growth and --dense-layers need --block dense")
			}
			c.Growth, c.DenseLayers = 0, 0
			return nil
		}
		c.Growth, c.DenseLayers = *growth, *layers
		if c.Growth == 0 {
			c.Growth = unet.DefaultGrowth(c.BaseChannels)
		}
		return nil
	}
}

package unet

import (
	"encoding/json"
	"fmt"
)

// Skip says how the decoder joins each level to the encoder through the long skip connection.
type Skip string

// The long-skip joins a model can use.
const (
	SkipConcat Skip = "concat" // torch.cat([skip, up], 1): U-Net, DenseNet style
	SkipAdd    Skip = "add"    // skip + up: ResNet style
	SkipNone   Skip = "none"   // no long skips: the upsampled tensor goes on alone
)

// Norm names the normalisation that follows every 3x3 convolution.
type Norm string

// The normalisations a model can use.
const (
	NormBatch Norm = "batch"
	NormGroup Norm = "group"
	NormNone  Norm = "none"
)

// Block says what each level's pair of 3x3 convolutions is: a plain double convolution, or
// a residual block that adds the block's input to its output (ResNet's short skip).
type Block string

// The blocks a model can use. The empty Block means BlockPlain, so that configurations
// written before blocks existed (and PyTorch's reference U-Net) read as what they are.
const (
	BlockPlain    Block = "plain"    // (conv => norm => ReLU) * 2
	BlockResidual Block = "residual" // conv => norm => ReLU => conv => norm, + shortcut(x), => ReLU
)

// IsZero reports whether b is the plain block, so that the JSON of a plain model leaves
// "block" out and stays exactly what it was before residual blocks existed.
func (b Block) IsZero() bool { return b == "" || b == BlockPlain }

// UpTranspose is the only upsampling the model knows: a 2x2 stride-2 transposed convolution.
const UpTranspose = "transpose"

// BatchNormEps and BatchNormMomentum are PyTorch's defaults, so that models move between
// the two tools and give the same numbers.
const (
	BatchNormEps      = 1e-5
	BatchNormMomentum = 0.1
	GroupNormEps      = 1e-5
)

// Config is the shape of a U-Net. It is stored as JSON in a model file's metadata
// under "config", with the field names below.
type Config struct {
	InChannels   int    `json:"in_channels"`
	Classes      int    `json:"classes"` // 1 means binary with a sigmoid; >= 2 a softmax over classes
	Depth        int    `json:"depth"`   // number of 2x downsamplings
	BaseChannels int    `json:"base_channels"`
	Skip         Skip   `json:"skip"`
	Norm         Norm   `json:"norm"`
	Up           string `json:"up"`
	// Block is the block of every level, encoder and decoder; empty means BlockPlain and
	// is left out of the JSON, as is "plain".
	Block Block `json:"block,omitzero"`
	// Groups is the number of groups of a group norm; 0 picks DefaultGroups. Unused by other norms.
	Groups int `json:"groups,omitempty"`
}

// DefaultConfig is the classic U-Net for one gray channel and a binary mask, at a width that
// trains in minutes on a laptop.
func DefaultConfig() Config {
	return Config{InChannels: 1, Classes: 1, Depth: 4, BaseChannels: 16, Skip: SkipConcat, Norm: NormBatch, Up: UpTranspose}
}

// Channels gives the number of feature channels at level l (0 is full resolution, Depth the bottleneck).
func (c Config) Channels(l int) int { return c.BaseChannels << l }

// Multiple is the factor that input height and width are padded to: 2^Depth.
func (c Config) Multiple() int { return 1 << c.Depth }

// NumGroups is the number of group-norm groups actually used: Groups, or the largest of
// 32, 16, 8, 4, 2, 1 that divides the base channel count (and so every level's count).
func (c Config) NumGroups() int {
	if c.Groups > 0 {
		return c.Groups
	}
	for _, g := range []int{32, 16, 8, 4, 2} {
		if c.BaseChannels%g == 0 && c.BaseChannels/g >= 2 {
			return g
		}
	}
	return 1
}

// Validate reports the first field that makes the configuration unusable.
func (c Config) Validate() error {
	switch {
	case c.InChannels < 1:
		return fmt.Errorf("in_channels must be at least 1, got %d", c.InChannels)
	case c.Classes < 1:
		return fmt.Errorf("classes must be at least 1, got %d", c.Classes)
	case c.Depth < 1 || c.Depth > 8:
		return fmt.Errorf("depth must be between 1 and 8, got %d", c.Depth)
	case c.BaseChannels < 1 || c.BaseChannels > 1024:
		return fmt.Errorf("base_channels must be between 1 and 1024, got %d", c.BaseChannels)
	}
	switch c.Skip {
	case SkipConcat, SkipAdd, SkipNone:
	default:
		return fmt.Errorf("skip must be concat, add or none, got %q", c.Skip)
	}
	switch c.Norm {
	case NormBatch, NormNone:
	case NormGroup:
		if g := c.NumGroups(); g < 1 || c.BaseChannels%g != 0 {
			return fmt.Errorf("group norm: %d groups do not divide %d base channels", g, c.BaseChannels)
		}
	default:
		return fmt.Errorf("norm must be batch, group or none, got %q", c.Norm)
	}
	switch c.Block {
	case "", BlockPlain, BlockResidual:
	default:
		return fmt.Errorf("block must be plain or residual, got %q", c.Block)
	}
	if c.Up != UpTranspose {
		return fmt.Errorf("up must be %q, got %q", UpTranspose, c.Up)
	}
	return nil
}

// String gives the configuration as the JSON stored in a model file.
func (c Config) String() string {
	b, _ := json.Marshal(c)
	return string(b)
}

// ParamKind tells trainable parameters from the statistics a batch norm keeps.
type ParamKind int

// The kinds of tensors a model holds.
const (
	Weight ParamKind = iota // learned by gradient descent
	Buffer                  // running statistics, updated by training but not by the optimiser
)

// ParamSpec names one tensor of a model and its shape, as in the model file.
type ParamSpec struct {
	Name  string
	Shape []int
	Kind  ParamKind
}

// Size is the number of elements of the tensor.
func (p ParamSpec) Size() int {
	n := 1
	for _, d := range p.Shape {
		n *= d
	}
	return n
}

// Residual reports whether the model's blocks are residual.
func (c Config) Residual() bool { return c.Block == BlockResidual }

// Params lists every tensor of the model in a fixed order (encoder, decoder from the bottom
// up, head), with exactly the names and shapes of the model file format. A residual block
// whose input and output channel counts differ adds its shortcut's 1x1 projection,
// {block}.proj.weight [out, in, 1, 1] and {block}.proj.bias [out], after its norm2; the
// projection always has a bias and no normalisation, whatever the model's norm.
func (c Config) Params() []ParamSpec {
	var ps []ParamSpec
	conv := func(prefix string, out, in, k int) {
		ps = append(ps, ParamSpec{prefix + ".weight", []int{out, in, k, k}, Weight})
		if c.Norm == NormNone {
			ps = append(ps, ParamSpec{prefix + ".bias", []int{out}, Weight})
		}
	}
	norm := func(prefix string, ch int) {
		if c.Norm == NormNone {
			return
		}
		ps = append(ps, ParamSpec{prefix + ".weight", []int{ch}, Weight}, ParamSpec{prefix + ".bias", []int{ch}, Weight})
		if c.Norm == NormBatch {
			ps = append(ps, ParamSpec{prefix + ".running_mean", []int{ch}, Buffer}, ParamSpec{prefix + ".running_var", []int{ch}, Buffer})
		}
	}
	proj := func(prefix string, out, in int) {
		if c.Residual() && in != out {
			ps = append(ps, ParamSpec{prefix + ".proj.weight", []int{out, in, 1, 1}, Weight}, ParamSpec{prefix + ".proj.bias", []int{out}, Weight})
		}
	}
	for l := 0; l <= c.Depth; l++ {
		in := c.InChannels
		if l > 0 {
			in = c.Channels(l - 1)
		}
		p := fmt.Sprintf("encoder.%d", l)
		conv(p+".conv1", c.Channels(l), in, 3)
		norm(p+".norm1", c.Channels(l))
		conv(p+".conv2", c.Channels(l), c.Channels(l), 3)
		norm(p+".norm2", c.Channels(l))
		proj(p, c.Channels(l), in)
	}
	for l := c.Depth - 1; l >= 0; l-- {
		p := fmt.Sprintf("decoder.%d", l)
		ch := c.Channels(l)
		ps = append(ps, ParamSpec{p + ".up.weight", []int{c.Channels(l + 1), ch, 2, 2}, Weight}, ParamSpec{p + ".up.bias", []int{ch}, Weight})
		in := ch
		if c.Skip == SkipConcat {
			in = 2 * ch
		}
		conv(p+".conv1", ch, in, 3)
		norm(p+".norm1", ch)
		conv(p+".conv2", ch, ch, 3)
		norm(p+".norm2", ch)
		proj(p, ch, in)
	}
	ps = append(ps, ParamSpec{"head.weight", []int{c.Classes, c.Channels(0), 1, 1}, Weight}, ParamSpec{"head.bias", []int{c.Classes}, Weight})
	return ps
}

// MACs counts the multiply-adds of the convolutions (3x3, transposed 2x2 and the 1x1 head)
// of one forward pass over one h x w image (h and w multiples of 2^depth): the measure of
// work that GFLOP/s figures are made from (2 FLOPs per multiply-add). Normalisation, ReLU,
// pooling and the residual projections' cheap 1x1s are left out, as speed comparisons do.
func (c Config) MACs(h, w int) int64 {
	var n int64
	conv := func(out, in, k, hh, ww int) { n += int64(out) * int64(in) * int64(k*k) * int64(hh) * int64(ww) }
	for l := 0; l <= c.Depth; l++ {
		hh, ww := h>>l, w>>l
		in := c.InChannels
		if l > 0 {
			in = c.Channels(l - 1)
		}
		conv(c.Channels(l), in, 3, hh, ww)
		conv(c.Channels(l), c.Channels(l), 3, hh, ww)
	}
	for l := c.Depth - 1; l >= 0; l-- {
		hh, ww := h>>l, w>>l
		// The transposed convolution: every input pixel of level l+1 meets a 2x2 kernel.
		conv(c.Channels(l), c.Channels(l+1), 2, hh/2, ww/2)
		in := c.Channels(l)
		if c.Skip == SkipConcat {
			in *= 2
		}
		conv(c.Channels(l), in, 3, hh, ww)
		conv(c.Channels(l), c.Channels(l), 3, hh, ww)
	}
	conv(c.Classes, c.Channels(0), 1, h, w)
	return n
}

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

// Block says what each level's 3x3 convolutions are: a plain double convolution, a
// residual block that adds the block's input to its output (ResNet's short skip), or a
// dense block whose every convolution reads the concatenation of all that came before it
// in the level (DenseNet's short skip).
type Block string

// The blocks a model can use. The empty Block means BlockPlain, so that configurations
// written before blocks existed (and PyTorch's reference U-Net) read as what they are.
const (
	BlockPlain    Block = "plain"    // (conv => norm => ReLU) * 2
	BlockResidual Block = "residual" // conv => norm => ReLU => conv => norm, + shortcut(x), => ReLU
	BlockDense    Block = "dense"    // DenseLayers * (cat => conv => norm => ReLU), cat => 1x1 conv => norm => ReLU
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
	// Growth and DenseLayers shape a dense block: each of its DenseLayers convolutions
	// adds Growth<<level channels (GrowthAt) to the ones before. Both are left out of the
	// JSON of other blocks, which must leave them zero.
	Growth      int `json:"growth,omitempty"`
	DenseLayers int `json:"dense_layers,omitempty"`
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
		if c.Growth != 0 || c.DenseLayers != 0 {
			return fmt.Errorf("growth and dense_layers belong to dense blocks, got %d and %d with block %q", c.Growth, c.DenseLayers, c.Block)
		}
	case BlockDense:
		if c.Growth < 1 || c.Growth > 1024 || c.DenseLayers < 1 || c.DenseLayers > 16 {
			return fmt.Errorf("dense block: growth must be between 1 and 1024 and dense_layers between 1 and 16, got %d and %d", c.Growth, c.DenseLayers)
		}
		if c.Norm == NormGroup && c.Growth%c.NumGroups() != 0 {
			return fmt.Errorf("dense block with group norm: %d groups do not divide the growth %d", c.NumGroups(), c.Growth)
		}
	default:
		return fmt.Errorf("block must be plain, residual or dense, got %q", c.Block)
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

// InitRule is how New fills a tensor. The zero value is no rule, which New refuses: a
// tensor whose module names no rule must not silently start at zero.
type InitRule int

// The initialisation rules.
const (
	InitZero InitRule = iota + 1 // biases, shifts, running means
	InitOne                      // norm scales, running variances
	// InitHe draws from a normal of mean 0 and standard deviation sqrt(2/FanIn): He's rule
	// for layers followed by ReLU, which keeps a deep net without normalisation trainable.
	InitHe
)

// ParamSpec names one tensor of a model, its shape as in the model file, and how New
// initialises it.
type ParamSpec struct {
	Name  string
	Shape []int
	Kind  ParamKind
	Init  InitRule
	FanIn int // InitHe: the number of inputs each output of the layer sums
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

// GrowthAt is the number of channels each convolution of a dense block at level l adds:
// Growth doubled at each level down, as the level widths are, so that a dense block keeps
// the same share of its level's width at every depth.
func (c Config) GrowthAt(l int) int { return c.Growth << l }

// DefaultGrowth is the growth rate dense blocks get when none is given: half the base
// width. With DefaultDenseLayers a level of width c then costs 22.75 c^2 multiply-adds a
// pixel (three 3x3 convolutions to c/2 from c, 1.5c and 2c channels, and the 1x1 transition
// from 2.5c), a quarter more than a plain block's 18 c^2: the variants stay comparable.
func DefaultGrowth(base int) int { return max(1, base/2) }

// DefaultDenseLayers is the number of 3x3 convolutions of a dense block when none is given.
const DefaultDenseLayers = 3

package unet

import "fmt"

// Arch is the network as a tree of modules, the one description of it: the parameter list
// (Params), initialisation (New), cost (MACs), the memory estimate (ActivationBytes), the
// training and inference graphs, `segment inspect` and exporters are all walks over it.
// It reads like the diagram: Inc is the first encoder block, Down[i] is down{i+1} (pool,
// then the block of encoder level i+1; the last is the bottleneck), Up[i] is up{i+1}
// (decoder level Depth-1-i) and Outc the 1x1 head. The skips are the encoder blocks'
// outputs x1..x{Depth+1}.
type Arch struct {
	Config Config
	Inc    *DoubleConv
	Down   []*Down
	Up     []*Up
	Outc   *Conv
}

// Tensor names of the network's input and output in Steps.
const (
	InputName  = "image"
	OutputName = "logits"
)

// Arch builds the module tree of c. It does not validate c; New and FromTensors do.
func (c Config) Arch() *Arch {
	a := &Arch{Config: c, Inc: newDoubleConv(c, "encoder.0", c.InChannels, c.Channels(0))}
	for l := 1; l <= c.Depth; l++ {
		a.Down = append(a.Down, newDown(c, l))
	}
	for l := c.Depth - 1; l >= 0; l-- {
		a.Up = append(a.Up, newUp(c, l))
	}
	a.Outc = &Conv{Path: "head", In: c.Channels(0), Out: c.Classes, Kernel: 1, Stride: 1, Bias: true}
	return a
}

// Step is one layer in forward order with the tensors it reads and writes, by name. The
// input is InputName, the output OutputName, the encoder blocks' outputs (the skips) x1 ..
// x{Depth+1}, a decoder block's output its path ("decoder.0"), and every other tensor the
// path of the layer that writes it ("encoder.0.conv1"). Names are unique: each is written
// by one step.
type Step struct {
	Layer Layer
	In    []string
	Out   string
	// Channels and Level give the output's shape for an input of n x C x h x w:
	// n x Channels x h/2^Level x w/2^Level.
	Channels, Level int
}

// Shape gives the step's output shape for an input batch of n images of h x w.
func (s Step) Shape(n, h, w int) []int { return []int{n, s.Channels, h >> s.Level, w >> s.Level} }

// Bytes gives the size of the step's float32 output for n images of h x w.
func (s Step) Bytes(n, h, w int) int64 {
	return 4 * int64(n) * int64(s.Channels) * int64(h>>s.Level) * int64(w>>s.Level)
}

// MACs gives the step's multiply-adds for n images of h x w.
func (s Step) MACs(n, h, w int) int64 { return int64(n) * s.Layer.MACs(h>>s.Level, w>>s.Level) }

// Part is one box of the diagram: inc, down1..down{Depth}, up1..up{Depth} or outc, with its
// layers in forward order.
type Part struct {
	Label string // "inc", "down1", "up1", "outc"
	Path  string // the module path that prefixes its tensors: "encoder.0", "decoder.3", "head"
	Steps []Step
}

// Parts gives the boxes of the diagram in forward order.
func (a *Arch) Parts() []Part {
	d := a.Config.Depth
	skip := func(i int) string { return fmt.Sprintf("x%d", i+1) }
	ps := []Part{{"inc", a.Inc.Path, a.Inc.steps(InputName, skip(0), 0)}}
	for i, dn := range a.Down {
		ps = append(ps, Part{fmt.Sprintf("down%d", i+1), dn.Conv.Path, dn.steps(skip(i), skip(i+1), i+1)})
	}
	x := skip(d)
	for i, up := range a.Up {
		l := d - 1 - i
		ps = append(ps, Part{fmt.Sprintf("up%d", i+1), up.Conv.Path, up.steps(x, skip(l), up.Conv.Path, l)})
		x = up.Conv.Path
	}
	head := Step{Layer: a.Outc, In: []string{x}, Out: OutputName, Channels: a.Outc.Out}
	return append(ps, Part{"outc", a.Outc.Path, []Step{head}})
}

// Steps gives every layer in forward order: the walk that builds the graphs and that an
// exporter follows.
func (a *Arch) Steps() []Step {
	var s []Step
	for _, p := range a.Parts() {
		s = append(s, p.Steps...)
	}
	return s
}

// Params lists every tensor of the model in the model file's order: encoder, decoder from
// the bottom up, head; within a block conv1, norm1, conv2, norm2, then the residual
// projection.
func (a *Arch) Params() []ParamSpec {
	var ps []ParamSpec
	for _, s := range a.Steps() {
		ps = append(ps, s.Layer.Params()...)
	}
	return ps
}

// MACs counts the multiply-adds of one forward pass over one h x w image (h and w multiples
// of 2^depth): the convolutions', transposed and 1x1 included.
func (a *Arch) MACs(h, w int) int64 {
	var n int64
	for _, s := range a.Steps() {
		n += s.MACs(1, h, w)
	}
	return n
}

// ActivationBytes is the most memory the layers' outputs take at once in a forward pass of
// n images of h x w, when the layers run in forward order and each output is held from the
// layer that writes it to the last layer that reads it, the input and the logits
// throughout. The inference graph's buffer plan (plan.go) holds 1.2 to 1.7 times this (1.2
// at depth 4): its shared buffers keep the size of the largest output they held, while the
// fused ops hold less.
func (a *Arch) ActivationBytes(n, h, w int) int64 {
	steps := a.Steps()
	lastRead := make(map[string]int)
	for i, s := range steps {
		for _, in := range s.In {
			lastRead[in] = i
		}
	}
	size := map[string]int64{InputName: Step{Channels: a.Config.InChannels}.Bytes(n, h, w)}
	live, peak := size[InputName], int64(0)
	for i, s := range steps {
		size[s.Out] = s.Bytes(n, h, w)
		live += size[s.Out]
		peak = max(peak, live)
		free := func(t string) {
			if r, read := lastRead[t]; (r == i || !read) && t != InputName && t != OutputName {
				live -= size[t]
				lastRead[t] = -1 // freed once, should a step read it twice
			}
		}
		for _, t := range s.In {
			free(t)
		}
		free(s.Out) // an output nothing reads
	}
	return peak
}

// Params lists every tensor of the model (Arch.Params).
func (c Config) Params() []ParamSpec { return c.Arch().Params() }

// MACs counts the multiply-adds of one forward pass over one h x w image (Arch.MACs).
func (c Config) MACs(h, w int) int64 { return c.Arch().MACs(h, w) }

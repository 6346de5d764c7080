package main

import (
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/segment-dev/segment/onnx"
	"github.com/segment-dev/segment/unet"
	"github.com/segment-dev/segment/weights"
)

// inspectCommand is the table entry of segment inspect.
func inspectCommand() *command {
	return &command{
		name:  "inspect",
		args:  "MODEL",
		short: "describe a model file: configuration, tensors, metadata",
		long: `
Inspect reads a model file (safetensors in the segment-unet format), checks it
as every other command does (a file holding NaN, an infinity or a negative
running variance is reported as damaged, naming the tensor, with exit status
1), and prints its configuration, the modules of its
U-Net (inc, down1.., up1.., outc: each one's output, learned parameters and
multiply-adds), the mask values its predictions are written in and the classes'
names, its metadata
and, with -tensors, every tensor with its shape. Given a .onnx file (see
export), it prints the opset, the inputs and outputs with their dims, and the
metadata.`,
		flags: func(fs *flag.FlagSet) func(*flag.FlagSet, io.Writer, io.Writer) error {
			tensors := fs.Bool("tensors", false, "list every tensor with its shape")
			return func(fs *flag.FlagSet, out, _ io.Writer) error {
				if fs.NArg() != 1 {
					return usagef("want one model file, got %d arguments", fs.NArg())
				}
				if strings.EqualFold(filepath.Ext(fs.Arg(0)), ".onnx") {
					return inspectONNX(out, fs.Arg(0))
				}
				return inspect(out, fs.Arg(0), *tensors)
			}
		},
	}
}

func inspect(out io.Writer, path string, tensors bool) error {
	m, meta, err := weights.Load(path)
	if err != nil {
		return err
	}
	c := m.Config
	fmt.Fprintf(out, "%s\n", path)
	block := c.Block
	if block.IsZero() {
		block = unet.BlockPlain
	}
	fmt.Fprintf(out, "  U-Net: %d input channels, %d classes, depth %d, base %d channels, skip %s, norm %s, %s blocks, up %s\n",
		c.InChannels, c.Classes, c.Depth, c.BaseChannels, c.Skip, c.Norm, block, c.Up)
	fmt.Fprintf(out, "  learned parameters: %d\n", m.NumWeights())
	modules(out, c)
	fmt.Fprintf(out, "  mask values: %v\n", meta.ClassesFor(c).Values)
	if names := meta.Classes.Names; len(names) > 0 {
		fmt.Fprintf(out, "  class names: %s\n", strings.Join(names, ", "))
	}
	if meta.Classes.Ignore != nil {
		fmt.Fprintf(out, "  ignore value: %d\n", *meta.Classes.Ignore)
	}
	if meta.Fold != nil {
		fmt.Fprintf(out, "  fold: %s\n", foldLine(*meta.Fold))
	}
	if len(meta.Preprocess) > 0 {
		fmt.Fprintf(out, "  preprocess: %s\n", meta.Preprocess)
	}
	if len(meta.Train) > 0 {
		fmt.Fprintf(out, "  train: %s\n", meta.Train)
	}
	for k, v := range meta.Extra {
		fmt.Fprintf(out, "  %s: %s\n", k, v)
	}
	if tensors {
		tw := tabwriter.NewWriter(out, 2, 8, 2, ' ', 0)
		for _, p := range c.Params() {
			kind := "weight"
			if p.Kind == unet.Buffer {
				kind = "statistic"
			}
			fmt.Fprintf(tw, "  %s\t%v\t%s\n", p.Name, p.Shape, kind)
		}
		tw.Flush()
	}
	return nil
}

// inspectONNX describes an ONNX model, such as export writes.
func inspectONNX(out io.Writer, path string) error {
	m, err := onnx.ReadFile(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s\n", path)
	onnx.Describe(out, m)
	return nil
}

// summarySize is the side of the image whose multiply-adds the module table gives: the
// default tile of prediction.
const summarySize = 256

// modules prints the boxes of the U-Net diagram, a walk over the model's module tree: what
// each writes for an H x W image, its learned parameters and its multiply-adds.
func modules(out io.Writer, c unet.Config) {
	fmt.Fprintf(out, "  modules (output for an H x W image; multiply-adds for %dx%d):\n", summarySize, summarySize)
	tw := tabwriter.NewWriter(out, 2, 8, 2, ' ', 0)
	var params, macs int64
	for _, p := range c.Arch().Parts() {
		var np, nm int64
		for _, s := range p.Steps {
			for _, t := range s.Layer.Params() {
				if t.Kind == unet.Weight {
					np += int64(t.Size())
				}
			}
			nm += s.MACs(1, summarySize, summarySize)
		}
		last := p.Steps[len(p.Steps)-1]
		size := "H x W"
		if l := last.Level; l > 0 {
			size = fmt.Sprintf("H/%d x W/%d", 1<<l, 1<<l)
		}
		fmt.Fprintf(tw, "    %s\t%s\t%s\t%d x %s\t%d\t%.3f GMAC\n", p.Label, p.Path, last.Out, last.Channels, size, np, float64(nm)/1e9)
		params, macs = params+np, macs+nm
	}
	fmt.Fprintf(tw, "    total\t\t\t\t%d\t%.3f GMAC\n", params, float64(macs)/1e9)
	tw.Flush()
}

// foldLine describes the fold a model was trained on: which, of how many, the seed of the
// split, and the held-out samples (the first few, then their number).
func foldLine(f weights.FoldRecord) string {
	const shown = 8
	names := strings.Join(f.HeldOut[:min(len(f.HeldOut), shown)], ", ")
	if len(f.HeldOut) > shown {
		names += fmt.Sprintf(", ... (%d more)", len(f.HeldOut)-shown)
	}
	return fmt.Sprintf("%d of %d (--fold %s --seed %d), %d held out for validation: %s", f.Index, f.Count, f.Fold, f.Seed, len(f.HeldOut), names)
}

package main

import (
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

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
as every other command does, and prints its configuration, the mask values its
predictions are written in, its metadata and, with -tensors, every tensor with
its shape.`,
		flags: func(fs *flag.FlagSet) func(*flag.FlagSet, io.Writer, io.Writer) error {
			tensors := fs.Bool("tensors", false, "list every tensor with its shape")
			return func(fs *flag.FlagSet, out, _ io.Writer) error {
				if fs.NArg() != 1 {
					return usagef("want one model file, got %d arguments", fs.NArg())
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
	fmt.Fprintf(out, "  mask values: %v\n", meta.MaskValuesFor(c))
	if meta.IgnoreValue != nil {
		fmt.Fprintf(out, "  ignore value: %d\n", *meta.IgnoreValue)
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

package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/segment-dev/segment/onnx"
	"github.com/segment-dev/segment/weights"
)

// exportCommand is the table entry of segment export.
func exportCommand() *command {
	return &command{
		name:  "export",
		args:  "MODEL --onnx OUT.onnx",
		short: "write a model as ONNX, for onnxruntime and other runtimes",
		long: `
Export writes a model file as a standard ONNX model (opset 17) that computes what
segment's inference computes. Its input "image" is float32 [batch, channels,
height, width], scaled as the model's preprocessing says, with height and width
multiples of 2^depth; its outputs are "logits" and "probabilities" (a sigmoid
for one class, a softmax over the classes otherwise). The metadata carries the
mask values, class names, ignore value, preprocessing, configuration and
training summary. "segment inspect OUT.onnx" shows them.`,
		flags: func(fs *flag.FlagSet) func(*flag.FlagSet, io.Writer, io.Writer) error {
			out := fs.String("onnx", "", "the ONNX `file` to write (required)")
			input := fs.String("input-name", "image", "the `name` of the model's input")
			return func(fs *flag.FlagSet, _, _ io.Writer) error {
				if fs.NArg() != 1 {
					return usagef("want one model file, got %d arguments", fs.NArg())
				}
				if *out == "" {
					return usagef("--onnx OUT.onnx is required")
				}
				if *input == "" {
					return usagef("--input-name must not be empty")
				}
				return exportONNX(fs.Arg(0), *out, *input)
			}
		},
	}
}

// exportONNX writes the model file at path as ONNX at out; on any error no file is left there.
// A missing output folder, or an output that is the model itself, is refused before the
// model is read.
func exportONNX(path, out, input string) error {
	if dir := filepath.Dir(out); !isDir(dir) {
		return fmt.Errorf("%s: the folder %s does not exist", out, dir)
	}
	if a, err := os.Stat(path); err == nil {
		if b, err := os.Stat(out); err == nil && os.SameFile(a, b) {
			return usagef("--onnx %s is the model file itself", out)
		}
	}
	m, meta, err := weights.Load(path)
	if err != nil {
		return err
	}
	mp, err := onnx.Export(m, meta, onnx.Options{InputName: input, ProducerVersion: version()})
	if err != nil {
		return err
	}
	return onnx.WriteFile(out, mp)
}

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

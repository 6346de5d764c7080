package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/segment-dev/segment/bench"
	"github.com/segment-dev/segment/kernels"
	"github.com/segment-dev/segment/unet"
)

// benchCommand is the table entry of segment bench.
func benchCommand() *command {
	return &command{
		name:  "bench",
		args:  "",
		short: "measure training and inference speed",
		long: `
Bench measures the U-Net's speed on the configurations the project compares with
PyTorch and onnxruntime (depth 4, one gray channel, one class): base 16 on
128x128 batches of 4, base 32 on 256x256 batches of 2, base 64 on 256x256
batches of 1. For each it prints the median time of a training step (forward,
the loss segment train uses by default, ` + unet.DefaultLoss(1).Name + `, backward and an Adam
update) and of an inference pass, the GFLOP/s they reach (2 FLOPs per
multiply-add of the convolutions; a training step counts as 3 forward passes)
and the peak memory while training. Each configuration runs in a process of its
own, so that its peak memory is its own.`,
		flags: func(fs *flag.FlagSet) func(*flag.FlagSet, io.Writer, io.Writer) error {
			steps := fs.Int("steps", 10, "timed steps per configuration, after two warm-up steps")
			asJSON := fs.Bool("json", false, `print {"configs": [...]} as JSON instead of a table`)
			only := fs.String("config", "", "measure only these configurations: BASE,SIZE,BATCH[;...], e.g. 16,128,4")
			one := fs.String("one", "", "internal: measure one configuration in this process and print it as JSON")
			return func(fs *flag.FlagSet, out, errOut io.Writer) error {
				if fs.NArg() > 0 {
					return usagef("unexpected arguments %q", fs.Args())
				}
				if *steps < 1 {
					return usagef("--steps %d: want at least 1", *steps)
				}
				if *one != "" {
					shapes, err := parseShapes(*one)
					if err != nil || len(shapes) != 1 {
						return usagef("--one wants one BASE,SIZE,BATCH")
					}
					r, err := bench.Measure(shapes[0], *steps)
					if err != nil {
						return err
					}
					return json.NewEncoder(out).Encode(r)
				}
				shapes := bench.Standard
				if *only != "" {
					var err error
					if shapes, err = parseShapes(*only); err != nil {
						return usagef("--config: %v", err)
					}
				}
				self, err := os.Executable()
				if err != nil {
					return err
				}
				var results []bench.Result
				for _, s := range shapes {
					if !*asJSON {
						fmt.Fprintf(errOut, "measuring base %d, %dx%d, batch %d ...\n", s.Base, s.Size, s.Size, s.Batch)
					}
					var stdout, stderr bytes.Buffer
					cmd := exec.Command(self, "bench", "-one", fmt.Sprintf("%d,%d,%d", s.Base, s.Size, s.Batch), "-steps", strconv.Itoa(*steps))
					cmd.Stdout, cmd.Stderr = &stdout, &stderr
					if err := cmd.Run(); err != nil {
						return fmt.Errorf("base %d, %dx%d, batch %d: %v: %s", s.Base, s.Size, s.Size, s.Batch, err, strings.TrimSpace(stderr.String()))
					}
					var r bench.Result
					if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
						return fmt.Errorf("reading the measurement of base %d: %v", s.Base, err)
					}
					results = append(results, r)
				}
				if *asJSON {
					enc := json.NewEncoder(out)
					enc.SetIndent("", "  ")
					return enc.Encode(map[string]any{"configs": results, "kernels": kernels.Impl(), "threads": kernels.Threads()})
				}
				tw := tabwriter.NewWriter(out, 2, 8, 2, ' ', tabwriter.AlignRight)
				fmt.Fprintln(tw, "base\tsize\tbatch\ttrain step ms\tinference ms\ttrain GFLOP/s\tinference GFLOP/s\tpeak RSS MiB\t")
				for _, r := range results {
					fmt.Fprintf(tw, "%d\t%d\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t%.0f\t\n", r.Base, r.Size, r.Batch, r.TrainMS, r.InferMS, r.TrainGFLOPS, r.InferGFLOPS, r.PeakRSSMiB)
				}
				tw.Flush()
				fmt.Fprintf(out, "medians of %d steps, loss %s; GEMM kernels %s on %d threads\n", *steps, results[0].Loss, kernels.Impl(), kernels.Threads())
				return nil
			}
		},
	}
}

// parseShapes reads "BASE,SIZE,BATCH;BASE,SIZE,BATCH".
func parseShapes(s string) ([]bench.Shape, error) {
	var out []bench.Shape
	for _, part := range strings.Split(s, ";") {
		f := strings.Split(strings.TrimSpace(part), ",")
		if len(f) != 3 {
			return nil, fmt.Errorf("%q is not BASE,SIZE,BATCH", part)
		}
		var v [3]int
		for i, x := range f {
			n, err := strconv.Atoi(strings.TrimSpace(x))
			if err != nil || n < 1 {
				return nil, fmt.Errorf("%q is not BASE,SIZE,BATCH of positive numbers", part)
			}
			v[i] = n
		}
		out = append(out, bench.Shape{Base: v[0], Size: v[1], Batch: v[2]})
	}
	return out, nil
}

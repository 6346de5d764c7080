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
batches of 1. --config measures others, multi-class ones too (CHANNELS,CLASSES:
16,192,4,3,11 is CamVid's plan, whose step adds the softmax and the ` + unet.DefaultLoss(2).Name + `
loss). For each it prints the median time of a training step (forward,
the loss segment train uses by default, ` + unet.DefaultLoss(1).Name + ` for one class, backward and an Adam
update) and of an inference pass, the GFLOP/s they reach (2 FLOPs per
multiply-add of the convolutions; a training step counts as 3 forward passes)
and the peak memory while training. Each configuration runs in a process of its
own, so that its peak memory is its own.`,
		flags: func(fs *flag.FlagSet) func(*flag.FlagSet, io.Writer, io.Writer) error {
			steps := fs.Int("steps", 10, "timed steps per configuration, after two warm-up steps")
			asJSON := fs.Bool("json", false, `print {"configs": [...]} as JSON instead of a table`)
			only := fs.String("config", "", "measure only these configurations: BASE,SIZE,BATCH[,CHANNELS,CLASSES][;...], e.g. 16,128,4, or 16,192,4,3,11 for CamVid's plan")
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
						return usagef("--one wants one BASE,SIZE,BATCH[,CHANNELS,CLASSES]")
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
						fmt.Fprintf(errOut, "measuring %s ...\n", describeShape(s))
					}
					var stdout, stderr bytes.Buffer
					cmd := exec.Command(self, "bench", "-one", s.String(), "-steps", strconv.Itoa(*steps))
					cmd.Stdout, cmd.Stderr = &stdout, &stderr
					if err := cmd.Run(); err != nil {
						return fmt.Errorf("%s: %v: %s", describeShape(s), err, strings.TrimSpace(stderr.String()))
					}
					var r bench.Result
					if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
						return fmt.Errorf("reading the measurement of %s: %v", describeShape(s), err)
					}
					results = append(results, r)
				}
				if *asJSON {
					enc := json.NewEncoder(out)
					enc.SetIndent("", "  ")
					return enc.Encode(map[string]any{"configs": results, "kernels": kernels.Impl(), "threads": kernels.Threads()})
				}
				tw := tabwriter.NewWriter(out, 2, 8, 2, ' ', tabwriter.AlignRight)
				fmt.Fprintln(tw, "base\tsize\tbatch\tin\tclasses\ttrain step ms\tinference ms\ttrain GFLOP/s\tinference GFLOP/s\tpeak RSS MiB\tloss\t")
				for _, r := range results {
					fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t%.0f\t%s\t\n", r.Base, r.Size, r.Batch, max(r.Channels, 1), max(r.Classes, 1),
						r.TrainMS, r.InferMS, r.TrainGFLOPS, r.InferGFLOPS, r.PeakRSSMiB, r.Loss)
				}
				tw.Flush()
				fmt.Fprintf(out, "medians of %d steps; GEMM kernels %s on %d threads\n", *steps, kernels.Impl(), kernels.Threads())
				return nil
			}
		},
	}
}

// parseShapes reads "BASE,SIZE,BATCH[,CHANNELS,CLASSES];...".
func parseShapes(s string) ([]bench.Shape, error) {
	var out []bench.Shape
	for _, part := range strings.Split(s, ";") {
		f := strings.Split(strings.TrimSpace(part), ",")
		if len(f) != 3 && len(f) != 5 {
			return nil, fmt.Errorf("%q is not BASE,SIZE,BATCH or BASE,SIZE,BATCH,CHANNELS,CLASSES", part)
		}
		v := make([]int, len(f))
		for i, x := range f {
			n, err := strconv.Atoi(strings.TrimSpace(x))
			if err != nil || n < 1 {
				return nil, fmt.Errorf("%q is not a configuration of positive numbers", part)
			}
			v[i] = n
		}
		sh := bench.Shape{Base: v[0], Size: v[1], Batch: v[2]}
		if len(v) == 5 {
			sh.Channels, sh.Classes = v[3], v[4]
		}
		out = append(out, sh)
	}
	return out, nil
}

// describeShape names a configuration in progress lines and errors.
func describeShape(s bench.Shape) string {
	d := fmt.Sprintf("base %d, %dx%d, batch %d", s.Base, s.Size, s.Size, s.Batch)
	if s.Channels > 1 || s.Classes > 1 {
		d += fmt.Sprintf(", %d channels, %d classes", max(s.Channels, 1), max(s.Classes, 1))
	}
	return d
}

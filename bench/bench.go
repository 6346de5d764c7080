// Package bench measures how fast the U-Net trains and predicts: the median time of a
// training step (forward, the loss segment train uses by default, backward and an Adam
// update) and of an inference pass, the GFLOP/s they reach, and the peak memory of the
// process. segment bench runs it on the configurations the project compares with PyTorch
// and onnxruntime.
package bench

import (
	"fmt"
	"math/rand"
	"slices"
	"syscall"
	"time"

	"github.com/segment-dev/segment/train"
	"github.com/segment-dev/segment/unet"
)

// Shape is one configuration to measure: a U-Net of depth 4 with base channels Base, on
// batches of Batch images of Size x Size, of Channels input channels and Classes classes (0:
// one gray channel, one class, as the comparison with PyTorch has it). A multi-class shape
// times the softmax losses that the binary ones leave out: CamVid's plan is {16, 192, 4, 3,
// 11}.
type Shape struct {
	Base     int `json:"base"`
	Size     int `json:"size"`
	Batch    int `json:"batch"`
	Channels int `json:"channels,omitempty"`
	Classes  int `json:"classes,omitempty"`
}

// config is the U-Net the shape measures.
func (s Shape) config() unet.Config {
	cfg := unet.DefaultConfig()
	cfg.BaseChannels = s.Base
	if s.Channels > 0 {
		cfg.InChannels = s.Channels
	}
	if s.Classes > 0 {
		cfg.Classes = s.Classes
	}
	return cfg
}

// String is the shape as --config takes it: BASE,SIZE,BATCH, then CHANNELS,CLASSES when
// they are not one gray channel and one class.
func (s Shape) String() string {
	t := fmt.Sprintf("%d,%d,%d", s.Base, s.Size, s.Batch)
	if cfg := s.config(); cfg.InChannels != 1 || cfg.Classes != 1 {
		t += fmt.Sprintf(",%d,%d", cfg.InChannels, cfg.Classes)
	}
	return t
}

// Standard are the three configurations of the speed comparison with PyTorch
// (../shared/bench/torch) and onnxruntime (../shared/bench/ort).
var Standard = []Shape{{Base: 16, Size: 128, Batch: 4}, {Base: 32, Size: 256, Batch: 2}, {Base: 64, Size: 256, Batch: 1}}

// Result is what Measure found for one shape. Times are medians in milliseconds; GFLOP/s
// count 2 FLOPs per multiply-add of the convolutions, a training step as 3 forward passes.
type Result struct {
	Shape
	TrainMS     float64 `json:"train_ms"`
	InferMS     float64 `json:"infer_ms"`
	TrainGFLOPS float64 `json:"train_gflops"`
	InferGFLOPS float64 `json:"infer_gflops"`
	PeakRSSMiB  float64 `json:"peak_rss_mib"` // of the whole process, read after the training steps
	Loss        string  `json:"loss"`         // the loss of the training step: unet.DefaultLoss for the classes, as segment train
}

// Measure times steps training steps and steps inference passes of shape s after two
// warm-up passes of each.
func Measure(s Shape, steps int) (Result, error) {
	if steps < 1 {
		return Result{}, fmt.Errorf("steps %d must be at least 1", steps)
	}
	cfg := s.config()
	m, err := unet.New(cfg, 1)
	if err != nil {
		return Result{}, err
	}
	rng := rand.New(rand.NewSource(1))
	x := make([]float32, s.Batch*cfg.InChannels*s.Size*s.Size)
	for i := range x {
		x[i] = rng.Float32()
	}
	// The 0/1 mask of a binary model (foreground where the input is bright), the class
	// index of every pixel of a multi-class one.
	target := make([]float32, cfg.TargetShape(s.Batch, s.Size, s.Size).TotalSize())
	for i := range target {
		switch {
		case cfg.Classes > 1:
			target[i] = float32(rng.Intn(cfg.Classes))
		case cfg.InChannels == 1 && x[i] > 0.5:
			target[i] = 1
		case cfg.InChannels > 1:
			target[i] = float32(rng.Intn(2))
		}
	}
	r := Result{Shape: s}
	flops := 2 * float64(s.macs()) * float64(s.Batch)

	loss := unet.DefaultLoss(cfg.Classes)
	r.Loss = loss.Name
	net, err := unet.NewTrainNet(m, s.Batch, s.Size, s.Size, loss.Func)
	if err != nil {
		return r, err
	}
	opt, err := train.NewOptimizer(train.Adam, 0)
	if err != nil {
		return r, err
	}
	var params []train.Param
	for _, p := range cfg.Params() {
		if p.Kind == unet.Weight {
			params = append(params, train.Param{Name: p.Name, W: m.Data(p.Name)})
		}
	}
	step := func() error {
		if _, err := net.Step(x, target); err != nil {
			return err
		}
		for i := range params {
			params[i].G = net.Grad(params[i].Name)
		}
		opt.Step(params, 1e-4)
		return nil
	}
	times, err := timed(steps, step)
	net.Close()
	if err != nil {
		return r, err
	}
	r.TrainMS = median(times)
	r.TrainGFLOPS = 3 * flops / (r.TrainMS * 1e6)
	r.PeakRSSMiB = peakRSSMiB()

	inf, err := unet.NewInferNet(m, s.Batch, s.Size, s.Size)
	if err != nil {
		return r, err
	}
	defer inf.Close()
	if times, err = timed(steps, func() error { return inf.Forward(x) }); err != nil {
		return r, err
	}
	r.InferMS = median(times)
	r.InferGFLOPS = flops / (r.InferMS * 1e6)
	return r, nil
}

// macs is the multiply-adds of one forward pass over one image of the shape.
func (s Shape) macs() int64 {
	return s.config().MACs(s.Size, s.Size)
}

// timed runs f twice to warm up, then n times, and gives each timed run's milliseconds.
func timed(n int, f func() error) ([]float64, error) {
	for range 2 {
		if err := f(); err != nil {
			return nil, err
		}
	}
	ms := make([]float64, n)
	for i := range ms {
		start := time.Now()
		if err := f(); err != nil {
			return nil, err
		}
		ms[i] = float64(time.Since(start).Microseconds()) / 1000
	}
	return ms, nil
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// peakRSSMiB is the most resident memory the process has held so far (Linux reports
// kilobytes).
func peakRSSMiB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Maxrss) / 1024
}

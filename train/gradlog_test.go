package train

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/segment-dev/segment/internal/regular"
	"github.com/segment-dev/segment/internal/sharedtest"
	"github.com/segment-dev/segment/unet"
	"github.com/segment-dev/segment/weights"
)

// TestGradLog runs a residual model with the gradient log on and checks the rows (every
// layer, input side first, at every 5th step from 0), their numbers, the picture, that a
// stopped and resumed run writes the same log as an uninterrupted one, and that the
// residual model file loads back.
func TestGradLog(t *testing.T) {
	dir := t.TempDir()
	o := tiny(t, filepath.Join(dir, "whole", "m.safetensors"))
	o.Model.Block = unet.BlockResidual
	o.GradLog = 5
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	csvPath, pngPath := GradLogPaths(o.Out)
	rows, err := ReadGradLog(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	layers, steps, grads := GradMatrix(rows, func(r GradRecord) float64 { return r.GradNorm })
	cfg := res.Model.Config
	var want []string
	for _, p := range cfg.Params() {
		if len(p.Shape) == 4 {
			want = append(want, p.Name)
		}
	}
	if len(layers) != len(want) || layers[0] != "encoder.0.conv1.weight" || layers[len(layers)-1] != "head.weight" {
		t.Errorf("layers %v, want the %d weights %v", layers, len(want), want)
	}
	if len(steps) != 8 || steps[0] != 0 || steps[7] != 35 {
		t.Errorf("recorded steps %v, want 0, 5, ..., 35 of the run's 40", steps)
	}
	if len(rows) != len(layers)*len(steps) {
		t.Errorf("%d rows for %d layers at %d steps", len(rows), len(layers), len(steps))
	}
	for _, r := range rows {
		if !(r.GradNorm > 0) || math.IsInf(r.GradNorm, 0) || !(r.UpdateRatio > 0 && r.UpdateRatio < 1) {
			t.Fatalf("row %+v: want a positive finite gradient norm and an update ratio in (0, 1)", r)
		}
	}
	if len(grads) != len(layers) {
		t.Errorf("matrix of %d rows for %d layers", len(grads), len(layers))
	}
	if fi, err := os.Stat(pngPath); err != nil || fi.Size() == 0 {
		t.Errorf("picture: %v", err)
	}
	if m, _, err := weights.Load(res.Paths.Best); err != nil || m.Config.Block != unet.BlockResidual {
		t.Errorf("loading the residual model: %v", err)
	}

	o.Out = filepath.Join(dir, "parts", "m.safetensors")
	o.StopAfter = 13
	if _, err := Run(context.Background(), o); !errors.Is(err, ErrInterrupted) {
		t.Fatalf("stopped run: %v, want ErrInterrupted", err)
	}
	partCSV, _ := GradLogPaths(o.Out)
	if part, err := ReadGradLog(partCSV); err != nil || len(part) != 3*len(layers) {
		t.Errorf("the stopped run logged %d rows (%v), want steps 0, 5 and 10", len(part), err)
	}
	o.StopAfter, o.Resume = 0, true
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(csvPath)
	b, _ := os.ReadFile(partCSV)
	if !bytes.Equal(a, b) {
		t.Errorf("the resumed run's gradient log differs from the uninterrupted run's")
	}
}

// A named pipe where a resumed run's gradient log is read is refused by its type, naming
// it, instead of blocking the run on its open.
func TestReadGradLogRefusesNamedPipe(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "model.grads.csv")
	if err := syscall.Mkfifo(fifo, 0o666); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
	var err error
	if !sharedtest.Returns(5*time.Second, func() { _, err = ReadGradLog(fifo) }) {
		t.Fatal("ReadGradLog blocks on a named pipe")
	}
	if !errors.Is(err, regular.ErrNotRegular) || !strings.Contains(err.Error(), fifo) {
		t.Errorf("ReadGradLog of a named pipe: %v, want regular.ErrNotRegular naming it", err)
	}
}

package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segment-dev/segment/internal/samplemodel"
	"github.com/segment-dev/segment/weights"
)

// A model file holding NaN, an infinity or a negative running variance (issue 18, finding 8)
// is refused by every command that reads it (train --resume too), naming the file and the
// tensor; inspect calls it damaged.
func TestDamagedModelRefused(t *testing.T) {
	dir := t.TempDir()
	m, meta, err := samplemodel.Load()
	if err != nil {
		t.Fatal(err)
	}
	name := m.Config.Params()[0].Name
	m.Data(name)[5] = float32(math.NaN())
	model := filepath.Join(dir, "nan.safetensors")
	if err := weights.Save(model, m, meta); err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(dir, "one.png")
	src, err := os.ReadFile("../../sample_data/val/images/0000.png")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(img, src, 0o644); err != nil {
		t.Fatal(err)
	}
	// train --resume reads the last model beside --out.
	run := filepath.Join(dir, "run")
	if err := os.MkdirAll(run, 0o755); err != nil {
		t.Fatal(err)
	}
	last := filepath.Join(run, "m.last.safetensors")
	if err := weights.Save(last, m, meta); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"train", "--data", "../../sample_data", "--out", filepath.Join(run, "m.safetensors"), "--resume", "--epochs", "1", "--crop", "64", "--batch", "2"},
		{"inspect", model},
		{"predict", "--model", model, img, "--out", filepath.Join(dir, "out"), "-q"},
		{"eval", "--model", model, "--data", "../../sample_data/val", "--out", filepath.Join(dir, "e"), "-q"},
		{"export", model, "--onnx", filepath.Join(dir, "m.onnx")},
	} {
		file := model
		if args[0] == "train" {
			file = last
		}
		code, _, errOut := runWithin(t, time.Minute, args...)
		if code != exitFailure || !strings.Contains(errOut, file+": damaged: tensor "+name+" holds NaN at element 5") {
			t.Errorf("segment %v: exit %d, stderr %q; want exit 1 calling %s damaged at %s", args, code, errOut, file, name)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "one_mask.png")); err == nil {
		t.Error("predict wrote a mask with the damaged model")
	}
}

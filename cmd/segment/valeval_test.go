package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/segment-dev/segment/train"
	"github.com/segment-dev/segment/unet"
)

// TestValidationDiceIsEvalDice trains a small model on the sample data, then scores the
// model file of its best epoch on the same validation images with `segment eval --data`:
// eval's foreground mean Dice and IoU must be the validation's to the last bit, since both
// go through one Predictor and one scoring path.
func TestValidationDiceIsEvalDice(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short mode: trains a model for two epochs")
	}
	cfg := unet.DefaultConfig()
	cfg.Depth, cfg.BaseChannels = 2, 4
	dir := t.TempDir()
	res, err := train.Run(context.Background(), train.Options{
		Data: filepath.Join("..", "..", "sample_data"), Out: filepath.Join(dir, "model.safetensors"),
		Epochs: 2, Batch: 4, Crop: 64, LR: 1e-2, Model: cfg, Seed: 1, Threads: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	best := res.History[res.BestEpoch-1]
	// A model that found nothing would score 0 on both sides whatever each path does.
	if !(best.ValDice > 0.05 && best.ValDice < 0.999) {
		t.Fatalf("validation Dice %v after %d epochs: too little learnt to compare the paths", best.ValDice, res.Epochs)
	}
	out := t.TempDir()
	code, _, errOut := runCmd("eval", "--model", res.Paths.Best, "--data", filepath.Join("..", "..", "sample_data", "val"), "--out", out, "-q")
	if code != exitOK {
		t.Fatalf("eval: exit %d: %s", code, errOut)
	}
	data, err := os.ReadFile(filepath.Join(out, "eval.json"))
	if err != nil {
		t.Fatal(err)
	}
	r := readEvalJSON(t, data)
	if imgs, _ := os.ReadDir(filepath.Join("..", "..", "sample_data", "val", "images")); r.Images != len(imgs) || r.Failed != 0 {
		t.Fatalf("eval scored %d images (%d failed), the validation %d", r.Images, r.Failed, len(imgs))
	}
	if r.ForegroundMean.Dice == nil || *r.ForegroundMean.Dice != float64(best.ValDice) {
		t.Errorf("eval's foreground Dice %v, validation's %v: they must be equal", deref(r.ForegroundMean.Dice), best.ValDice)
	}
	if r.ForegroundMean.IoU == nil || *r.ForegroundMean.IoU != float64(best.ValIoU) {
		t.Errorf("eval's foreground IoU %v, validation's %v: they must be equal", deref(r.ForegroundMean.IoU), best.ValIoU)
	}
	t.Logf("epoch %d of %d: validation Dice %v IoU %v, eval the same", res.BestEpoch, res.Epochs, best.ValDice, best.ValIoU)
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

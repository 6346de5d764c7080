package samplemodel

import (
	"path/filepath"
	"testing"

	"github.com/segment-dev/segment/dataset"
	"github.com/segment-dev/segment/metrics"
	"github.com/segment-dev/segment/unet"
)

// TestSampleModelSegments checks that the embedded model loads and still segments the sample
// data's validation images well (it scored 0.971 when it was trained).
func TestSampleModelSegments(t *testing.T) {
	m, meta, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if v := meta.MaskValuesFor(m.Config); len(v) != 2 || v[1] != 255 {
		t.Fatalf("mask values %v", v)
	}
	ds, err := dataset.Open(filepath.Join("..", "..", "sample_data"), dataset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := unet.NewPredictor(m)
	defer p.Close()
	acc, err := metrics.NewAccumulator([]metrics.Class{{Value: 0}, {Value: 255}}, -1, metrics.EmptyNaN)
	if err != nil {
		t.Fatal(err)
	}
	for _, pair := range ds.Val {
		s, err := ds.Load(pair)
		if err != nil {
			t.Fatal(err)
		}
		logits, err := p.Logits(s.Image, 1, s.H, s.W)
		if err != nil {
			t.Fatal(err)
		}
		if err := acc.Add(pair.Name, unet.Classes(logits, 1, 1), s.Mask, s.W, s.H); err != nil {
			t.Fatal(err)
		}
	}
	if d := float64(acc.Summary().ForegroundMean[metrics.Dice]); d < 0.95 {
		t.Errorf("embedded model's validation Dice %.4f, want >= 0.95", d)
	}
}

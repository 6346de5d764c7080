package samplemodel

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/segment-dev/segment/dataset"
	"github.com/segment-dev/segment/metrics"
	"github.com/segment-dev/segment/predict"
)

// TestSampleModelSegments checks that the embedded model loads and still segments the sample
// data's validation images well (it scored 0.971 when it was trained).
func TestSampleModelSegments(t *testing.T) {
	m, meta, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if v := meta.ClassesFor(m.Config).Values; len(v) != 2 || v[1] != 255 {
		t.Fatalf("mask values %v", v)
	}
	ds, err := dataset.Open(filepath.Join("..", "..", "sample_data"), dataset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := predict.New(m, predict.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	acc, err := predict.NewAccumulator(ds.Classes, metrics.EmptyNaN)
	if err != nil {
		t.Fatal(err)
	}
	err = p.Evaluate(context.Background(), ds, ds.Val, acc, func(i int, err error) {
		if err != nil {
			t.Error(err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if d := float64(acc.Summary().ForegroundMean[metrics.Dice]); d < 0.95 {
		t.Errorf("embedded model's validation Dice %.4f, want >= 0.95", d)
	}
}

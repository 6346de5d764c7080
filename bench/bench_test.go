package bench

import "testing"

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{{[]float64{3, 1, 2}, 2}, {[]float64{4, 1, 3, 2}, 2.5}, {[]float64{7}, 7}} {
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

// TestMeasureSmall measures a tiny configuration and checks the figures hang together: the
// GFLOP/s follow from the times and the convolution count, memory is reported, and the
// training step's loss is training's default.
func TestMeasureSmall(t *testing.T) {
	r, err := Measure(Shape{Base: 4, Size: 32, Batch: 2}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if !(r.TrainMS > 0 && r.InferMS > 0 && r.PeakRSSMiB > 1) {
		t.Fatalf("implausible result %+v", r)
	}
	if r.Loss != "bce+dice" {
		t.Errorf("timed the loss %q, want bce+dice, what segment train uses for one class", r.Loss)
	}
	// Base 4, 32x32: the forward pass has a known number of multiply-adds (unet.Config.MACs).
	wantTrain := 3 * 2 * float64(r.macs()) * 2 / (r.TrainMS * 1e6)
	if d := r.TrainGFLOPS - wantTrain; d > 1e-9 || d < -1e-9 {
		t.Errorf("train GFLOP/s %v, want %v", r.TrainGFLOPS, wantTrain)
	}
	if _, err := Measure(Shape{Base: 4, Size: 30, Batch: 1}, 1); err == nil {
		t.Error("a size that is not a multiple of 16 was accepted")
	}
}

// TestMeasureMultiClass: a multi-class shape builds the model it names (its convolutions
// count the input channels and the head the classes) and times the multi-class loss.
func TestMeasureMultiClass(t *testing.T) {
	s := Shape{Base: 4, Size: 32, Batch: 2, Channels: 3, Classes: 5}
	r, err := Measure(s, 2)
	if err != nil {
		t.Fatal(err)
	}
	if r.Loss != "ce+dice" || !(r.TrainMS > 0 && r.InferMS > 0) {
		t.Fatalf("result %+v, want the ce+dice step timed", r)
	}
	// The first convolution reads 3 channels instead of 1 (2 more per weight of 4x9) and
	// the head writes 5 classes instead of 1 (4 more of 4 each), per pixel.
	plain := Shape{Base: 4, Size: 32, Batch: 2}
	if got, want := s.macs()-plain.macs(), int64(32*32*(2*4*9+4*4)); got != want {
		t.Errorf("the multi-class shape has %d more multiply-adds than the binary one, want %d", got, want)
	}
}

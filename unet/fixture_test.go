package unet_test

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/segment-dev/segment/internal/sharedtest"
	"github.com/segment-dev/segment/unet"
	"github.com/segment-dev/segment/weights"
)

// relErr is ||a - b|| / ||b||, the measure the PyTorch fixtures are specified in.
func relErr(a, b []float32) float64 {
	var d, n float64
	for i := range b {
		e := float64(a[i]) - float64(b[i])
		d += e * e
		n += float64(b[i]) * float64(b[i])
	}
	return math.Sqrt(d) / math.Max(math.Sqrt(n), 1e-30)
}

func tensorF32(t *testing.T, f *weights.File, name string) ([]float32, []int) {
	t.Helper()
	ts, ok := f.Tensors[name]
	if !ok {
		t.Fatalf("fixture has no tensor %s", name)
	}
	d, err := ts.Float32()
	if err != nil {
		t.Fatal(err)
	}
	return d, ts.Shape
}

// TestTorchReference runs each PyTorch fixture through the Go model: inference logits and
// training loss within 1e-5 relative, every parameter's gradient within 1e-4.
func TestTorchReference(t *testing.T) {
	for _, name := range []string{"binary-concat", "rgb-4class-concat", "binary-add", "binary-none"} {
		t.Run(name, func(t *testing.T) {
			dir := sharedtest.Path(t, filepath.Join("fixtures/torch-reference", name))
			cs, err := weights.ReadFile(filepath.Join(dir, "case.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			input, shape := tensorF32(t, cs, "input")
			n, h, w := shape[0], shape[2], shape[3]
			wantLogits, _ := tensorF32(t, cs, "eval_logits")
			target, _ := tensorF32(t, cs, "target")
			wantLoss, _ := tensorF32(t, cs, "train_loss")

			m, _, err := weights.Load(filepath.Join(dir, "model.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			inf, err := unet.NewInferNet(m, n, h, w)
			if err != nil {
				t.Fatal(err)
			}
			defer inf.Close()
			if err := inf.Forward(input); err != nil {
				t.Fatal(err)
			}
			t.Logf("logits relative error %.3g", relErr(inf.Logits(), wantLogits))
			if e := relErr(inf.Logits(), wantLogits); e > 1e-5 {
				t.Errorf("inference logits: relative error %.3g > 1e-5", e)
			}

			tr, err := unet.NewTrainNet(m, n, h, w, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tr.Close()
			loss, err := tr.Step(input, target)
			if err != nil {
				t.Fatal(err)
			}
			if e := math.Abs(loss-float64(wantLoss[0])) / float64(wantLoss[0]); e > 1e-5 {
				t.Errorf("training loss %v, PyTorch %v: relative error %.3g > 1e-5", loss, wantLoss[0], e)
			}
			grads, err := weights.ReadFile(filepath.Join(dir, "train_grads.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("loss %v, PyTorch %v", loss, wantLoss[0])
			checked, worst := 0, 0.0
			for _, p := range m.Config.Params() {
				if p.Kind != unet.Weight {
					continue
				}
				want, _ := tensorF32(t, grads, p.Name)
				got := tr.Grad(p.Name)
				if got == nil {
					t.Errorf("%s: no gradient", p.Name)
					continue
				}
				if e := relErr(got, want); e > 1e-4 {
					t.Errorf("gradient of %s: relative error %.3g > 1e-4", p.Name, e)
				}
				checked++
				worst = math.Max(worst, relErr(got, want))
			}
			t.Logf("%d gradients, worst relative error %.3g", checked, worst)
			if checked == 0 {
				t.Error("no gradient was compared")
			}
		})
	}
}

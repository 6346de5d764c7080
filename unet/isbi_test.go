package unet_test

import (
	"context"
	"image"
	_ "image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/segment-dev/segment/internal/sharedtest"
	"github.com/segment-dev/segment/predict"
	"github.com/segment-dev/segment/weights"
)

// readGray reads an 8-bit gray PNG as its pixel values.
func readGray(t *testing.T, path string) ([]uint8, int, int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	g, ok := img.(*image.Gray)
	if !ok {
		t.Fatalf("%s: %T, want 8-bit gray", path, img)
	}
	b := g.Bounds()
	out := make([]uint8, 0, b.Dx()*b.Dy())
	for y := b.Min.Y; y < b.Max.Y; y++ {
		out = append(out, g.Pix[(y-b.Min.Y)*g.Stride:][:b.Dx()]...)
	}
	return out, b.Dx(), b.Dy()
}

func dice(pred []int32, gt []uint8, cls int32, value uint8) float64 {
	var tp, fp, fn float64
	for i, p := range pred {
		g := gt[i] == value
		switch {
		case p == cls && g:
			tp++
		case p == cls:
			fp++
		case g:
			fn++
		}
	}
	return 2 * tp / (2*tp + fp + fn)
}

// TestISBIReferenceModel predicts the six ISBI test images with the PyTorch-trained model,
// through the Predictor that predict, eval and training's validation use, and requires the per-image Dice that PyTorch reported (../shared/models/README.md) within 1e-3.
func TestISBIReferenceModel(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short mode: six 512x512 predictions with a base-32 model")
	}
	modelPath := sharedtest.Path(t, "models/isbi-unet-b32-torch.safetensors")
	data := sharedtest.Path(t, "data/isbi2012-em-membranes/test")
	m, _, err := weights.Load(modelPath)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]float64{ // Dice of 255 and of 0, from PyTorch
		"24": {0.9523, 0.7910}, "25": {0.9518, 0.7927}, "26": {0.9542, 0.8181},
		"27": {0.9498, 0.8081}, "28": {0.9537, 0.8181}, "29": {0.9466, 0.7651},
	}
	p, err := predict.New(m, predict.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, name := range []string{"24", "25", "26", "27", "28", "29"} {
		img, w, h := readGray(t, filepath.Join(data, "images", name+".png"))
		mask, _, _ := readGray(t, filepath.Join(data, "masks", name+".png"))
		x := make([]float32, len(img))
		for i, v := range img {
			x[i] = float32(v) / 255
		}
		pred := make([]int32, w*h)
		err := p.Predict(context.Background(), predict.FromPlanes(x, 1, h, w), func(b predict.Band) error {
			predict.Decide(b, pred[b.Y*w:(b.Y+b.Rows)*w])
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		fg, bg := dice(pred, mask, 1, 255), dice(pred, mask, 0, 0)
		t.Logf("%s.png: Dice(255) %.4f (PyTorch %.4f), Dice(0) %.4f (PyTorch %.4f)", name, fg, want[name][0], bg, want[name][1])
		if math.Abs(fg-want[name][0]) > 1e-3 || math.Abs(bg-want[name][1]) > 1e-3 {
			t.Errorf("%s.png: Dice %.4f / %.4f, PyTorch %.4f / %.4f", name, fg, bg, want[name][0], want[name][1])
		}
	}
}

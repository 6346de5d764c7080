package predict

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/segment-dev/segment/dataset"
	"github.com/segment-dev/segment/unet"
	"github.com/segment-dev/segment/weights"
)

// TestOutputsByHand fills the outputs of a 3x2 binary prediction from two bands and checks
// every kind of image against values worked out by hand.
func TestOutputsByHand(t *testing.T) {
	cfg := unet.Config{InChannels: 1, Classes: 1, Depth: 1, BaseChannels: 2, Skip: unet.SkipConcat, Norm: unet.NormBatch, Up: unet.UpTranspose}
	gray := []float32{0.4, 0.4, 0.4, 1, 1, 1} // the image, drawn under the overlay
	o, err := NewOutputs(weights.Meta{}.ClassesFor(cfg), 3, 2, OutputOptions{Overlay: true, Display: FromPlanes(append(append(slices.Clone(gray), gray...), gray...), 3, 2, 3), Probs: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []Band{
		{Y: 0, Rows: 1, Width: 3, Planes: 1, Probs: []float32{0.2, 0.5, 0.9}, Threshold: 0.5},
		{Y: 1, Rows: 1, Width: 3, Planes: 1, Probs: []float32{1, 0, 0.6}, Threshold: 0.5},
	} {
		if err := o.Band(b); err != nil {
			t.Fatal(err)
		}
	}
	m, ok := o.Mask.(*image.Gray)
	if !ok || !slices.Equal(m.Pix, []uint8{0, 0, 255, 255, 0, 255}) {
		t.Errorf("mask %T %v, want 8-bit [0 0 255 255 0 255]", o.Mask, m.Pix)
	}
	// 16-bit probabilities: round(p * 65535), big-endian.
	if got := o.Probs[0].Gray16At(1, 0).Y; got != 32768 {
		t.Errorf("probability 0.5 stored as %d, want 32768", got)
	}
	if got := o.Probs[0].Gray16At(0, 1).Y; got != 65535 {
		t.Errorf("probability 1 stored as %d, want 65535", got)
	}
	// Background pixels keep the image; foreground is blended with the first colour
	// (230, 25, 75): 0.55*102 + 0.45*230 = 159.6 for red at gray 0.4.
	if got := o.Overlay.NRGBAAt(0, 0); got != (color.NRGBA{102, 102, 102, 255}) {
		t.Errorf("background overlay pixel %v, want gray 102", got)
	}
	if got := o.Overlay.NRGBAAt(2, 0); got != (color.NRGBA{160, 67, 90, 255}) {
		t.Errorf("foreground overlay pixel %v, want (160 67 90)", got)
	}
}

// TestOutputsValues writes multi-class predictions in 16-bit and colour mask values.
func TestOutputsValues(t *testing.T) {
	// Two pixels: class 2, then class 0.
	b := Band{Rows: 1, Width: 2, Planes: 3, Probs: []float32{0.1, 0.7, 0.2, 0.2, 0.7, 0.1}}
	o, err := NewOutputs(dataset.Classes{Values: []int{0, 1000, 40000}}, 2, 1, OutputOptions{Probs: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Band(b); err != nil {
		t.Fatal(err)
	}
	g16, ok := o.Mask.(*image.Gray16)
	if !ok || g16.Gray16At(0, 0).Y != 40000 || g16.Gray16At(1, 0).Y != 0 {
		t.Errorf("16-bit mask %T %v, want [40000 0]", o.Mask, o.Mask)
	}
	if len(o.Probs) != 3 || o.Probs[2].Gray16At(0, 0).Y != 45875 { // 0.7 * 65535 = 45874.5
		t.Errorf("class 2 probability of pixel 0: %d, want 45875", o.Probs[2].Gray16At(0, 0).Y)
	}
	o, err = NewOutputs(dataset.Classes{Values: []int{0x000000, 0x00ff00, 0x8040c0}, Colour: true}, 2, 1, OutputOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Band(b); err != nil {
		t.Fatal(err)
	}
	rgba, ok := o.Mask.(*image.RGBA)
	if !ok || rgba.RGBAAt(0, 0) != (color.RGBA{0x80, 0x40, 0xc0, 0xff}) {
		t.Errorf("colour mask %T, pixel 0 %v, want #8040c0", o.Mask, rgba.RGBAAt(0, 0))
	}
	p := OutputPaths("/data/img/a.tif", "", dataset.Classes{Values: []int{0, 1000, 40000}})
	want := []string{"/data/img/a_probs_0.png", "/data/img/a_probs_1000.png", "/data/img/a_probs_40000.png"}
	if p.Mask != "/data/img/a_mask.png" || !slices.Equal(p.Probs, want) {
		t.Errorf("paths %+v", p)
	}
	if p := OutputPaths("/data/img/a.tif", "out", weights.Meta{}.ClassesFor(unet.DefaultConfig())); p.Overlay != filepath.Join("out", "a_overlay.png") || p.Probs[0] != filepath.Join("out", "a_probs.png") {
		t.Errorf("paths in out: %+v", p)
	}
}

func TestClassColourDistinct(t *testing.T) {
	seen := make(map[color.RGBA]bool)
	for i := 0; i < 300; i++ {
		c := classColour(i)
		if seen[c] {
			t.Fatalf("colour %d (%v) repeats", i, c)
		}
		seen[c] = true
	}
}

// TestMaskReadsBack writes the mask of a prediction in 8-bit, 16-bit and colour values, and
// reads it back as the data set reads masks: the classes decided come back.
func TestMaskReadsBack(t *testing.T) {
	// Three pixels: classes 2, 0 and 1.
	b := Band{Rows: 1, Width: 3, Planes: 3, Probs: []float32{0.1, 0.7, 0.2, 0.2, 0.1, 0.5, 0.7, 0.2, 0.3}}
	dir := t.TempDir()
	for i, c := range []dataset.Classes{
		{Values: []int{0, 128, 255}},
		{Values: []int{0, 1000, 40000}},
		{Values: []int{0x000000, 0x00ff00, 0x8040c0}, Colour: true},
	} {
		o, err := NewOutputs(c, 3, 1, OutputOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := o.Band(b); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, o.Mask); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, fmt.Sprintf("m%d.png", i))
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		got, w, h, err := c.ReadMask(p, 0)
		if err != nil {
			t.Fatalf("%v: %v", c, err)
		}
		if w != 3 || h != 1 || !slices.Equal(got, []int32{2, 0, 1}) {
			t.Errorf("%v: read back %dx%d %v, want 3x1 [2 0 1]", c, w, h, got)
		}
	}
}

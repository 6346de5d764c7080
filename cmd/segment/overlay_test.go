package main

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readPNG decodes the PNG file at path.
func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

// predictOverlay predicts the image at in with the embedded model and the flags,
// and gives the image, its mask, its overlay, and the folder of the outputs.
func predictOverlay(t *testing.T, in string, flags ...string) (img, mask, overlay image.Image, out string) {
	t.Helper()
	out = t.TempDir()
	args := append([]string{"predict", in, "--out", out, "-q", "--overlay"}, flags...)
	code, _, errOut := runCmd(args...)
	if code != exitOK {
		t.Fatalf("segment %v: exit %d: %s", args, code, errOut)
	}
	stem := filepath.Join(out, strings.TrimSuffix(filepath.Base(in), ".png"))
	return readPNG(t, in), readPNG(t, stem+"_mask.png"), readPNG(t, stem+"_overlay.png"), out
}

// sampleImage is the first image of the sample data.
const sampleImage = "../../sample_data/val/images/0000.png"

// coloured says whether the overlay pixel at (x, y) is coloured, not the gray image: the
// image is gray, so any difference between the channels is colour.
func coloured(overlay image.Image, img image.Image, x, y int) bool {
	r, g, b, _ := overlay.At(x, y).RGBA()
	v, _, _, _ := img.At(x, y).RGBA()
	return r != v || g != v || b != v
}

// checkDrawn compares the overlay's coloured pixels with want(x, y), computed from the
// written mask independently of the overlay code.
func checkDrawn(t *testing.T, what string, img, overlay image.Image, want func(x, y int) bool) {
	t.Helper()
	r := img.Bounds()
	bad, drawn := 0, 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			got := coloured(overlay, img, x, y)
			if got {
				drawn++
			}
			if got != want(x, y) {
				if bad++; bad <= 5 {
					t.Errorf("%s: pixel (%d,%d) coloured %v, want %v", what, x, y, got, want(x, y))
				}
			}
		}
	}
	if drawn == 0 {
		t.Errorf("%s: nothing drawn", what)
	}
}

// gray16At gives the 16-bit value of a gray image at (x, y); outside it, 1<<16, which
// differs from every pixel.
func gray16At(m image.Image, x, y int) uint32 {
	if !(image.Point{x, y}).In(m.Bounds()) {
		return 1 << 16
	}
	v, _, _, _ := m.At(x, y).RGBA()
	return v
}

// boundary says whether (x, y) has a 4-neighbour of another value in m, or lies on the
// image's edge.
func boundary(m image.Image, x, y int) bool {
	v := gray16At(m, x, y)
	return gray16At(m, x-1, y) != v || gray16At(m, x+1, y) != v || gray16At(m, x, y-1) != v || gray16At(m, x, y+1) != v
}

// TestPredictOverlayOutline: --outline colours exactly the foreground pixels at the
// boundary of the written mask; with --instances, at the boundary of each object of the
// written label image.
func TestPredictOverlayOutline(t *testing.T) {
	img, mask, overlay, _ := predictOverlay(t, sampleImage, "--outline")
	fg := func(x, y int) bool { return gray16At(mask, x, y) != 0 }
	checkDrawn(t, "--outline", img, overlay, func(x, y int) bool { return fg(x, y) && boundary(mask, x, y) })

	// Two discs that touch, like the sample's nuclei, which --split separates: their
	// outlines must include the wall between them.
	const side = 128
	pix := make([]uint8, side*side)
	for i := range pix {
		x, y := i%side, i/side
		pix[i] = 76
		for _, cx := range []int{50, 76} {
			if (x-cx)*(x-cx)+(y-64)*(y-64) <= 15*15 {
				pix[i] = 122
			}
		}
	}
	in := filepath.Join(t.TempDir(), "discs.png")
	writeGrayPNG(t, in, side, side, pix)
	img, mask, overlay, out := predictOverlay(t, in, "--outline", "--instances", "--split", "--split-distance", "10")
	labels := readPNG(t, filepath.Join(out, "discs_instances.png"))
	wall := 0
	for y := range side {
		for x := range side {
			if fg(x, y) && boundary(labels, x, y) && !boundary(mask, x, y) {
				wall++
			}
		}
	}
	if wall == 0 {
		t.Fatal("--split left no touching objects to outline")
	}
	checkDrawn(t, "--outline --instances", img, overlay, func(x, y int) bool { return fg(x, y) && boundary(labels, x, y) })
}

// TestPredictOverlayClass: --overlay-class by name and by index colours exactly the pixels
// of that class, and an unknown class is a usage error naming the model's classes.
func TestPredictOverlayClass(t *testing.T) {
	for _, class := range []string{"background", "0"} {
		img, mask, overlay, _ := predictOverlay(t, sampleImage, "--overlay-class", class)
		checkDrawn(t, "--overlay-class "+class, img, overlay, func(x, y int) bool { return gray16At(mask, x, y) == 0 })
	}
	img, mask, overlay, _ := predictOverlay(t, sampleImage, "--overlay-class", "Foreground")
	checkDrawn(t, "--overlay-class Foreground", img, overlay, func(x, y int) bool { return gray16At(mask, x, y) != 0 })

	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"--overlay", "--overlay-class", "nucleus"}, []string{`"nucleus"`, `0 "background", 1 "foreground"`}},
		{[]string{"--overlay", "--overlay-class", "2"}, []string{`"2"`, `0 "background", 1 "foreground"`}},
		{[]string{"--outline"}, []string{"give --overlay"}},
		{[]string{"--overlay-class", "foreground"}, []string{"give --overlay"}},
		{[]string{"--overlay", "--outline", "--outline-width", "0"}, []string{"--outline-width 0"}},
	} {
		args := append([]string{"predict", sampleImage, "--out", t.TempDir(), "-q"}, c.args...)
		code, _, errOut := runCmd(args...)
		noStackTrace(t, args, errOut)
		if code != exitUsage {
			t.Errorf("segment %v: exit %d, want %d (usage)", args, code, exitUsage)
		}
		for _, w := range c.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("segment %v: %q does not say %s", args, errOut, w)
			}
		}
	}
}

package main

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeGrayPNG(t *testing.T, path string, w, h int, pix []uint8) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	g := image.NewGray(image.Rect(0, 0, w, h))
	copy(g.Pix, pix)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, g); err != nil {
		t.Fatal(err)
	}
}

func noStackTrace(t *testing.T, args []string, errOut string) {
	t.Helper()
	if strings.Contains(errOut, "goroutine ") || strings.Contains(errOut, "panic") {
		t.Errorf("segment %v printed a stack trace: %s", args, errOut)
	}
}

// TestPredictSkipsBadImage predicts a folder in which one file is not an image, with the
// embedded sample model: the bad file is reported in one line, the others' masks are
// written, and the exit status is 1.
func TestPredictSkipsBadImage(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in"), filepath.Join(dir, "out")
	src, err := os.ReadFile("../../sample_data/val/images/0000.png")
	if err != nil {
		t.Fatalf("committed sample data: %v", err)
	}
	for _, name := range []string{"one.png", "two.png"} {
		if err := os.MkdirAll(in, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(in, name), src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bad := filepath.Join(in, "bad.png")
	if err := os.WriteFile(bad, []byte("\x89PNG\r\n\x1a\ntruncated"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"predict", in, "--out", out, "-q", "--overlay"}
	code, stdout, errOut := runCmd(args...)
	noStackTrace(t, args, errOut)
	if code != exitFailure {
		t.Errorf("exit %d, want %d; stderr %s", code, exitFailure, errOut)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(errOut), "\n") {
		if strings.Contains(l, "bad.png") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "segment predict: "+bad+": ") {
		t.Errorf("bad.png reported as %q, want one line naming it", lines)
	}
	if !strings.Contains(stdout, "2 of 3 images predicted with embedded sample model") {
		t.Errorf("stdout %q", stdout)
	}
	for _, name := range []string{"one_mask.png", "two_mask.png", "one_overlay.png"} {
		f, err := os.Open(filepath.Join(out, name))
		if err != nil {
			t.Error(err)
			continue
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil || img.Bounds().Dx() != 128 {
			t.Errorf("%s: %v, %v", name, err, img.Bounds())
		}
	}
}

// TestPredictErrors: a file that is not a model, and bad flags.
func TestPredictErrors(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.safetensors")
	if err := os.WriteFile(junk, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(dir, "a.png")
	writeGrayPNG(t, img, 16, 16, nil)
	for _, c := range []struct {
		args    []string
		code    int
		errWant string
	}{
		{[]string{"predict"}, exitUsage, "want at least one image"},
		{[]string{"predict", img, "--model", junk}, exitFailure, "junk.safetensors"},
		{[]string{"predict", img, "--model", filepath.Join(dir, "none.safetensors")}, exitFailure, "none.safetensors"},
		{[]string{"predict", img, "--tile", "-3"}, exitUsage, "--tile"},
		{[]string{"predict", img, "--overlap", "0.95"}, exitUsage, "--overlap"},
		{[]string{"predict", img, "--threshold", "1"}, exitUsage, "--threshold"},
		{[]string{"predict", filepath.Join(dir, "*.tif")}, exitFailure, "no file matches"},
	} {
		code, _, errOut := runCmd(c.args...)
		noStackTrace(t, c.args, errOut)
		if code != c.code || !strings.Contains(errOut, c.errWant) {
			t.Errorf("segment %v: exit %d, stderr %q; want exit %d mentioning %q", c.args, code, errOut, c.code, c.errWant)
		}
	}
}

// TestPredictBesideInput writes the mask beside the image by default, tiled and with TTA.
func TestPredictBesideInput(t *testing.T) {
	dir := t.TempDir()
	pix := make([]uint8, 70*50)
	for i := range pix {
		pix[i] = uint8(i * 7)
	}
	img := filepath.Join(dir, "scan.png")
	writeGrayPNG(t, img, 70, 50, pix)
	args := []string{"predict", "-q", "--tile", "32", "--tta", "--probs", img}
	if code, _, errOut := runCmd(args...); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, name := range []string{"scan_mask.png", "scan_probs.png"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Error(err)
		}
	}
}

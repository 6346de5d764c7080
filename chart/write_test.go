package chart

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// dirNames returns the names in dir.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestWritePNG(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "chart.png")
	img := image.NewRGBA(image.Rect(0, 0, 3, 2))
	img.SetRGBA(2, 1, color.RGBA{10, 20, 30, 255})
	for range 2 { // the second write replaces the first
		if err := WritePNG(path, img); err != nil {
			t.Fatal(err)
		}
	}
	if names := dirNames(t, dir); len(names) != 1 || names[0] != "chart.png" {
		t.Errorf("directory holds %q, want only chart.png", names)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if got.Bounds() != img.Rect {
		t.Errorf("decoded bounds %v, want %v", got.Bounds(), img.Rect)
	}
	if r, g, b, _ := got.At(2, 1).RGBA(); r>>8 != 10 || g>>8 != 20 || b>>8 != 30 {
		t.Errorf("decoded pixel (%d, %d, %d), want (10, 20, 30)", r>>8, g>>8, b>>8)
	}
}

// TestWritePNGFailure checks that a failed write leaves an existing file as it was and no
// temporary file behind, and that the error names the path.
func TestWritePNGFailure(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "chart.png")
	old := []byte("the previous chart")
	if err := os.WriteFile(path, old, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		img  image.Image
	}{
		{"empty image", image.NewRGBA(image.Rectangle{})}, // png.Encode refuses it
		{"nil image", nil},
	}
	for _, tt := range tests {
		err := WritePNG(path, tt.img)
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error %v, want one naming %s", tt.name, err, path)
		}
		if got, _ := os.ReadFile(path); !bytes.Equal(got, old) {
			t.Errorf("%s: existing file now holds %q, want %q", tt.name, got, old)
		}
		if names := dirNames(t, dir); len(names) != 1 {
			t.Errorf("%s: directory holds %q, want only chart.png", tt.name, names)
		}
	}
	if err := WritePNG(filepath.Join(dir, "missing", "x.png"), image.NewRGBA(image.Rect(0, 0, 1, 1))); err == nil {
		t.Error("write into a missing directory: no error")
	}
}

func TestGrid(t *testing.T) {
	red := image.NewRGBA(image.Rect(0, 0, 100, 50))
	fillRect(red, red.Rect, color.RGBA{255, 0, 0, 255})
	blue := image.NewRGBA(image.Rect(10, 10, 90, 70)) // not at the origin
	fillRect(blue, blue.Rect, color.RGBA{0, 0, 255, 255})
	tests := []struct {
		name  string
		cols  int
		imgs  []image.Image
		size  image.Point
		probe map[image.Point]color.RGBA
	}{
		{"side by side", 2, []image.Image{red, blue}, image.Pt(200, 60), map[image.Point]color.RGBA{
			{0, 5}: {255, 0, 0, 255}, {99, 54}: {255, 0, 0, 255}, {50, 2}: white, // red centred vertically
			{110, 0}: {0, 0, 255, 255}, {189, 59}: {0, 0, 255, 255}, {105, 30}: white,
		}},
		{"stacked", 1, []image.Image{red, blue}, image.Pt(100, 120), map[image.Point]color.RGBA{
			{0, 5}: {255, 0, 0, 255}, {10, 60}: {0, 0, 255, 255}, {5, 90}: white,
		}},
		{"2x2 with a gap", 2, []image.Image{red, nil, nil, blue}, image.Pt(200, 120), map[image.Point]color.RGBA{
			{150, 30}: white, {150, 90}: {0, 0, 255, 255},
		}},
		{"all in a row", 0, []image.Image{red, red, red}, image.Pt(300, 50), nil},
		{"cols beyond images", 5, []image.Image{red}, image.Pt(100, 50), nil},
		{"no images", 2, nil, image.Pt(0, 0), nil},
		{"only nil", 2, []image.Image{nil}, image.Pt(0, 0), nil},
	}
	for _, tt := range tests {
		g := Grid(tt.cols, tt.imgs...)
		if got := g.Bounds(); got != (image.Rectangle{Max: tt.size}) {
			t.Errorf("%s: bounds %v, want size %v", tt.name, got, tt.size)
			continue
		}
		for p, want := range tt.probe {
			if got := color.RGBAModel.Convert(g.At(p.X, p.Y)); got != want {
				t.Errorf("%s: pixel %v = %v, want %v", tt.name, p, got, want)
			}
		}
	}
}

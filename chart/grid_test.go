package chart

import (
	"image"
	"image/color"
	"testing"
)

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

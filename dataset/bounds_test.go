package dataset

import (
	"errors"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// TestMaskValueBounds reads one-pixel masks holding each value at and one past every bound
// of the class values (and of the ignore value): a value of a class maps to its index, any
// other is an ErrValues error, never an index out of range.
func TestMaskValueBounds(t *testing.T) {
	eleven := 11
	cases := []struct {
		classes Classes
		ok      map[int]int32 // value -> class index
		bad     []int
	}{
		{Classes{Values: []int{0, 1, 2}}, map[int]int32{0: 0, 1: 1, 2: 2}, []int{3, 4, 255}},
		{Classes{Values: []int{0, 255}}, map[int]int32{0: 0, 255: 1}, []int{1, 254}},
		{Classes{Values: []int{3, 7}, Ignore: &eleven}, map[int]int32{3: 0, 7: 1, 11: IgnoreIndex}, []int{0, 2, 4, 6, 8, 10, 12}},
	}
	dir := t.TempDir()
	write := func(v int) string {
		p := filepath.Join(dir, "m.png")
		img := image.NewGray(image.Rect(0, 0, 1, 1))
		img.SetGray(0, 0, color.Gray{uint8(v)})
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := png.Encode(f, img); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range cases {
		for v, want := range tc.ok {
			got, _, _, err := tc.classes.ReadMask(write(v), 1<<20)
			if err != nil || len(got) != 1 || got[0] != want {
				t.Errorf("%v: value %d read as %v, %v; want class %d", tc.classes.Values, v, got, err, want)
			}
		}
		for _, v := range tc.bad {
			_, _, _, err := tc.classes.ReadMask(write(v), 1<<20)
			if !errors.Is(err, ErrValues) {
				t.Errorf("%v: value %d gave %v, want an ErrValues error", tc.classes.Values, v, err)
			}
		}
	}
}

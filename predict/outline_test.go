package predict

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/segment-dev/segment/dataset"
	"github.com/segment-dev/segment/objects"
)

// picture reads a map drawn in text, one row a line: '.' is 0, a digit its value.
func picture(rows ...string) (pix []uint8, w, h int) {
	for _, r := range rows {
		for _, c := range r {
			var v uint8
			if c != '.' {
				v = uint8(c - '0')
			}
			pix = append(pix, v)
		}
	}
	return pix, len(rows[0]), len(rows)
}

// drawnPixels draws an overlay of the classes cls (a binary model: class 1 in colour,
// class 0 not) over a black image, and gives the pixels it coloured as a picture: '#'
// for coloured, '.' for left alone.
func drawnPixels(t *testing.T, cls []uint8, w, h int, style OverlayStyle, objs *objects.Labels) []string {
	t.Helper()
	o, err := NewOutputs(dataset.Classes{Values: []int{0, 255}}, w, h, OutputOptions{Overlay: true, Style: style, Display: FromPlanes(make([]float32, 3*w*h), 3, h, w)})
	if err != nil {
		t.Fatal(err)
	}
	// Two bands, so that an outline needs the rows of both.
	for y0 := 0; y0 < h; y0 += 3 {
		rows := min(3, h-y0)
		probs := make([]float32, rows*w)
		for i := range probs {
			probs[i] = float32(cls[y0*w+i])
		}
		if err := o.Band(Band{Y: y0, Rows: rows, Width: w, Planes: 1, Probs: probs, Threshold: 0.5}); err != nil {
			t.Fatal(err)
		}
	}
	if objs != nil {
		if err := o.OutlineObjects(objs); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for y := range h {
		var b strings.Builder
		for x := range w {
			if c := o.Overlay.NRGBAAt(x, y); c.R|c.G|c.B != 0 {
				b.WriteByte('#')
			} else {
				b.WriteByte('.')
			}
		}
		got = append(got, b.String())
	}
	return got
}

func samePicture(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: drew\n%s\nwant\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestOutlineSquare draws a 5x5 square as an outline 1 and 2 pixels wide, filled, and at
// the image's edge, against pictures drawn by hand.
func TestOutlineSquare(t *testing.T) {
	cls, w, h := picture(
		".........",
		".........",
		"..11111..",
		"..11111..",
		"..11111..",
		"..11111..",
		"..11111..",
		".........",
		".........",
	)
	samePicture(t, "outline 1", drawnPixels(t, cls, w, h, OverlayStyle{Outline: 1}, nil), []string{
		".........",
		".........",
		"..#####..",
		"..#...#..",
		"..#...#..",
		"..#...#..",
		"..#####..",
		".........",
		".........",
	})
	samePicture(t, "outline 2", drawnPixels(t, cls, w, h, OverlayStyle{Outline: 2}, nil), []string{
		".........",
		".........",
		"..#####..",
		"..#####..",
		"..##.##..",
		"..#####..",
		"..#####..",
		".........",
		".........",
	})
	samePicture(t, "filled", drawnPixels(t, cls, w, h, OverlayStyle{}, nil), []string{
		".........",
		".........",
		"..#####..",
		"..#####..",
		"..#####..",
		"..#####..",
		"..#####..",
		".........",
		".........",
	})
	// The image's edge closes a region cut by it.
	edge, w, h := picture(
		"111..",
		"111..",
		"111..",
		".....",
	)
	samePicture(t, "at the edge", drawnPixels(t, edge, w, h, OverlayStyle{Outline: 1}, nil), []string{
		"###..",
		"#.#..",
		"###..",
		".....",
	})
}

// TestOutlineObjects draws two touching objects of one class: the class's outline goes
// round both, the objects' outlines also draw the wall between them.
func TestOutlineObjects(t *testing.T) {
	cls, w, h := picture(
		"........",
		".111111.",
		".111111.",
		".111111.",
		".111111.",
		"........",
	)
	samePicture(t, "class outline", drawnPixels(t, cls, w, h, OverlayStyle{Outline: 1}, nil), []string{
		"........",
		".######.",
		".#....#.",
		".#....#.",
		".######.",
		"........",
	})
	ids, _, _ := picture(
		"........",
		".111222.",
		".111222.",
		".111222.",
		".111222.",
		"........",
	)
	l := &objects.Labels{W: w, H: h, Pix: make([]uint16, w*h), Class: []int{0, 1, 1}}
	for i, v := range ids {
		l.Pix[i] = uint16(v)
	}
	samePicture(t, "object outlines", drawnPixels(t, cls, w, h, OverlayStyle{Outline: 1}, l), []string{
		"........",
		".######.",
		".#.##.#.",
		".#.##.#.",
		".######.",
		"........",
	})
	// A filled overlay stays filled.
	samePicture(t, "filled", drawnPixels(t, cls, w, h, OverlayStyle{}, l), []string{
		"........",
		".######.",
		".######.",
		".######.",
		".######.",
		"........",
	})
}

// TestOutlineEdgesBruteForce compares outlineEdges on random maps with a search of each
// pixel's diamond of radius width for another region or the outside.
func TestOutlineEdgesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := range 40 {
		w, h, width := 1+r.IntN(30), 1+r.IntN(30), 1+r.IntN(5)
		ids := make([]uint16, w*h)
		// Blocks of random sizes, so that regions are wider than the outline.
		for i := range ids {
			x, y := i%w, i/w
			ids[i] = uint16((x/(1+trial%7) + 3*(y/(1+trial%5))) % 4)
		}
		for range r.IntN(8) {
			ids[r.IntN(w*h)] = uint16(r.IntN(4))
		}
		got := outlineEdges(ids, w, h, width)
		for y := range h {
			for x := range w {
				want := false
				for dy := -width; dy <= width; dy++ {
					for dx := -width; dx <= width; dx++ {
						if abs(dx)+abs(dy) > width {
							continue
						}
						u, v := x+dx, y+dy
						if u < 0 || v < 0 || u >= w || v >= h || ids[v*w+u] != ids[y*w+x] {
							want = true
						}
					}
				}
				if got[y*w+x] != want {
					t.Fatalf("%dx%d width %d: pixel (%d,%d) edge %v, want %v", w, h, width, x, y, got[y*w+x], want)
				}
			}
		}
	}
}

func abs(x int) int { return max(x, -x) }

// TestChooseClasses picks classes by name, in any case, and by index, several at once; an
// unknown name or index is an error that lists the classes.
func TestChooseClasses(t *testing.T) {
	binary := dataset.Classes{Values: []int{0, 255}}
	multi := dataset.Classes{Values: []int{0, 1, 2}}
	for _, c := range []struct {
		classes dataset.Classes
		list    string
		want    []bool
	}{
		{binary, "foreground", []bool{false, true}},
		{binary, "Background", []bool{true, false}},
		{binary, "1", []bool{false, true}},
		{multi, "class 2", []bool{false, false, true}},
		{multi, "0, class 2", []bool{true, false, true}},
	} {
		got, err := ChooseClasses(c.classes, c.list)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("%q: %v, %v; want %v", c.list, got, err, c.want)
		}
	}
	for _, list := range []string{"nucleus", "2", "-1", "foreground,", "255"} {
		_, err := ChooseClasses(binary, list)
		if err == nil || !strings.Contains(err.Error(), `0 "background", 1 "foreground"`) {
			t.Errorf("%q: %v, want an error listing the classes", list, err)
		}
	}
	// A chosen class is drawn, the others not: background only, over a black image.
	cls, w, h := picture("1.", ".1")
	got := drawnPixels(t, cls, w, h, OverlayStyle{Classes: []bool{true, false}}, nil)
	samePicture(t, "background only", got, []string{".#", "#."})
}

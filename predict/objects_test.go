package predict

import (
	"encoding/csv"
	"image"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/segment-dev/segment/dataset"
	"github.com/segment-dev/segment/objects"
)

// finishHandMask runs the end of Files on a hand-made binary mask (given as rows of '#'
// for foreground, probability 0.9, and '.' for background, 0.2): it is cleaned and its
// objects found and written as o asks. It returns the mask and the instances written, and
// the rows of the objects table.
func finishHandMask(t *testing.T, rows []string, o FileOptions) (mask *image.Gray, inst *image.Gray16, table [][]string) {
	t.Helper()
	w, h := len(rows[0]), len(rows)
	probs := make([]float32, w*h)
	for y, r := range rows {
		for x, c := range r {
			probs[y*w+x] = 0.2
			if c == '#' {
				probs[y*w+x] = 0.9
			}
		}
	}
	dir := t.TempDir()
	classes := dataset.Classes{Values: []int{0, 255}}
	run := &filesRun{classes: classes, o: o}
	u := &unit{path: "hand.png", out: OutputPaths(filepath.Join(dir, "hand.png"), "", classes)}
	j := &fileJob{u: u, run: run}
	var err error
	j.outputs, err = NewOutputs(classes, w, h, OutputOptions{Classes: j.objects()})
	if err != nil {
		t.Fatal(err)
	}
	if err := j.outputs.Band(Band{Y: 0, Rows: h, Width: w, Planes: 1, Probs: probs, Threshold: 0.5}); err != nil {
		t.Fatal(err)
	}
	if err := j.Finish(); err != nil {
		t.Fatal(err)
	}
	mask = readPNG(t, u.out.Mask).(*image.Gray)
	if o.Instances {
		inst = readPNG(t, u.out.Instances).(*image.Gray16)
		f, err := os.Open(u.out.Objects) // the image's table, written with its images
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		all, err := csv.NewReader(f).ReadAll()
		if err != nil || len(all) == 0 || !slices.Equal(all[0], objects.CSVHeader) {
			t.Fatalf("%s: not an objects table (%v): %q", u.out.Objects, err, all)
		}
		table = all[1:]
	}
	return mask, inst, table
}

func foreground(m *image.Gray) int {
	n := 0
	for _, v := range m.Pix {
		if v == 255 {
			n++
		}
	}
	return n
}

func ids(m *image.Gray16) map[uint16]int {
	areas := map[uint16]int{}
	for i := 0; i < len(m.Pix); i += 2 {
		if id := uint16(m.Pix[i])<<8 | uint16(m.Pix[i+1]); id != 0 {
			areas[id]++
		}
	}
	return areas
}

// Squares touching at a corner are one object (8-connectivity), and its row of the objects
// table holds the values computed by hand.
func TestObjectsCornerTouching(t *testing.T) {
	_, inst, table := finishHandMask(t, []string{
		"......",
		".##...",
		".##...",
		"...##.",
		"...##.",
		"......",
	}, FileOptions{Instances: true})
	if got := ids(inst); len(got) != 1 || got[1] != 8 {
		t.Fatalf("objects %v, want one of 8 pixels", got)
	}
	if len(table) != 1 {
		t.Fatalf("%d rows, want 1", len(table))
	}
	// image, page, class, id, area, centroid, bbox, mean probability, perimeter
	want := []string{"hand.png", "1", "255", "1", "8", "2.5", "2.5", "1", "1", "5", "5", "", "16"}
	for k, v := range want {
		if k == 11 {
			p, err := strconv.ParseFloat(table[0][k], 64)
			if err != nil || math.Abs(p-0.9) > 1e-6 {
				t.Errorf("mean probability %q, want 0.9", table[0][k])
			}
			continue
		}
		if table[0][k] != v {
			t.Errorf("column %d: %q, want %q (row %q)", k, table[0][k], v, table[0])
		}
	}
}

// --fill-holes fills a ring; --min-size 2 removes a 1-pixel speck and nothing else;
// --keep-largest keeps the ring alone.
func TestCleanHandMasks(t *testing.T) {
	ring := []string{
		".......",
		".#####.",
		".#...#.",
		".#...#.",
		".#####.",
		".......",
		"#......",
	}
	mask, _, _ := finishHandMask(t, ring, FileOptions{Clean: Clean{FillHoles: true}})
	if n := foreground(mask); n != 20+1 {
		t.Errorf("filled: %d foreground pixels, want the 5x4 ring filled and the speck", n)
	}
	mask, _, _ = finishHandMask(t, ring, FileOptions{Clean: Clean{MinSize: 2}})
	if n := foreground(mask); n != 14 || mask.GrayAt(0, 6).Y != 0 {
		t.Errorf("min-size 2: %d foreground pixels, want the ring's 14 without the speck", n)
	}
	mask, _, _ = finishHandMask(t, ring, FileOptions{Clean: Clean{KeepLargest: true}})
	if n := foreground(mask); n != 14 {
		t.Errorf("keep-largest: %d foreground pixels, want the ring's 14", n)
	}
	mask, inst, _ := finishHandMask(t, ring, FileOptions{Clean: Clean{MinSize: 2, FillHoles: true}, Instances: true})
	if got := ids(inst); len(got) != 1 || got[1] != 20 || foreground(mask) != 20 {
		t.Errorf("min-size and fill-holes: objects %v, mask %d pixels; want one of 20", got, foreground(mask))
	}
}

// Two discs that touch are one object, and two of nearly equal area with --split.
func TestSplitTouchingDiscs(t *testing.T) {
	const w, h, r = 40, 22, 8.5
	rows := make([]string, h)
	for y := range h {
		b := make([]byte, w)
		for x := range w {
			b[x] = '.'
			for _, cx := range []float64{11, 27} {
				if math.Hypot(float64(x)-cx, float64(y)-11) <= r {
					b[x] = '#'
				}
			}
		}
		rows[y] = string(b)
	}
	_, inst, _ := finishHandMask(t, rows, FileOptions{Instances: true})
	if got := ids(inst); len(got) != 1 {
		t.Fatalf("without --split: %d objects, want 1", len(got))
	}
	_, inst, table := finishHandMask(t, rows, FileOptions{Instances: true, Split: true, SplitDistance: 5})
	got := ids(inst)
	if len(got) != 2 || len(table) != 2 {
		t.Fatalf("with --split: objects %v, %d rows; want 2", got, len(table))
	}
	if a, b := float64(got[1]), float64(got[2]); math.Abs(a-b) > 0.05*(a+b)/2 {
		t.Errorf("areas %v and %v: want nearly equal", a, b)
	}
}

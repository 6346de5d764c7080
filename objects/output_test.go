package objects

import (
	"image"
	"strings"
	"testing"
)

func TestGray16RoundTrip(t *testing.T) {
	pix := make([]uint16, 6*4)
	for i := range pix {
		pix[i] = uint16(i * 2741 % 65536) // ids above 255 too
	}
	l, err := FromLabelImage(pix, 6, 4)
	if err != nil {
		t.Fatal(err)
	}
	l.Pix[5] = 300 // a raw id, to see both bytes written
	g := l.Gray16()
	if g.Gray16At(5, 0).Y != 300 || g.Gray16At(1, 0).Y != l.Pix[1] {
		t.Fatalf("Gray16 gives %d and %d, want 300 and %d", g.Gray16At(5, 0).Y, g.Gray16At(1, 0).Y, l.Pix[1])
	}
	sub := image.NewGray16(image.Rect(10, 20, 13, 22))
	sub.SetGray16(10, 20, g.Gray16At(5, 0))
	sub.SetGray16(12, 21, g.Gray16At(5, 0))
	back, err := FromGray16(sub)
	if err != nil {
		t.Fatal(err)
	}
	if back.W != 3 || back.H != 2 || back.N() != 1 || back.Pix[0] != 1 || back.Pix[5] != 1 {
		t.Fatalf("FromGray16: %dx%d, %d objects, pixels %v", back.W, back.H, back.N(), back.Pix)
	}
}

func TestCSVRecord(t *testing.T) {
	o := Object{ID: 3, Class: 2, Area: 6, CX: 2, CY: 1.5, Box: image.Rect(1, 1, 4, 3), Perimeter: 10, MeanProb: 0.25}
	got := strings.Join(o.CSVRecord("a.tif", 7), ",")
	if want := "a.tif,7,2,3,6,2,1.5,1,1,4,3,0.25,10"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	if len(o.CSVRecord("", 1)) != len(CSVHeader) {
		t.Fatal("a record and the header differ in length")
	}
	l := label(t, "1")
	obj, _ := l.Objects(nil)
	if rec := obj[0].CSVRecord("x", 1); rec[11] != "" {
		t.Fatalf("no probability gives %q", rec[11])
	}
}

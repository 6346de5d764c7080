package objects

import (
	"errors"
	"image"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// parse reads a class map drawn as text: '.' is background, a digit is that class.
func parse(rows ...string) ([]uint8, int, int) {
	w, h := len(rows[0]), len(rows)
	m := make([]uint8, 0, w*h)
	for _, r := range rows {
		if len(r) != w {
			panic("ragged picture")
		}
		for _, c := range r {
			if c != '.' {
				m = append(m, uint8(c-'0'))
			} else {
				m = append(m, 0)
			}
		}
	}
	return m, w, h
}

func label(t *testing.T, rows ...string) *Labels {
	t.Helper()
	m, w, h := parse(rows...)
	l, err := Label(m, w, h)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// picture draws a label image as text, ids as digits, for failure messages and comparisons.
func (l *Labels) picture() string {
	var b strings.Builder
	for y := range l.H {
		for x := range l.W {
			id := l.Pix[y*l.W+x]
			switch {
			case id == 0:
				b.WriteByte('.')
			case id < 10:
				b.WriteByte(byte('0' + id))
			default:
				b.WriteByte('#')
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func wantPicture(t *testing.T, l *Labels, rows ...string) {
	t.Helper()
	if want := strings.Join(rows, "\n") + "\n"; l.picture() != want {
		t.Fatalf("got\n%swant\n%s", l.picture(), want)
	}
}

func TestCornerTouchIsOneObject(t *testing.T) {
	l := label(t,
		"1...",
		".1..",
		"..11",
		"....")
	if l.N() != 1 {
		t.Fatalf("%d objects, want 1:\n%s", l.N(), l.picture())
	}
	// Classes never join, even side by side; ids follow first pixels.
	l = label(t,
		"11..2",
		"..22.",
		"1...2")
	wantPicture(t, l,
		"11..2",
		"..22.",
		"3...2")
	if want := []int{0, 1, 2, 1}; !equalInts(l.Class, want) {
		t.Fatalf("classes %v, want %v", l.Class, want)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRingWithHole(t *testing.T) {
	l := label(t,
		".......",
		".11111.",
		".1...1.",
		".1...1.",
		".11111.",
		".......")
	if l.N() != 1 {
		t.Fatalf("the ring is %d objects", l.N())
	}
	l.FillHoles()
	wantPicture(t, l,
		".......",
		".11111.",
		".11111.",
		".11111.",
		".11111.",
		".......")
	// Closed only by diagonal steps, the ring still encloses its inside (4-connected background).
	l = label(t,
		"...1...",
		"..1.1..",
		".1...1.",
		"..1.1..",
		"...1...")
	l.FillHoles()
	wantPicture(t, l,
		"...1...",
		"..111..",
		".11111.",
		"..111..",
		"...1...")
	// Not holes: a gap open to the outside, background at the border, a region bounded by
	// two objects, a region holding another object.
	l = label(t,
		".111.223..",
		".1.1.2.3..",
		".1.1.2.3..",
		".1...223..",
		"..........",
		"3333333.44",
		"3.....3.4.",
		"3..5..3.44",
		"3333333...")
	before := l.picture()
	l.FillHoles()
	if l.picture() != before {
		t.Fatalf("filled what is no hole:\n%s", l.picture())
	}
	l = label(t,
		"111.",
		"1.1.",
		"1.1.",
		"111.")
	l.FillHoles()
	wantPicture(t, l,
		"111.",
		"111.",
		"111.",
		"111.")
	// A hole that the border closes is no hole.
	l = label(t,
		"1.1",
		"1.1",
		"111")
	l.FillHoles()
	wantPicture(t, l,
		"1.1",
		"1.1",
		"111")
}

func TestMinSizeRemovesSpeck(t *testing.T) {
	l := label(t,
		"1...1",
		"....1",
		"...22",
		".1.22")
	if l.N() != 4 {
		t.Fatalf("%d objects, want 4", l.N())
	}
	l.MinSize(2) // removes the specks, keeps the object of 2 pixels
	wantPicture(t, l,
		"....1",
		"....1",
		"...22",
		"...22")
	if want := []int{0, 1, 2}; !equalInts(l.Class, want) {
		t.Fatalf("classes %v, want %v", l.Class, want)
	}
	l.MinSize(5)
	if l.N() != 0 || l.picture() != ".....\n.....\n.....\n.....\n" {
		t.Fatalf("MinSize(5) left\n%s", l.picture())
	}
}

// wantClasses checks the class map of l against a picture drawn as parse reads it.
func wantClasses(t *testing.T, l *Labels, rows ...string) {
	t.Helper()
	m, _, _ := parse(rows...)
	if got := l.ClassMap(); !slices.Equal(got, m) {
		var b strings.Builder
		for i, c := range got {
			if c == 0 {
				b.WriteByte('.')
			} else {
				b.WriteByte(byte('0' + c))
			}
			if (i+1)%l.W == 0 {
				b.WriteByte('\n')
			}
		}
		t.Fatalf("classes\n%swant\n%s", b.String(), strings.Join(rows, "\n"))
	}
}

// TestMinSizeJoinsTheRegionAround: in a multi-class mask a removed speck takes the class
// around it, not class 0 (which may be a class like the sky); nested specks take the class
// around them all; a speck on a border goes to the class it touches most.
func TestMinSizeJoinsTheRegionAround(t *testing.T) {
	l := label(t,
		"111111",
		"112111",
		"111111",
		"333333",
		"334433",
		"345433",
		"334433",
		"......")
	l.MinSize(7) // the 4s are 6 pixels
	wantClasses(t, l,
		"111111",
		"111111",
		"111111",
		"333333",
		"333333",
		"333333",
		"333333",
		"......")
	wantPicture(t, l,
		"111111",
		"111111",
		"111111",
		"222222",
		"222222",
		"222222",
		"222222",
		"......")

	// The 2 borders three 1s and one background pixel: it joins the 1s. The 3 borders two
	// background pixels and one 1: background.
	l = label(t,
		"111.",
		"121.",
		"....",
		".3..")
	l.MinSize(2)
	wantClasses(t, l,
		"111.",
		"111.",
		"....",
		"....")

	// Every object removed and no background anywhere: background.
	l = label(t,
		"12",
		"21")
	l.MinSize(3)
	wantClasses(t, l, "..", "..")
}

// TestKeepLargestJoinsTheRegionAround: the smaller objects of a class join what surrounds
// them, and a removed object between two kept ones joins the one it borders most.
func TestKeepLargestJoinsTheRegionAround(t *testing.T) {
	l := label(t,
		"11111...",
		"12111.2.",
		"11111...",
		"22222222")
	l.KeepLargest(true)
	wantClasses(t, l,
		"11111...",
		"11111...",
		"11111...",
		"22222222")
	if l.N() != 2 {
		t.Fatalf("%d objects, want 2", l.N())
	}
}

func TestKeepLargest(t *testing.T) {
	l := label(t,
		"11.2.",
		"11.2.",
		"...2.",
		"1....",
		"...22")
	l.KeepLargest(true)
	wantPicture(t, l,
		"11.2.",
		"11.2.",
		"...2.",
		".....",
		".....")
	l.KeepLargest(false)
	wantPicture(t, l,
		"11...",
		"11...",
		".....",
		".....",
		".....")
}

func TestOfClass(t *testing.T) {
	l := label(t,
		"1.2.1",
		"..2..")
	two := l.OfClass(2)
	wantPicture(t, two, "..1..", "..1..")
	if !equalInts(two.Class, []int{0, 2}) {
		t.Fatalf("classes %v", two.Class)
	}
	wantPicture(t, l.OfClass(1), "1...2", ".....")
	wantPicture(t, l, "1.2.3", "..2..") // the original is untouched
}

func TestFromLabelImage(t *testing.T) {
	pix := []uint16{0, 7, 7, 300, 0, 7}
	l, err := FromLabelImage(pix, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	wantPicture(t, l, ".11", "2.1")
	if _, err := FromLabelImage(pix, 4, 2); err == nil {
		t.Fatal("a wrong size was accepted")
	}
}

func TestTooManyObjects(t *testing.T) {
	const side = 512 // isolated pixels on every other row and column: 65,536 objects
	m := make([]uint8, side*side)
	for y := 0; y < side; y += 2 {
		for x := 0; x < side; x += 2 {
			m[y*side+x] = 1
		}
	}
	if _, err := Label(m, side, side); !errors.Is(err, ErrTooMany) {
		t.Fatalf("got %v, want ErrTooMany", err)
	}
	m[0] = 0
	l, err := Label(m, side, side)
	if err != nil || l.N() != MaxObjects {
		t.Fatalf("65,535 objects: %v, %v", l, err)
	}
}

// disc draws a disc of class c.
func disc(m []uint8, w int, cx, cy, r float64, c uint8) {
	h := len(m) / w
	for y := range h {
		for x := range w {
			dx, dy := float64(x)-cx, float64(y)-cy
			if dx*dx+dy*dy <= r*r {
				m[y*w+x] = c
			}
		}
	}
}

func TestSplitTwoTouchingDiscs(t *testing.T) {
	const w, h = 90, 50
	m := make([]uint8, w*h)
	disc(m, w, 25, 25, 15, 1)
	disc(m, w, 53, 25, 15, 1) // centres 28 apart: the discs overlap in a neck
	l, err := Label(m, w, h)
	if err != nil || l.N() != 1 {
		t.Fatalf("%v, %d objects before the split", err, l.N())
	}
	if err := l.Split(5); err != nil {
		t.Fatal(err)
	}
	if l.N() != 2 {
		t.Fatalf("%d objects after the split, want 2:\n%s", l.N(), l.picture())
	}
	a := l.Areas()
	if d := math.Abs(float64(a[1] - a[2])); d > 0.02*float64(a[1]+a[2]) {
		t.Fatalf("areas %d and %d differ by more than 2%%:\n%s", a[1], a[2], l.picture())
	}
	if l.Pix[25*w+25] != 1 || l.Pix[25*w+53] != 2 || l.Class[1] != 1 || l.Class[2] != 1 {
		t.Fatalf("the centres are not in objects 1 and 2 of class 1:\n%s", l.picture())
	}
	// Every pixel of the object keeps an id; the two parts meet at the neck.
	for i := range m {
		if (m[i] != 0) != (l.Pix[i] != 0) {
			t.Fatalf("pixel %d changed between object and background", i)
		}
		if x := i % w; l.Pix[i] == 1 && x > 40 || l.Pix[i] == 2 && x < 38 {
			t.Fatalf("pixel (%d,%d) in object %d:\n%s", x, i/w, l.Pix[i], l.picture())
		}
	}
	// A seed distance larger than the centres' leaves them one object, and a lone disc
	// stays whole.
	l, _ = Label(m, w, h)
	if l.Split(30); l.N() != 1 {
		t.Fatalf("Split(30) made %d objects", l.N())
	}
	for i := range m { // the maximum that is no seed is flooded from the other
		if (m[i] != 0) != (l.Pix[i] == 1) {
			t.Fatalf("Split(30) left pixel (%d,%d) as %d:\n%s", i%w, i/w, l.Pix[i], l.picture())
		}
	}
	m = make([]uint8, w*h)
	disc(m, w, 40, 25, 18, 2)
	l, _ = Label(m, w, h)
	if l.Split(3); l.N() != 1 || l.Class[1] != 2 {
		t.Fatalf("a lone disc split into %d objects:\n%s", l.N(), l.picture())
	}
}

func TestObjectsTable(t *testing.T) {
	l := label(t,
		".....",
		".111.",
		".111.",
		"....2",
		"...22")
	prob := make([]float32, 25)
	for i := range prob {
		prob[i] = float32(i) / 100
	}
	obj, err := l.Objects(prob)
	if err != nil {
		t.Fatal(err)
	}
	want := []Object{
		{ID: 1, Class: 1, Area: 6, CX: 2, CY: 1.5, Box: image.Rect(1, 1, 4, 3), Perimeter: 10, MeanProb: (6 + 7 + 8 + 11 + 12 + 13) / 600.0},
		{ID: 2, Class: 2, Area: 3, CX: 11.0 / 3, CY: 11.0 / 3, Box: image.Rect(3, 3, 5, 5), Perimeter: 8, MeanProb: (19 + 23 + 24) / 300.0},
	}
	for k := range want {
		g, w := obj[k], want[k]
		if g.ID != w.ID || g.Class != w.Class || g.Area != w.Area || g.Box != w.Box || g.Perimeter != w.Perimeter ||
			math.Abs(g.CX-w.CX) > 1e-12 || math.Abs(g.CY-w.CY) > 1e-12 || math.Abs(g.MeanProb-w.MeanProb) > 1e-6 {
			t.Errorf("object %d: %+v, want %+v", k+1, g, w)
		}
	}
	obj, _ = l.Objects(nil)
	if !math.IsNaN(obj[0].MeanProb) {
		t.Errorf("mean probability without probabilities: %v", obj[0].MeanProb)
	}
	if _, err := l.Objects(prob[:3]); err == nil {
		t.Error("a short probability plane was accepted")
	}
}

// randomMap draws random discs of random classes, and random specks.
func randomMap(r *rand.Rand, w, h, classes, discs int) []uint8 {
	m := make([]uint8, w*h)
	for range discs {
		disc(m, w, r.Float64()*float64(w), r.Float64()*float64(h), 1+r.Float64()*float64(min(w, h))/5, uint8(1+r.IntN(classes)))
	}
	for range w * h / 30 {
		m[r.IntN(w*h)] = uint8(r.IntN(classes + 1))
	}
	return m
}

// floodLabel is a plain labelling to check Label against: a breadth-first flood from each
// unlabelled pixel, in raster order, over the 8 neighbours of the same class.
func floodLabel(m []uint8, w, h int) []uint16 {
	out := make([]uint16, w*h)
	next := uint16(0)
	for s := range m {
		if m[s] == 0 || out[s] != 0 {
			continue
		}
		next++
		out[s] = next
		queue := []int{s}
		for len(queue) > 0 {
			p := queue[0]
			queue = queue[1:]
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					x, y := p%w+dx, p/w+dy
					if x >= 0 && y >= 0 && x < w && y < h && m[y*w+x] == m[s] && out[y*w+x] == 0 {
						out[y*w+x] = next
						queue = append(queue, y*w+x)
					}
				}
			}
		}
	}
	return out
}

func TestLabelMatchesFloodFill(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := range 200 {
		w, h := 1+r.IntN(40), 1+r.IntN(40)
		m := randomMap(r, w, h, 1+r.IntN(3), r.IntN(12))
		if trial%3 == 0 { // dense noise: many small objects and diagonal contacts
			for i := range m {
				m[i] = uint8(r.IntN(3))
			}
		}
		l, err := Label(m, w, h)
		if err != nil {
			t.Fatal(err)
		}
		if cm := l.ClassMap(); string(cm) != string(m) {
			t.Fatalf("trial %d: ClassMap does not give back the class map", trial)
		}
		want := floodLabel(m, w, h)
		for i := range want {
			if l.Pix[i] != want[i] || l.Class[l.Pix[i]] != int(m[i]) {
				t.Fatalf("trial %d (%dx%d): pixel %d is object %d of class %d, want object %d of class %d",
					trial, w, h, i, l.Pix[i], l.Class[l.Pix[i]], want[i], m[i])
			}
		}
	}
}

func TestDistancesMatchBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for trial := range 200 {
		w, h := 1+r.IntN(30), 1+r.IntN(30)
		m := make([]uint8, w*h)
		density := r.Float64() * 0.2
		if trial%10 == 0 {
			density = 0 // no background at all
		}
		for i := range m {
			if r.Float64() >= density {
				m[i] = 1
			}
		}
		l, err := Label(m, w, h)
		if err != nil {
			t.Fatal(err)
		}
		got := l.SquaredDistances()
		for i := range m {
			want := uint32(NoBackground)
			for j := range m {
				if m[j] == 0 {
					dx, dy := i%w-j%w, i/w-j/w
					want = min(want, uint32(dx*dx+dy*dy))
				}
			}
			if got[i] != want {
				t.Fatalf("trial %d (%dx%d): pixel (%d,%d) at squared distance %d, want %d", trial, w, h, i%w, i/w, got[i], want)
			}
		}
	}
}

// With no least seed distance, every regional maximum of the distance transform seeds one
// object: Split makes as many objects as a plain search finds maxima, and each holds one.
func TestSplitSeedsAreRegionalMaxima(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for trial := range 100 {
		w, h := 5+r.IntN(40), 5+r.IntN(40)
		l, err := Label(randomMap(r, w, h, 2, 1+r.IntN(8)), w, h)
		if err != nil {
			t.Fatal(err)
		}
		d := l.SquaredDistances()
		orig := slices.Clone(l.Pix)
		// The plateaus: 8-connected pixels of one object and one distance, by flood fill.
		plateau := make([]int, w*h)
		var isMax []bool
		for s := range orig {
			if orig[s] == 0 || plateau[s] != 0 {
				continue
			}
			isMax = append(isMax, true)
			k := len(isMax)
			plateau[s] = k
			queue := []int{s}
			for len(queue) > 0 {
				p := queue[0]
				queue = queue[1:]
				for dy := -1; dy <= 1; dy++ {
					for dx := -1; dx <= 1; dx++ {
						x, y := p%w+dx, p/w+dy
						if x < 0 || y < 0 || x >= w || y >= h || orig[y*w+x] != orig[p] {
							continue
						}
						j := y*w + x
						if d[j] > d[p] {
							isMax[k-1] = false
						}
						if d[j] == d[p] && plateau[j] == 0 {
							plateau[j] = k
							queue = append(queue, j)
						}
					}
				}
			}
		}
		maxima := 0
		for _, m := range isMax {
			if m {
				maxima++
			}
		}
		if err := l.Split(0); err != nil {
			t.Fatal(err)
		}
		if l.N() != maxima {
			t.Fatalf("trial %d: %d objects, %d regional maxima", trial, l.N(), maxima)
		}
		held := make([]int, l.N()+1)
		counted := map[int]bool{}
		for i, k := range plateau {
			if k != 0 && isMax[k-1] && !counted[k] {
				counted[k] = true
				held[l.Pix[i]]++
			}
		}
		for id := 1; id <= l.N(); id++ {
			if held[id] != 1 {
				t.Fatalf("trial %d: object %d holds %d maxima", trial, id, held[id])
			}
		}
	}
}

package objects

import "testing"

// FuzzObjects runs every step on arbitrary class maps: nothing may panic, the labels must
// give the map back, cleaning and splitting must keep the labels well formed, and a
// labelling matched with itself must score perfectly.
func FuzzObjects(f *testing.F) {
	f.Add(uint8(3), []byte{1, 0, 1, 0, 1, 0, 1, 1, 1})
	f.Add(uint8(5), []byte("\x00\x01\x01\x01\x00\x01\x00\x00\x00\x01\x01\x01\x01\x01\x01"))
	f.Fuzz(func(t *testing.T, width uint8, data []byte) {
		w := int(width)%40 + 1
		h := len(data) / w
		if h == 0 {
			return
		}
		m := data[:w*h]
		for i := range m {
			m[i] %= 4
		}
		l, err := Label(m, w, h)
		if err != nil {
			t.Fatal(err)
		}
		if string(l.ClassMap()) != string(m) {
			t.Fatal("ClassMap does not give the map back")
		}
		self, _ := Match(l, l)
		if s := self.Scores(); s.DSB != 1 || s.F1 != 1 || s.Merges != 0 || s.Splits != 0 {
			t.Fatalf("a labelling matched with itself scores %+v", s)
		}
		fg := l.ClassMap()
		if err := l.Split(float64(width % 7)); err != nil {
			t.Fatal(err)
		}
		for i, c := range l.ClassMap() {
			if c != fg[i] {
				t.Fatalf("Split changed pixel %d from class %d to %d", i, fg[i], c)
			}
		}
		l.FillHoles()
		least := int(width % 5)
		l.MinSize(least)
		wellFormed(t, l)
		for id, a := range l.Areas()[1:] {
			if a < least {
				t.Fatalf("MinSize(%d) left object %d of %d pixels", least, id+1, a)
			}
		}
		perClass := width%2 == 0
		l.KeepLargest(perClass)
		wellFormed(t, l)
		seen := map[int]bool{}
		for _, c := range l.Class[1:] {
			if !perClass {
				c = 0
			}
			if seen[c] {
				t.Fatalf("KeepLargest(%v) left two objects of class %d", perClass, c)
			}
			seen[c] = true
		}
	})
}

// wellFormed checks that ids run from 1 to N, each used, in the order of first pixels.
func wellFormed(t *testing.T, l *Labels) {
	t.Helper()
	next := uint16(1)
	for _, id := range l.Pix {
		if id == next {
			next++
		} else if id > next {
			t.Fatalf("id %d before id %d", id, next)
		}
	}
	if int(next)-1 != l.N() {
		t.Fatalf("%d ids used, %d objects", next-1, l.N())
	}
}

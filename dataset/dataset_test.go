package dataset

import (
	"errors"
	"slices"
	"testing"
)

func TestOpenShared(t *testing.T) {
	tests := []struct {
		name                   string
		opts                   Options
		train, val, test       int
		channels, modelClasses int
		values                 []int
		ignore                 *int
		w, h                   int
	}{
		{"isbi2012-em-membranes", Options{}, 22, 2, 6, 1, 1, []int{0, 255}, nil, 512, 512},
		{"dsb2018-nuclei-256", Options{ValFraction: 0.2, Seed: 7}, 214, 54, 66, 1, 1, []int{0, 255}, nil, 256, 256},
		{"camvid-segnet-subset", Options{Ignore: intp(11)}, 63, 7, 30, 3, 11, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, intp(11), 480, 360},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Open(sharedData(t, tt.name), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Train) != tt.train || len(d.Val) != tt.val || len(d.Test) != tt.test || !d.ValHeldOut {
				t.Errorf("train/val/test = %d/%d/%d (held out %v), want %d/%d/%d", len(d.Train), len(d.Val), len(d.Test), d.ValHeldOut, tt.train, tt.val, tt.test)
			}
			if d.Channels != tt.channels || d.Classes.ModelClasses() != tt.modelClasses || !slices.Equal(d.Classes.Values, tt.values) {
				t.Errorf("channels %d, classes %v (model %d); want %d, %v (%d)", d.Channels, d.Classes, d.Classes.ModelClasses(), tt.channels, tt.values, tt.modelClasses)
			}
			if (d.Classes.Ignore == nil) != (tt.ignore == nil) {
				t.Errorf("ignore %v, want %v", d.Classes.Ignore, tt.ignore)
			}
			s, err := d.Load(d.Val[0])
			if err != nil {
				t.Fatal(err)
			}
			if s.W != tt.w || s.H != tt.h || s.C != tt.channels || len(s.Image) != s.C*s.H*s.W || len(s.Mask) != s.H*s.W {
				t.Fatalf("sample %dx%dx%d with %d/%d values", s.C, s.H, s.W, len(s.Image), len(s.Mask))
			}
			lo, hi := slices.Min(s.Image), slices.Max(s.Image)
			if lo < 0 || hi > 1 || hi == lo {
				t.Errorf("image values in [%g, %g]", lo, hi)
			}
			for _, c := range s.Mask {
				if c != IgnoreIndex && (c < 0 || int(c) >= len(d.Classes.Values)) {
					t.Fatalf("class index %d", c)
				}
			}
			per, ign := d.ClassPixels(d.Train)
			var sum int64
			for _, n := range per {
				sum += n
			}
			if want := int64(len(d.Train) * tt.w * tt.h); sum+ign != want {
				t.Errorf("class pixels %d + %d ignored, want %d", sum, ign, want)
			}
			if (ign > 0) != (tt.ignore != nil) {
				t.Errorf("%d ignored pixels", ign)
			}
		})
	}
}

func TestHoldOut(t *testing.T) {
	pairs := make([]Pair, 24)
	for i := range pairs {
		pairs[i].Name = string(rune('a' + i))
	}
	tr1, va1 := holdOut(pairs, 0, 1)
	_, va2 := holdOut(pairs, 0, 1)
	_, va3 := holdOut(pairs, 0, 2)
	if len(tr1) != 22 || len(va1) != 2 {
		t.Fatalf("%d/%d", len(tr1), len(va1))
	}
	if !slices.EqualFunc(va1, va2, func(a, b Pair) bool { return a.Name == b.Name }) || slices.EqualFunc(va1, va3, func(a, b Pair) bool { return a.Name == b.Name }) {
		t.Errorf("val by seed 1: %v %v; seed 2: %v", va1, va2, va3)
	}
	if tr, va := holdOut(pairs, -1, 1); len(tr) != 24 || va != nil {
		t.Errorf("negative fraction held out %d", len(va))
	}
	if tr, va := holdOut(pairs[:2], 0.9, 1); len(tr) != 1 || len(va) != 1 {
		t.Errorf("two pairs: %d/%d", len(tr), len(va))
	}
}

func TestCacheLRU(t *testing.T) {
	c := newCache(100)
	c.put("a", 1, 40)
	c.put("b", 2, 40)
	c.get("a") // a is now the most recent
	c.put("c", 3, 40)
	if _, ok := c.get("b"); ok {
		t.Error("b kept: least recently used should go first")
	}
	if _, ok := c.get("a"); !ok {
		t.Error("a dropped")
	}
	c.put("huge", 4, 101)
	if _, ok := c.get("huge"); ok {
		t.Error("value larger than the limit kept")
	}
	if c.used != 80 || len(c.byKey) != 2 || c.order.Len() != 2 {
		t.Errorf("cache holds %d bytes in %d entries (%d in order), want 80 in 2", c.used, len(c.byKey), c.order.Len())
	}
	var none *cache
	none.put("a", 1, 1)
	if _, ok := none.get("a"); ok {
		t.Error("nil cache kept a value")
	}
}

func TestOpenNotFound(t *testing.T) {
	_, err := Open(t.TempDir()+"/nope", Options{})
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v", err)
	}
}

package train

import (
	"math"
	"testing"
)

func TestCosine(t *testing.T) {
	s, err := NewSchedule(Cosine, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ done, want float64 }{{0, 1}, {0.5, 0.505}, {1, 0.01}, {2, 0.01}} {
		if got := s.LR(c.done); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("LR(%g) = %g, want %g", c.done, got, c.want)
		}
	}
}

func TestPlateau(t *testing.T) {
	s, err := NewSchedule(Plateau, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	// Best 0.6 at the second epoch, then four epochs without gain: the rate holds.
	for _, v := range []float64{0.5, 0.6, 0.6, 0.59, 0.6, 0.6} {
		s.EndEpoch(v)
	}
	if s.LR(0) != 0.1 {
		t.Fatalf("rate %g after 4 epochs without gain, want 0.1", s.LR(0))
	}
	s.EndEpoch(0.6)
	if s.LR(0) != 0.05 {
		t.Errorf("rate %g after 5 epochs without gain, want 0.05", s.LR(0))
	}
	s.EndEpoch(math.NaN())
	s.EndEpoch(0.7)
	if s.Bad != 0 || s.Best != 0.7 {
		t.Errorf("after a better score: bad %d best %g", s.Bad, s.Best)
	}
	if _, err := NewSchedule("step", 1); err == nil {
		t.Error("an unknown schedule was accepted")
	}
}

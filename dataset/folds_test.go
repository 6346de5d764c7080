package dataset

import (
	"errors"
	"fmt"
	"slices"
	"testing"
)

// foldPairs makes pairs named by names, in that order, as files of a folder.
func foldPairs(names ...string) []Pair {
	var ps []Pair
	for _, n := range names {
		ps = append(ps, Pair{Name: n, Image: "images/" + n + ".png", Mask: "masks/" + n + ".png"})
	}
	return ps
}

func pairNames(ps []Pair) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}

// TestFoldSplitIsPartition checks that the K held-out folds of a list cover every image
// exactly once, that each fold's training part is the rest, and that fold sizes differ by
// at most one, for several K and seeds.
func TestFoldSplitIsPartition(t *testing.T) {
	var names []string
	for i := 0; i < 23; i++ {
		names = append(names, fmt.Sprintf("img%02d", i))
	}
	pairs := foldPairs(names...)
	for _, count := range []int{2, 3, 5, 23} {
		for _, seed := range []uint64{0, 1, 42} {
			seen := map[string]int{}
			lo, hi := len(names), 0
			for k := 0; k < count; k++ {
				train, held, err := Fold{Index: k, Count: count}.Split(pairs, seed)
				if err != nil {
					t.Fatal(err)
				}
				if len(train)+len(held) != len(pairs) {
					t.Fatalf("K=%d seed %d fold %d: %d + %d pairs of %d", count, seed, k, len(train), len(held), len(pairs))
				}
				for _, p := range held {
					seen[p.Name]++
					if slices.Contains(pairNames(train), p.Name) {
						t.Fatalf("K=%d fold %d: %s both trained on and held out", count, k, p.Name)
					}
				}
				lo, hi = min(lo, len(held)), max(hi, len(held))
			}
			for _, n := range names {
				if seen[n] != 1 {
					t.Errorf("K=%d seed %d: %s held out by %d folds, want 1", count, seed, n, seen[n])
				}
			}
			if hi-lo > 1 {
				t.Errorf("K=%d seed %d: fold sizes %d to %d, want within one", count, seed, lo, hi)
			}
		}
	}
}

// TestFoldSplitPinned pins the split of a small list, so that a change of the shuffle (or of
// the Go release's math/rand) that would give other machines other folds fails here. The
// order of the input must not matter either: the names are sorted first.
func TestFoldSplitPinned(t *testing.T) {
	names := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}
	want := [][]string{{"b", "e", "h", "j"}, {"d", "f", "i"}, {"a", "c", "g"}}
	rev := slices.Clone(names)
	slices.Reverse(rev)
	for _, in := range [][]string{names, rev} {
		for k := range want {
			_, held, err := Fold{Index: k, Count: 3}.Split(foldPairs(in...), 7)
			if err != nil {
				t.Fatal(err)
			}
			got := slices.Sorted(slices.Values(pairNames(held)))
			if !slices.Equal(got, want[k]) {
				t.Errorf("fold %d/3 seed 7 of %v holds out %q, want %q", k, in, got, want[k])
			}
		}
	}
	_, other, _ := Fold{Index: 0, Count: 3}.Split(foldPairs(names...), 8)
	if slices.Equal(slices.Sorted(slices.Values(pairNames(other))), want[0]) {
		t.Errorf("seed 8 holds out the same fold 0 as seed 7: the seed is not used")
	}
}

// TestFoldSplitKeepsStacksWhole checks that the pages of a stack are held out together, and
// that K counts stacks, not pages.
func TestFoldSplitKeepsStacksWhole(t *testing.T) {
	var pairs []Pair
	for _, stack := range []string{"vol1", "vol2", "vol3"} {
		for page := 1; page <= 4; page++ {
			img := pagePath("images/"+stack+".tif", page)
			pairs = append(pairs, Pair{Name: stack + "#p" + fmt.Sprint(page), Image: img, Mask: pagePath("masks/"+stack+".tif", page)})
		}
	}
	for k := 0; k < 3; k++ {
		_, held, err := Fold{Index: k, Count: 3}.Split(pairs, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(held) != 4 {
			t.Fatalf("fold %d/3 holds out %v, want the 4 pages of one stack", k, pairNames(held))
		}
		for _, p := range held {
			if foldUnit(p) != foldUnit(held[0]) {
				t.Fatalf("fold %d/3 holds out pages of two stacks: %v", k, pairNames(held))
			}
		}
	}
	if _, _, err := (Fold{Index: 0, Count: 4}).Split(pairs, 1); !errors.Is(err, ErrFold) {
		t.Errorf("4 folds of 3 stacks (12 pages): got %v, want ErrFold", err)
	}
}

// TestParseFold checks the k/K syntax and its errors.
func TestParseFold(t *testing.T) {
	if f, err := ParseFold("2/5"); err != nil || f != (Fold{Index: 2, Count: 5}) {
		t.Errorf("2/5: got %v, %v", f, err)
	}
	for _, bad := range []string{"3/3", "0/1", "a/b", "-1/3", "1", "", "1/0", "0/0", "1/2/3"} {
		if f, err := ParseFold(bad); err == nil {
			t.Errorf("%q: got %v, want an error", bad, f)
		}
	}
	if _, _, err := (Fold{Index: 0, Count: 11}).Split(foldPairs("a", "b", "c", "d", "e", "f", "g", "h", "i", "j"), 1); !errors.Is(err, ErrFold) {
		t.Errorf("11 folds of 10 images: got %v, want ErrFold", err)
	}
}

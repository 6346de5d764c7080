package dataset

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// Fold names one fold of a K-fold cross-validation: the training pairs are split into Count
// folds, fold Index (from 0, as Slurm's --array=0-4 numbers tasks) is held out for
// validation and the others are trained on. The zero value is no fold.
type Fold struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

// ErrFold marks a fold that cannot be made: a Count larger than the number of samples
// there are to split (or groups of them, for stacks).
var ErrFold = errors.New("cannot split into folds")

// IsZero reports whether f is no fold.
func (f Fold) IsZero() bool { return f == Fold{} }

// String writes f as ParseFold reads it, "k/K".
func (f Fold) String() string { return fmt.Sprintf("%d/%d", f.Index, f.Count) }

// ParseFold reads "k/K": fold k (0 to K-1) of K, with K at least 2.
func ParseFold(s string) (Fold, error) {
	a, b, ok := strings.Cut(s, "/")
	if !ok {
		return Fold{}, fmt.Errorf("fold %q: want k/K, the fold held out (from 0) and the number of folds, e.g. 0/5", s)
	}
	k, err1 := strconv.Atoi(strings.TrimSpace(a))
	n, err2 := strconv.Atoi(strings.TrimSpace(b))
	switch {
	case err1 != nil || err2 != nil:
		return Fold{}, fmt.Errorf("fold %q: want k/K with whole numbers, e.g. 0/5", s)
	case n < 2:
		return Fold{}, fmt.Errorf("fold %q: want at least 2 folds", s)
	case k < 0 || k >= n:
		return Fold{}, fmt.Errorf("fold %q: k must be 0 to %d (folds are numbered from 0, as --array=0-%d numbers Slurm's tasks)", s, n-1, n-1)
	}
	return Fold{Index: k, Count: n}, nil
}

// Split holds fold f of pairs out: it returns the pairs trained on and those held out,
// each in the order of pairs. The pages of a TIFF stack are one unit (adjacent slices of a
// volume are near copies, so splitting them would leak the held-out pages into training).
//
// The split depends only on the names of the units and the seed, so that it is the same on
// every machine and for every fold of a run: the units are sorted by name, shuffled by a
// Fisher-Yates shuffle driven by PCG (seed, "fold"), and dealt round-robin to the folds, so
// that fold sizes differ by at most one unit. The shuffle is written here rather than taken
// from math/rand/v2, whose Shuffle is free to change between Go releases: a model's record
// of its held-out fold must still name the same images when another machine's build trains
// the other folds.
func (f Fold) Split(pairs []Pair, seed uint64) (train, held []Pair, err error) {
	units := make([]string, 0, len(pairs))
	for _, p := range pairs {
		units = append(units, foldUnit(p))
	}
	units = slices.Compact(slices.Sorted(slices.Values(units)))
	if f.Count > len(units) {
		what := "images"
		if len(units) < len(pairs) {
			what = "images and stacks"
		}
		return nil, nil, fmt.Errorf("%w: %d folds of %d %s: want at most one fold per image", ErrFold, f.Count, len(units), what)
	}
	fold := foldOf(units, f.Count, seed)
	for _, p := range pairs {
		if fold[foldUnit(p)] == f.Index {
			held = append(held, p)
		} else {
			train = append(train, p)
		}
	}
	return train, held, nil
}

// foldOf deals the sorted names units to count folds, shuffled as Split says.
func foldOf(units []string, count int, seed uint64) map[string]int {
	order := slices.Clone(units)
	r := rand.NewPCG(seed, 0x666f6c64) // "fold"
	for i := len(order) - 1; i > 0; i-- {
		j := int(r.Uint64() % uint64(i+1))
		order[i], order[j] = order[j], order[i]
	}
	fold := make(map[string]int, len(order))
	for i, u := range order {
		fold[u] = i % count
	}
	return fold
}

// foldUnit is what a fold holds out whole: an image's name, or a stack's name for its
// pages ("vol" for "vol#p3").
func foldUnit(p Pair) string {
	if _, page := splitPage(p.Image); page > 0 {
		if m := pageSuffix.FindStringIndex(p.Name); m != nil {
			return p.Name[:m[0]]
		}
	}
	return p.Name
}

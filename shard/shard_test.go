package shard

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		in   string
		i, n int
		err  string
	}{
		{"0/1", 0, 1, ""},
		{"3/4", 3, 4, ""},
		{" 2 / 5 ", 2, 5, ""},
		{"4/4", 0, 0, "from 0 to 3"},
		{"0/0", 0, 0, "count must be 1 or more"},
		{"-1/3", 0, 0, "from 0 to 2"},
		{"a/b", 0, 0, "want i/n"},
		{"2", 0, 0, "want i/n"},
		{"1/2/3", 0, 0, "want i/n"},
		{"", 0, 0, "want i/n"},
	} {
		s, err := Parse(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("Parse(%q) = %v, %v; want an error with %q", c.in, s, err, c.err)
			}
			continue
		}
		if err != nil || s.I != c.i || s.N != c.n {
			t.Errorf("Parse(%q) = %v, %v; want %d/%d", c.in, s, err, c.i, c.n)
		}
	}
}

func TestResolve(t *testing.T) {
	for _, c := range []struct {
		name   string
		flag   string
		shards int
		env    map[string]string
		i, n   int
		err    string
	}{
		{name: "nothing", n: 0},
		{name: "flag", flag: "1/3", i: 1, n: 3},
		{name: "flag wins over slurm", flag: "1/3", env: map[string]string{SlurmID: "0", SlurmCount: "2"}, i: 1, n: 3},
		{name: "flag and shards", flag: "1/3", shards: 3, err: "--shards goes with"},
		{name: "bad flag", flag: "4/4", err: "from 0 to 3"},
		{name: "slurm count", env: map[string]string{SlurmID: "2", SlurmCount: "4"}, i: 2, n: 4},
		{name: "slurm min max", env: map[string]string{SlurmID: "7", SlurmMin: "5", SlurmMax: "8"}, i: 2, n: 4},
		{name: "slurm min and count", env: map[string]string{SlurmID: "6", SlurmMin: "5", SlurmCount: "4", SlurmMax: "8"}, i: 1, n: 4},
		{name: "slurm no count", env: map[string]string{SlurmID: "2"}, err: "no task count"},
		{name: "slurm only max", env: map[string]string{SlurmID: "2", SlurmMax: "3"}, err: "no task count"},
		{name: "slurm count from shards", env: map[string]string{SlurmID: "2"}, shards: 3, i: 2, n: 3},
		// sbatch --array=2 of an array of 4 run again: the index is the shard.
		{name: "slurm resubmitted with shards", env: map[string]string{SlurmID: "2", SlurmMin: "2", SlurmMax: "2", SlurmCount: "1"}, shards: 4, i: 2, n: 4},
		{name: "slurm resubmitted without shards", env: map[string]string{SlurmID: "2", SlurmMin: "2", SlurmMax: "2", SlurmCount: "1"}, i: 0, n: 1},
		{name: "slurm shards too few", env: map[string]string{SlurmID: "4", SlurmCount: "5"}, shards: 4, err: "from 0 to 3"},
		{name: "slurm steps", env: map[string]string{SlurmID: "6", SlurmMin: "0", SlurmMax: "6", SlurmCount: "4"}, err: "steps"},
		{name: "slurm garbage", env: map[string]string{SlurmID: "x", SlurmCount: "4"}, err: "not a whole number"},
		{name: "k8s", env: map[string]string{K8sIndex: "3"}, shards: 5, i: 3, n: 5},
		{name: "k8s no shards", env: map[string]string{K8sIndex: "3"}, err: "give --shards n"},
		{name: "k8s out of range", env: map[string]string{K8sIndex: "5"}, shards: 5, err: "from 0 to 4"},
		{name: "shards alone", shards: 2, err: "without an index"},
		{name: "negative shards", shards: -1, err: "1 or more"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := Resolve(c.flag, c.shards, func(k string) string { return c.env[k] })
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("got %v, %v; want an error with %q", s, err, c.err)
				}
				return
			}
			if err != nil || s.I != c.i || s.N != c.n {
				t.Fatalf("got %v, %v; want %d/%d", s, err, c.i, c.n)
			}
			if s.On() && s.From == "" {
				t.Errorf("no From for %v", s)
			}
		})
	}
}

// TestSplitByHand checks the greedy split against one worked out by hand: sizes 9, 7, 6,
// 5, 4, 2 into 3 shards go 9->0, 7->1, 6->2, 5->2 (6 is least), 4->1 (7), 2->0 (9),
// leaving 11, 11, 11.
func TestSplitByHand(t *testing.T) {
	items := []Item{{"a", 4}, {"b", 9}, {"c", 2}, {"d", 6}, {"e", 7}, {"f", 5}}
	got := Split(items, 3)
	want := [][]int{{1, 2}, {0, 4}, {3, 5}}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("Split = %v, want %v", got, want)
	}
	// Equal sizes: ties go by name, so the split is by name whatever the order given.
	eq := []Item{{"z", 1}, {"x", 1}, {"y", 1}, {"w", 1}}
	if got, want := Split(eq, 2), [][]int{{2, 3}, {0, 1}}; !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("Split of equal sizes = %v, want %v (w, y to 0; x, z to 1)", got, want)
	}
}

// TestSplitProperties checks, on random inputs, that every item is in exactly one shard,
// that the split does not depend on the order of the inputs, and Graham's bound: the
// fullest shard holds at most the mean plus the largest item, and at most 4/3 of the best
// possible (checked by brute force on small cases).
func TestSplitProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 300 {
		m := 1 + rng.IntN(9)
		n := 1 + rng.IntN(4)
		items := make([]Item, m)
		for k := range items {
			items[k] = Item{Name: string(rune('a' + k)), Pixels: int64(1 + rng.IntN(20))}
		}
		parts := Split(items, n)
		seen := make([]int, m)
		var total, biggest, fullest int64
		for _, it := range items {
			total += it.Pixels
			biggest = max(biggest, it.Pixels)
		}
		for _, p := range parts {
			var load int64
			for _, k := range p {
				seen[k]++
				load += items[k].Pixels
			}
			fullest = max(fullest, load)
		}
		for k, c := range seen {
			if c != 1 {
				t.Fatalf("trial %d: item %d in %d shards", trial, k, c)
			}
		}
		if float64(fullest) > float64(total)/float64(n)+float64(biggest) {
			t.Fatalf("trial %d: fullest shard %d > mean %g + largest %d", trial, fullest, float64(total)/float64(n), biggest)
		}
		if best := bestMakespan(items, n); 3*fullest > 4*best {
			t.Fatalf("trial %d: fullest shard %d, best possible %d: over 4/3", trial, fullest, best)
		}
		// The same items in another order: the same shards, by name.
		perm := rng.Perm(m)
		shuffled := make([]Item, m)
		for k, p := range perm {
			shuffled[k] = items[p]
		}
		names := func(items []Item, parts [][]int) [][]string {
			out := make([][]string, len(parts))
			for s, p := range parts {
				for _, k := range p {
					out[s] = append(out[s], items[k].Name)
				}
				slices.Sort(out[s])
			}
			return out
		}
		a, b := names(items, parts), names(shuffled, Split(shuffled, n))
		if !slices.EqualFunc(a, b, slices.Equal) {
			t.Fatalf("trial %d: %v in another order gives %v, not %v", trial, items, b, a)
		}
	}
}

// bestMakespan is the least possible load of the fullest shard, by trying every assignment.
func bestMakespan(items []Item, n int) int64 {
	load := make([]int64, n)
	best := int64(1 << 62)
	var try func(k int)
	try = func(k int) {
		if k == len(items) {
			best = min(best, slices.Max(load))
			return
		}
		for s := range load {
			load[s] += items[k].Pixels
			if load[s] < best {
				try(k + 1)
			}
			load[s] -= items[k].Pixels
		}
	}
	try(0)
	return best
}

func TestPick(t *testing.T) {
	items := []Item{{"a", 4}, {"b", 9}, {"c", 2}}
	idx, px := Pick(items, Shard{})
	if !slices.Equal(idx, []int{0, 1, 2}) || px != 15 {
		t.Fatalf("Pick(no shard) = %v, %d", idx, px)
	}
	idx, px = Pick(items, Shard{I: 1, N: 2})
	if !slices.Equal(idx, []int{0, 2}) || px != 6 {
		t.Fatalf("Pick(1/2) = %v, %d; want [0 2], 6", idx, px)
	}
	if got := Describe(Shard{I: 1, N: 2, From: "--shard"}, items, idx, px); got != "shard 1/2 (--shard): 2 of 3 images, 0.00 of 0.00 Mpixels" {
		t.Errorf("Describe = %q", got)
	}
}

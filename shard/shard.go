// Package shard splits a list of inputs among the tasks of an array job (a Slurm job array,
// a Kubernetes Indexed Job) so that each task does its part with no scheduler of its own:
// which part a task takes (the --shard flag, or the index its engine gives in the
// environment), and the split itself, the same on every machine and balanced by pixels.
package shard

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Shard is part I of N (0 <= I < N). The zero Shard (N == 0) is no sharding: all of it.
type Shard struct {
	I, N int
	// From says where the shard came from, for the line a task prints: "--shard",
	// "SLURM_ARRAY_TASK_ID=2 of SLURM_ARRAY_TASK_COUNT=4", ...
	From string
}

// On says whether the work is sharded.
func (s Shard) On() bool { return s.N > 0 }

// String writes the shard as the flag takes it: "2/4".
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.I, s.N) }

// Parse reads "i/n", with 0 <= i < n.
func Parse(s string) (Shard, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(strings.TrimSpace(a))
	n, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("--shard %q: want i/n, two whole numbers such as 0/4", s)
	}
	return check(i, n, "--shard "+s)
}

func check(i, n int, what string) (Shard, error) {
	switch {
	case n < 1:
		return Shard{}, fmt.Errorf("%s: the shard count must be 1 or more", what)
	case i < 0 || i >= n:
		return Shard{}, fmt.Errorf("%s: the shard index must be from 0 to %d (shards are numbered from 0)", what, n-1)
	}
	return Shard{I: i, N: n}, nil
}

// The environment variables the engines set.
const (
	SlurmID    = "SLURM_ARRAY_TASK_ID"
	SlurmCount = "SLURM_ARRAY_TASK_COUNT"
	SlurmMin   = "SLURM_ARRAY_TASK_MIN"
	SlurmMax   = "SLURM_ARRAY_TASK_MAX"
	// K8sIndex is a Kubernetes Indexed Job's index; the count is not in the environment,
	// so --shards gives it.
	K8sIndex = "JOB_COMPLETION_INDEX"
)

// Resolve gives the shard of this task: flag (the --shard value) when it is not "";
// else Slurm's array index: with shards (the --shards value) more than 0, the index is the
// shard and shards the count, so that a part of the array submitted again (--array=1,3)
// does the same shards; without, the index counts from SLURM_ARRAY_TASK_MIN (0 when
// unset) and the count is SLURM_ARRAY_TASK_COUNT, or the array's max less min plus one;
// else JOB_COMPLETION_INDEX with shards as the count. No flag and no index is no sharding. getenv is
// os.Getenv, or a map in tests. Every error is the caller's usage error.
func Resolve(flag string, shards int, getenv func(string) string) (Shard, error) {
	if shards < 0 {
		return Shard{}, fmt.Errorf("--shards %d: want the number of tasks, 1 or more", shards)
	}
	if flag != "" {
		if shards > 0 {
			return Shard{}, errors.New("--shard i/n gives the count already; --shards goes with JOB_COMPLETION_INDEX")
		}
		s, err := Parse(flag)
		s.From = "--shard"
		return s, err
	}
	num := func(name string) (int, bool, error) {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return 0, false, nil
		}
		k, err := strconv.Atoi(v)
		if err != nil {
			return 0, true, fmt.Errorf("%s=%q: not a whole number", name, v)
		}
		return k, true, nil
	}
	id, hasID, err := num(SlurmID)
	if err != nil {
		return Shard{}, err
	}
	if hasID {
		count, hasCount, err := num(SlurmCount)
		if err != nil {
			return Shard{}, err
		}
		lo, hasMin, err := num(SlurmMin)
		if err != nil {
			return Shard{}, err
		}
		hi, hasMax, err := num(SlurmMax)
		if err != nil {
			return Shard{}, err
		}
		i, n, from := id, 0, fmt.Sprintf("%s=%d", SlurmID, id)
		switch {
		case shards > 0:
			// The index is the shard itself, whatever part of the array was submitted:
			// sbatch --array=1,3 runs shards 1 and 3 again.
			n = shards
			from += fmt.Sprintf(" of --shards %d", shards)
		case hasCount && hasMin:
			i, n = id-lo, count
			from += fmt.Sprintf(" from %s=%d of %s=%d", SlurmMin, lo, SlurmCount, count)
		case hasCount:
			n = count
			from += fmt.Sprintf(" of %s=%d", SlurmCount, count)
		case hasMin && hasMax:
			i, n = id-lo, hi-lo+1
			from += fmt.Sprintf(" from %s=%d to %s=%d", SlurmMin, lo, SlurmMax, hi)
		default:
			return Shard{}, fmt.Errorf("%s=%d but no task count: neither %s nor %s and %s is set; give --shard i/n or --shards n",
				SlurmID, id, SlurmCount, SlurmMin, SlurmMax)
		}
		s, err := check(i, n, from)
		if err != nil {
			return Shard{}, fmt.Errorf("%w (an array with steps, such as --array=0-6:2, is not a run of shards: use --array=0-%d)", err, max(n-1, 0))
		}
		s.From = from
		return s, nil
	}
	idx, hasIdx, err := num(K8sIndex)
	if err != nil {
		return Shard{}, err
	}
	if hasIdx {
		if shards == 0 {
			return Shard{}, fmt.Errorf("%s=%d but no task count: give --shards n (the Job's completions)", K8sIndex, idx)
		}
		from := fmt.Sprintf("%s=%d of --shards %d", K8sIndex, idx, shards)
		s, err := check(idx, shards, from)
		s.From = from
		return s, err
	}
	if shards > 0 {
		return Shard{}, fmt.Errorf("--shards %d without an index: it goes with %s (or %s)", shards, K8sIndex, SlurmID)
	}
	return Shard{}, nil
}

// Item is one input of the split: its name, which orders the inputs, and its size.
type Item struct {
	Name   string
	Pixels int64
}

// Split assigns each item to one of n shards and returns, per shard, the indices of its
// items in items, ascending. The items are taken largest first (ties by name, then by
// index), each given to the shard with the fewest pixels so far (ties to the lowest
// shard): Graham's greedy rule, within 4/3 of the best balance. It depends only on the
// names and sizes, not on the order items come in, so every task computes the same split.
func Split(items []Item, n int) [][]int {
	order := make([]int, len(items))
	for k := range order {
		order[k] = k
	}
	slices.SortStableFunc(order, func(a, b int) int {
		x, y := items[a], items[b]
		if c := cmp.Compare(y.Pixels, x.Pixels); c != 0 {
			return c
		}
		if c := strings.Compare(x.Name, y.Name); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	out := make([][]int, n)
	load := make([]int64, n)
	for _, k := range order {
		best := 0
		for s := 1; s < n; s++ {
			if load[s] < load[best] {
				best = s
			}
		}
		out[best] = append(out[best], k)
		load[best] += items[k].Pixels
	}
	for s := range out {
		slices.Sort(out[s])
	}
	return out
}

// Pick is the part of items that shard s holds, as indices into items (ascending), and
// its pixels. The zero Shard holds every item.
func Pick(items []Item, s Shard) (idx []int, pixels int64) {
	if !s.On() {
		idx = make([]int, len(items))
		for k := range idx {
			idx[k] = k
		}
	} else {
		idx = Split(items, s.N)[s.I]
	}
	for _, k := range idx {
		pixels += items[k].Pixels
	}
	return idx, pixels
}

// Describe is the line a task prints about its shard: "shard 2/4 (SLURM_ARRAY_TASK_ID=2
// of SLURM_ARRAY_TASK_COUNT=4): 5 of 20 images, 1.3 of 5.2 Mpixels".
func Describe(s Shard, items []Item, idx []int, pixels int64) string {
	var all int64
	for _, it := range items {
		all += it.Pixels
	}
	return fmt.Sprintf("shard %s (%s): %d of %d images, %.2f of %.2f Mpixels", s, s.From, len(idx), len(items), float64(pixels)/1e6, float64(all)/1e6)
}

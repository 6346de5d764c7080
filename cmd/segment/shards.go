package main

// The flags of predict and eval that split the work among the tasks of an array job, and
// the line each task prints about its part.

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/segment-dev/segment/shard"
)

// shardFlags are --shard and --shards.
type shardFlags struct {
	shard  string
	shards int
}

func (f *shardFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.shard, "shard", "", "do part `i/n` of the inputs (i from 0), split by pixels; default: from SLURM_ARRAY_TASK_ID, or JOB_COMPLETION_INDEX with --shards")
	fs.IntVar(&f.shards, "shards", 0, "the `number` of tasks, with a Kubernetes Indexed Job's JOB_COMPLETION_INDEX, or with SLURM_ARRAY_TASK_ID as the shard (so that sbatch --array=1,3 runs shards 1 and 3 again)")
}

// resolve gives this task's shard from the flags and the environment; its errors are usage
// errors.
func (f *shardFlags) resolve() (shard.Shard, error) {
	s, err := shard.Resolve(f.shard, f.shards, os.Getenv)
	if err != nil {
		return s, usagef("%v", err)
	}
	return s, nil
}

// pick keeps the names that shard s holds, split by their pixels (pixels(k) of names[k]),
// and tells errOut which shard this task took and what it holds. Without a shard it keeps
// every name and says nothing. keep gives the indices kept, ascending.
func pickShard(s shard.Shard, names []string, pixels func(k int) int64, errOut io.Writer) (keep []int) {
	if !s.On() {
		keep = make([]int, len(names))
		for k := range keep {
			keep[k] = k
		}
		return keep
	}
	items := make([]shard.Item, len(names))
	for k, n := range names {
		items[k] = shard.Item{Name: n, Pixels: pixels(k)}
	}
	keep, px := shard.Pick(items, s)
	fmt.Fprintln(errOut, "segment: "+shard.Describe(s, items, keep, px))
	return keep
}

package slurmtest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segment-dev/segment/internal/sharedtest"
	"github.com/segment-dev/segment/internal/slurmtest"
	"github.com/segment-dev/segment/predict"
	"github.com/segment-dev/segment/shard"
	"github.com/segment-dev/segment/weights"
)

// slurmRig is what the Slurm tests share: the cluster, a segment binary built for the jobs,
// and a folder that the jobs and the test both see.
type slurmRig struct {
	c   *slurmtest.Cluster
	bin string
	dir string
}

// newSlurmRig reaches the cluster (or skips) and builds segment.
func newSlurmRig(t *testing.T) *slurmRig {
	c := slurmtest.Reach(t)
	t.Logf("slurm nodes: %s", c.Nodes)
	dir := t.TempDir()
	bin := filepath.Join(dir, "segment")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/segment-dev/segment/cmd/segment").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v: %s", err, out)
	}
	return &slurmRig{c: c, bin: bin, dir: dir}
}

// env is what every run of segment in these tests gets, the jobs' and the test's own: one
// thread each, so that the tasks of an array share the node's cores as they would on a
// cluster, and the same everywhere, so that outputs can be compared byte for byte.
var slurmEnv = []string{"GOMAXPROCS=1"}

// script is a job's shell script: the environment above, then the lines.
func (r *slurmRig) script(lines ...string) string {
	return "export " + strings.Join(slurmEnv, " ") + "\nset -e\n" + strings.Join(lines, "\n") + "\n"
}

// segment runs the binary here, as one process, and fails the test unless it succeeds.
func (r *slurmRig) segment(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(r.bin, args...)
	cmd.Env = append(os.Environ(), slurmEnv...)
	for _, k := range []string{shard.SlurmID, shard.SlurmCount, shard.SlurmMin, shard.SlurmMax, shard.K8sIndex} {
		cmd.Env = append(cmd.Env, k+"=")
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("segment %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// run submits the script as an array of n tasks (0 to n-1) and waits for it.
func (r *slurmRig) run(t *testing.T, name string, n int, script string, timeout time.Duration) *slurmtest.Job {
	t.Helper()
	j := r.c.Submit(t, r.dir, name, fmt.Sprintf("0-%d", n-1), script)
	defer j.Cancel()
	j.Wait(t, timeout)
	r.allCompleted(t, j, name, n)
	return j
}

// allCompleted fails the test unless every task of the job ended with status 0.
func (r *slurmRig) allCompleted(t *testing.T, j *slurmtest.Job, name string, n int) {
	t.Helper()
	states := j.States(t)
	for i := range n {
		if states[i] != "COMPLETED 0:0" {
			t.Errorf("%s task %d: %q, want COMPLETED 0:0; its log:\n%s", name, i, states[i], j.Log(name, i))
		}
	}
}

// taskLine finds what a task's log says: the shard line's count and the predict summary.
var (
	taskShard   = regexp.MustCompile(`shard (\d+)/(\d+) \([^)]*\): (\d+) of (\d+) images`)
	taskSummary = regexp.MustCompile(`(\d+) of (\d+) images predicted`)
	taskSkipped = regexp.MustCompile(`skipped (\d+) images whose outputs exist`)
)

// logNumbers reads a predict task's log: its shard and image count, the images it
// predicted and those it skipped.
func logNumbers(t *testing.T, log string) (shardI, held, predicted, skipped int) {
	t.Helper()
	m := taskShard.FindStringSubmatch(log)
	s := taskSummary.FindStringSubmatch(log)
	if m == nil || s == nil {
		t.Fatalf("no shard line or summary in the log:\n%s", log)
	}
	shardI, _ = strconv.Atoi(m[1])
	held, _ = strconv.Atoi(m[3])
	predicted, _ = strconv.Atoi(s[1])
	if k := taskSkipped.FindStringSubmatch(log); k != nil {
		skipped, _ = strconv.Atoi(k[1])
	}
	return
}

// TestSlurm runs predict and eval as job arrays on a real Slurm cluster (one node will do,
// as .ci/slurm-up.sh starts) over the ISBI and DSB test sets with the sample model:
//
//   - predict --instances as 4 tasks, one of them killed (SIGKILL) mid-way and the array
//     submitted again: in the end the outputs are those of one process, byte for byte; the
//     second run predicted only what the killed task had not written (the skip counts in
//     the logs), left the files already written alone, and no temporary file is left; the
//     shards' objects tables hold one process's rows, and predict without a shard gathers
//     its objects.csv;
//   - eval --instances (and --report on ISBI) as 4 tasks, then --merge: the same
//     eval.json, eval.csv and report as one process;
//   - folds: a 3-fold training as an array, --time 1m a fold, each model recording its fold
//     and the held-out images partitioning train/; then the ensemble of the three predicts
//     and evaluates as an array (eval merged) and as one process, byte for byte the same.
func TestSlurm(t *testing.T) {
	isbi := sharedtest.Path(t, "data/isbi2012-em-membranes/test")
	dsb := sharedtest.Path(t, "data/dsb2018-nuclei-256/test")
	r := newSlurmRig(t)
	defer func() { t.Logf("sacct --completion:\n%s", slurmtest.Sacct()) }()

	t.Run("predict", func(t *testing.T) {
		inputs := []string{filepath.Join(isbi, "images"), filepath.Join(dsb, "images")}
		// --tta makes each task take a few seconds, so that one can be killed mid-way.
		flags := []string{"-q", "--overlay", "--tta", "--instances"}
		one := filepath.Join(r.dir, "predict-one")
		r.segment(t, append(append([]string{"predict", "--out", one}, inputs...), flags...)...)

		// The images of shard 1 as the tasks split them, to watch and count.
		files, problems := predict.Inputs(inputs)
		if len(problems) > 0 {
			t.Fatal(problems)
		}
		items := make([]shard.Item, len(files))
		for k, f := range files {
			items[k] = shard.Item{Name: f, Pixels: predict.InputPixels(f)}
		}
		idx, _ := shard.Pick(items, shard.Shard{I: 1, N: 4})
		out := filepath.Join(r.dir, "predict-array")
		outputs := func(k int) []string {
			stem := filepath.Join(out, strings.TrimSuffix(filepath.Base(files[k]), filepath.Ext(files[k])))
			return []string{stem + "_mask.png", stem + "_overlay.png", stem + "_instances.png", stem + "_objects.csv"}
		}
		done := func() (n int, stats map[string]os.FileInfo) {
			stats = map[string]os.FileInfo{}
		images:
			for _, k := range idx {
				for _, p := range outputs(k) {
					st, err := os.Stat(p)
					if err != nil {
						continue images
					}
					stats[p] = st
				}
				n++
			}
			return n, stats
		}

		script := r.script(fmt.Sprintf("%s predict --out %s %s %s", r.bin, out, strings.Join(inputs, " "), strings.Join(flags, " ")))
		j := r.c.Submit(t, r.dir, "predict", "0-3", script)
		defer j.Cancel()
		deadline := time.Now().Add(5 * time.Minute)
		for {
			n, _ := done()
			if n == len(idx) {
				t.Fatalf("shard 1 (%d images) finished before it could be killed", len(idx))
			}
			if n > 0 {
				j.Kill(t, 1)
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("shard 1 wrote nothing in 5 minutes")
			}
			time.Sleep(20 * time.Millisecond)
		}
		j.Wait(t, 5*time.Minute)
		states := j.States(t)
		if !strings.HasPrefix(states[1], "CANCELLED") {
			t.Fatalf("task 1 after the kill: %q, want CANCELLED", states[1])
		}
		// What the first run did: tasks 0, 2 and 3 all of their shards, task 1 what it
		// wrote before it was killed.
		first := map[int]int{}
		for _, i := range []int{0, 2, 3} {
			if states[i] != "COMPLETED 0:0" {
				t.Fatalf("task %d: %q; its log:\n%s", i, states[i], j.Log("predict", i))
			}
			si, held, predicted, skipped := logNumbers(t, j.Log("predict", i))
			if si != i || predicted != held || skipped != 0 {
				t.Errorf("task %d: shard %d, %d images, %d predicted, %d skipped", i, si, held, predicted, skipped)
			}
			first[i] = held
		}
		written, kept := done()
		temps, _ := filepath.Glob(filepath.Join(out, ".*.tmp-*"))
		t.Logf("task 1 killed after %d of its %d images; %d temporary files left by it", written, len(idx), len(temps))

		// The array again: only what is missing is predicted.
		j2 := r.c.Submit(t, r.dir, "predict-again", "0-3", script)
		defer j2.Cancel()
		j2.Wait(t, 5*time.Minute)
		r.allCompleted(t, j2, "predict-again", 4)
		total := 0
		for i := range 4 {
			si, held, predicted, skipped := logNumbers(t, j2.Log("predict-again", i))
			total += held
			want := held // every image of a finished shard is skipped
			if i == 1 {
				want = written
				if held != len(idx) {
					t.Errorf("task 1 holds %d images, the test's split %d", held, len(idx))
				}
			} else if held != first[i] {
				t.Errorf("task %d holds %d images, %d the first time", i, held, first[i])
			}
			if si != i || skipped != want || predicted != held-want {
				t.Errorf("task %d again: shard %d, %d images, %d predicted, %d skipped; want %d skipped, %d predicted",
					i, si, held, predicted, skipped, want, held-want)
			}
		}
		if total != len(files) {
			t.Errorf("the shards hold %d images, want %d", total, len(files))
		}
		for p, before := range kept {
			if now, err := os.Stat(p); err != nil || !os.SameFile(before, now) {
				t.Errorf("%s: written again by the second run", p)
			}
		}
		if temps, _ := filepath.Glob(filepath.Join(out, ".*")); len(temps) > 0 {
			t.Errorf("temporary files left: %v", temps)
		}
		// The shards' objects tables hold each object once; the same predict without a
		// shard predicts nothing and gathers objects.csv, the bytes of one process's.
		want, _ := os.ReadFile(filepath.Join(one, "objects.csv"))
		rows := 0
		for i := range 4 {
			b, err := os.ReadFile(filepath.Join(out, fmt.Sprintf("objects.shard-%d-of-4.csv", i)))
			if err != nil {
				t.Fatal(err)
			}
			rows += bytes.Count(b, []byte("\n")) - 1
		}
		if n := bytes.Count(want, []byte("\n")) - 1; rows != n || n < 1 {
			t.Errorf("the shards' objects tables hold %d rows, one process's objects.csv %d", rows, n)
		}
		if log := r.segment(t, append(append([]string{"predict", "--out", out}, inputs...), flags...)...); !strings.Contains(log, "skipped") {
			t.Errorf("gathering objects.csv predicted again: %s", log)
		}
		sharedtest.SameTree(t, one, out, "objects.shard-")
	})

	t.Run("eval", func(t *testing.T) {
		var lines []string
		// Both sets score objects; ISBI's six slices make the report too (DSB's pictures
		// would add seconds to a test that must stay short).
		report := map[string]string{"isbi": filepath.Join(r.dir, "eval-report-isbi")}
		for _, set := range []struct{ name, dir string }{{"isbi", isbi}, {"dsb", dsb}} {
			one := filepath.Join(r.dir, "eval-one-"+set.name)
			args, flags := []string{"eval", "--data", set.dir, "--out", one, "-q", "--instances"}, "--instances"
			if dir := report[set.name]; dir != "" {
				args, flags = append(args, "--report", filepath.Join(one, "report")), flags+" --report "+dir
			}
			r.segment(t, args...)
			lines = append(lines, fmt.Sprintf("%s eval --data %s --out %s -q %s", r.bin, set.dir, filepath.Join(r.dir, "eval-shards-"+set.name), flags))
		}
		r.run(t, "eval", 4, r.script(lines...), 5*time.Minute)
		for _, set := range []string{"isbi", "dsb"} {
			merged := filepath.Join(r.dir, "eval-merged-"+set)
			args := []string{"eval", "--merge", filepath.Join(r.dir, "eval-shards-"+set), "--out", merged, "-q", "--instances"}
			if dir := report[set]; dir != "" {
				args = append(args, "--report", dir)
			}
			r.segment(t, args...)
			if dir := report[set]; dir != "" {
				sharedtest.SameTree(t, filepath.Join(r.dir, "eval-one-"+set, "report"), dir, "shard-")
			}
			for _, f := range []string{"eval.json", "eval.csv"} {
				a, _ := os.ReadFile(filepath.Join(r.dir, "eval-one-"+set, f))
				b, _ := os.ReadFile(filepath.Join(merged, f))
				if len(a) == 0 || string(a) != string(b) {
					t.Errorf("%s %s: the merge of the array's shards differs from one process", set, f)
				}
			}
		}
	})

	t.Run("folds", func(t *testing.T) {
		// Three folds of the sample data as an array, a minute each, then their ensemble
		// predicts and evaluates as an array and as one process, which must agree.
		data, err := filepath.Abs("../../sample_data")
		if err != nil {
			t.Fatal(err)
		}
		models := filepath.Join(r.dir, "folds")
		if err := os.MkdirAll(models, 0o755); err != nil {
			t.Fatal(err)
		}
		r.run(t, "folds", 3, r.script(fmt.Sprintf(
			"%s train --data %s --fold $SLURM_ARRAY_TASK_ID/3 --time 1m --seed 5 --out %s/fold$SLURM_ARRAY_TASK_ID.safetensors -q",
			r.bin, data, models)), 8*time.Minute)
		names, err := os.ReadDir(filepath.Join(data, "train", "images"))
		if err != nil {
			t.Fatal(err)
		}
		heldOut := map[string]int{}
		for k := range 3 {
			path := filepath.Join(models, fmt.Sprintf("fold%d.safetensors", k))
			_, meta, err := weights.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if f := meta.Fold; f == nil || f.Index != k || f.Count != 3 || f.Seed != 5 {
				t.Fatalf("%s: fold record %+v, want fold %d of 3, seed 5", path, f, k)
			}
			for _, n := range meta.Fold.HeldOut {
				heldOut[n]++
			}
		}
		if len(heldOut) != len(names) {
			t.Errorf("the folds hold out %d distinct images of %d", len(heldOut), len(names))
		}
		for n, c := range heldOut {
			if c != 1 {
				t.Errorf("%s held out by %d folds", n, c)
			}
		}

		val := filepath.Join(data, "val")
		one, arr := filepath.Join(r.dir, "ensemble-one"), filepath.Join(r.dir, "ensemble-array")
		r.segment(t, "predict", "--model", models, "--out", one, "-q", filepath.Join(val, "images"))
		evalOne := filepath.Join(r.dir, "ensemble-eval-one")
		r.segment(t, "eval", "--model", models, "--data", val, "--out", evalOne, "-q")
		evalShards := filepath.Join(r.dir, "ensemble-eval-shards")
		r.run(t, "ensemble", 2, r.script(
			fmt.Sprintf("%s predict --model %s --out %s -q %s", r.bin, models, arr, filepath.Join(val, "images")),
			fmt.Sprintf("%s eval --model %s --data %s --out %s -q", r.bin, models, val, evalShards)), 5*time.Minute)
		sharedtest.SameTree(t, one, arr)
		merged := filepath.Join(r.dir, "ensemble-eval-merged")
		r.segment(t, "eval", "--merge", evalShards, "--out", merged, "-q")
		for _, f := range []string{"eval.json", "eval.csv"} {
			a, _ := os.ReadFile(filepath.Join(evalOne, f))
			b, _ := os.ReadFile(filepath.Join(merged, f))
			if len(a) == 0 || string(a) != string(b) {
				t.Errorf("ensemble %s: the merge of the array's shards differs from one process", f)
			}
		}
		var report struct{ Model string }
		if b, err := os.ReadFile(filepath.Join(evalOne, "eval.json")); err != nil || json.Unmarshal(b, &report) != nil || strings.Count(report.Model, ",") != 2 {
			t.Errorf("eval.json names the model %q, want the three fold models", report.Model)
		}
	})
}

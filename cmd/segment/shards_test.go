package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/segment-dev/segment/internal/samplemodel"
	"github.com/segment-dev/segment/internal/sharedtest"
	"github.com/segment-dev/segment/weights"
)

// clearShardEnv makes the test independent of the array job it may run in.
func clearShardEnv(t *testing.T) {
	for _, k := range []string{"SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_MAX", "JOB_COMPLETION_INDEX"} {
		t.Setenv(k, "")
	}
}

// TestShardUsageErrors: every malformed shard, from the flag or the environment, is a usage
// error (exit 2) that says what is wrong, for predict and eval alike.
func TestShardUsageErrors(t *testing.T) {
	val := "../../sample_data/val"
	for _, c := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"index equals count", nil, []string{"--shard", "4/4"}, "from 0 to 3"},
		{"no shards", nil, []string{"--shard", "0/0"}, "1 or more"},
		{"not numbers", nil, []string{"--shard", "a/b"}, "want i/n"},
		{"slurm index without count", map[string]string{"SLURM_ARRAY_TASK_ID": "1"}, nil, "no task count"},
		{"k8s index without --shards", map[string]string{"JOB_COMPLETION_INDEX": "1"}, nil, "give --shards n"},
	} {
		for _, cmd := range [][]string{{"predict", val + "/images", "--out", t.TempDir()}, {"eval", "--data", val, "--out", t.TempDir()}} {
			t.Run(c.name+"/"+cmd[0], func(t *testing.T) {
				clearShardEnv(t)
				for k, v := range c.env {
					t.Setenv(k, v)
				}
				args := append(append([]string{}, cmd...), append(c.args, "-q")...)
				code, _, errOut := runCmd(args...)
				if code != exitUsage || !strings.Contains(errOut, c.want) {
					t.Errorf("segment %v: exit %d, stderr %q; want %d and %q", args, code, errOut, exitUsage, c.want)
				}
			})
		}
	}
}

var shardLine = regexp.MustCompile(`shard (\d+)/(\d+) \(([^)]*)\): (\d+) of (\d+) images`)
var skippedLine = regexp.MustCompile(`skipped (\d+) images whose outputs exist`)

// TestPredictShards predicts the sample images in three shards (one through the flag, one
// through Slurm's variables, one through a Kubernetes index) into one folder and checks that
// the outputs are those of one run, byte for byte, each image in exactly one shard. Then a
// run killed between two of an image's files (its overlay missing, a temporary file left)
// is run again: only that image is predicted, the others are counted as skipped.
func TestPredictShards(t *testing.T) {
	clearShardEnv(t)
	in := "../../sample_data/val/images"
	one, parts := t.TempDir(), t.TempDir()
	if code, _, errOut := runCmd("predict", in, "--out", one, "--overlay", "-q"); code != 0 {
		t.Fatalf("one run: %s", errOut)
	}
	total := 0
	for i, env := range []map[string]string{
		nil,
		{"SLURM_ARRAY_TASK_ID": "11", "SLURM_ARRAY_TASK_MIN": "10", "SLURM_ARRAY_TASK_MAX": "12"},
		{"JOB_COMPLETION_INDEX": "2"},
	} {
		args := []string{"predict", in, "--out", parts, "--overlay", "-q"}
		switch i {
		case 0:
			args = append(args, "--shard", "0/3")
		case 2:
			args = append(args, "--shards", "3")
		}
		for k, v := range env {
			t.Setenv(k, v)
		}
		code, _, errOut := runCmd(args...)
		for k := range env {
			t.Setenv(k, "")
		}
		if code != 0 {
			t.Fatalf("shard %d: exit %d: %s", i, code, errOut)
		}
		m := shardLine.FindStringSubmatch(errOut)
		if m == nil || m[1] != strconv.Itoa(i) || m[2] != "3" || m[5] != "8" {
			t.Fatalf("shard %d said %q, want its shard line", i, errOut)
		}
		n, _ := strconv.Atoi(m[4])
		total += n
	}
	if total != 8 {
		t.Errorf("the shards hold %d images, want the 8 of the folder", total)
	}
	sharedtest.SameTree(t, one, parts)

	// A killed run: 0003's overlay never renamed into place, its temporary file left.
	os.Remove(filepath.Join(parts, "0003_overlay.png"))
	tmp := filepath.Join(parts, ".0003_overlay.png.tmp-12345")
	os.WriteFile(tmp, []byte("half a PNG"), 0o666)
	kept, _ := os.Stat(filepath.Join(parts, "0004_mask.png"))
	code, stdout, errOut := runCmd("predict", in, "--out", parts, "--overlay", "-q")
	if code != 0 {
		t.Fatalf("re-run: exit %d: %s", code, errOut)
	}
	if m := skippedLine.FindStringSubmatch(stdout); m == nil || m[1] != "7" || !strings.Contains(stdout, "1 of 8 images predicted") {
		t.Errorf("re-run said %q; want 1 of 8 predicted, 7 skipped", stdout)
	}
	if now, _ := os.Stat(filepath.Join(parts, "0004_mask.png")); !os.SameFile(kept, now) {
		t.Error("re-run wrote 0004_mask.png again")
	}
	if _, err := os.Stat(tmp); err == nil {
		t.Error("re-run left the temporary file of the killed run")
	}
	sharedtest.SameTree(t, one, parts)
	// --overwrite predicts them all.
	code, stdout, _ = runCmd("predict", in, "--out", parts, "--overlay", "-q", "--overwrite")
	if code != 0 || !strings.Contains(stdout, "8 of 8 images predicted") || strings.Contains(stdout, "skipped") {
		t.Errorf("--overwrite: exit %d, %q", code, stdout)
	}
}

// TestEvalMerge scores the sample validation set in three shards, of a model and of
// existing masks, merges them and checks eval.json and eval.csv against one run, byte for
// byte; then that a merge with a shard missing, doubled, or from another model or data set
// fails naming the file.
func TestEvalMerge(t *testing.T) {
	clearShardEnv(t)
	val := "../../sample_data/val"
	masks := t.TempDir()
	if code, _, errOut := runCmd("predict", val+"/images", "--out", masks, "-q"); code != 0 {
		t.Fatal(errOut)
	}
	for _, mode := range [][]string{{"--data", val}, {"--pred", masks, "--gt", val}} {
		t.Run(mode[0], func(t *testing.T) {
			one, parts, merged := t.TempDir(), t.TempDir(), t.TempDir()
			if code, _, errOut := runCmd(append([]string{"eval", "--out", one, "-q"}, mode...)...); code != 0 {
				t.Fatal(errOut)
			}
			for i := range 3 {
				args := append([]string{"eval", "--out", parts, "-q", "--shard", strconv.Itoa(i) + "/3"}, mode...)
				if code, _, errOut := runCmd(args...); code != 0 {
					t.Fatalf("shard %d: %s", i, errOut)
				}
			}
			if code, _, errOut := runCmd("eval", "--merge", parts, "--out", merged); code != 0 {
				t.Fatalf("merge: %s", errOut)
			}
			sameEval(t, one, merged)
		})
	}

	parts := t.TempDir()
	for i := range 2 {
		if code, _, errOut := runCmd("eval", "--data", val, "--out", parts, "-q", "--shard", strconv.Itoa(i)+"/2"); code != 0 {
			t.Fatal(errOut)
		}
	}
	s0, s1 := filepath.Join(parts, "eval.shard-0-of-2.json"), filepath.Join(parts, "eval.shard-1-of-2.json")
	// Shard 1 of another model: the same weights, saved with another training record.
	m, meta, err := samplemodel.Load()
	if err != nil {
		t.Fatal(err)
	}
	meta.Train = json.RawMessage(`{"note":"another model"}`)
	other := filepath.Join(t.TempDir(), "other.safetensors")
	if err := weights.Save(other, m, meta); err != nil {
		t.Fatal(err)
	}
	otherModel := t.TempDir()
	if code, _, errOut := runCmd("eval", "--data", val, "--model", other, "--out", otherModel, "-q", "--shard", "1/2"); code != 0 {
		t.Fatal(errOut)
	}
	// Shard 1 of another data set: the validation set less one pair.
	less := t.TempDir()
	for _, sub := range []string{"images", "masks"} {
		os.MkdirAll(filepath.Join(less, sub), 0o755)
		names, _ := os.ReadDir(filepath.Join(val, sub))
		for _, n := range names[1:] {
			b, _ := os.ReadFile(filepath.Join(val, sub, n.Name()))
			os.WriteFile(filepath.Join(less, sub, n.Name()), b, 0o644)
		}
	}
	otherData := t.TempDir()
	if code, _, errOut := runCmd("eval", "--data", less, "--out", otherData, "-q", "--shard", "1/2"); code != 0 {
		t.Fatal(errOut)
	}
	copyTo := func(src, dir string) string {
		b, _ := os.ReadFile(src)
		p := filepath.Join(dir, "copy-"+filepath.Base(src))
		os.WriteFile(p, b, 0o644)
		return p
	}
	for _, c := range []struct {
		name  string
		files []string
		want  string
	}{
		{"missing", []string{s0}, "shards missing: eval.shard-1-of-2.json"},
		{"doubled", []string{s0, s1, copyTo(s1, t.TempDir())}, "shard 1 of 2 given twice"},
		{"other model", []string{s0, filepath.Join(otherModel, "eval.shard-1-of-2.json")}, "from another model"},
		{"other data", []string{s0, filepath.Join(otherData, "eval.shard-1-of-2.json")}, "from another data set"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := t.TempDir()
			code, _, errOut := runCmd(append([]string{"eval", "--out", out, "--merge"}, strings.Join(c.files, ","))...)
			if code != exitFailure || !strings.Contains(errOut, c.want) {
				t.Fatalf("exit %d, %q; want %d and %q", code, errOut, exitFailure, c.want)
			}
			named := slices.ContainsFunc(c.files, func(f string) bool { return strings.Contains(errOut, f) })
			if !named {
				t.Errorf("%q names none of the shard files", errOut)
			}
			if _, err := os.Stat(filepath.Join(out, "eval.json")); err == nil {
				t.Error("a failed merge wrote eval.json")
			}
		})
	}
}

// sameEval fails unless the merge's eval.json and eval.csv in merged are one run's, in one,
// byte for byte.
func sameEval(t *testing.T, one, merged string) {
	t.Helper()
	for _, f := range []string{"eval.json", "eval.csv"} {
		a, _ := os.ReadFile(filepath.Join(one, f))
		b, _ := os.ReadFile(filepath.Join(merged, f))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s: the merge differs from one run:\n%s\n%s", f, a, b)
		}
	}
}

// TestModelHashEnsemble: a shard file's model hash covers every model of an ensemble, in
// its order, so that merging shards of two ensembles fails; one file hashes as its bytes.
func TestModelHashEnsemble(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.safetensors"), filepath.Join(dir, "b.safetensors")
	os.WriteFile(a, []byte("model a"), 0o644)
	os.WriteFile(b, []byte("model b"), 0o644)
	hash := func(spec string) string {
		t.Helper()
		h, err := modelHash(spec)
		if err != nil {
			t.Fatalf("%s: %v", spec, err)
		}
		return h
	}
	if got, want := hash(a), fmt.Sprintf("%x", sha256.Sum256([]byte("model a"))); got != want {
		t.Errorf("one file: %s, want the SHA-256 of its bytes %s", got, want)
	}
	ab, ba := hash(a+","+b), hash(b+","+a)
	if ab == ba || ab == hash(a) || ab == hash(b) {
		t.Errorf("a,b %.12s, b,a %.12s, a %.12s, b %.12s: an ensemble's hash must depend on every model and their order", ab, ba, hash(a), hash(b))
	}
	if hash(dir) != ab {
		t.Errorf("the folder of a and b hashes as %.12s, the list a,b as %.12s", hash(dir), ab)
	}
}

// TestEvalMergeSkippedOrder: with pairs that fail when they are scored in several shards
// (predictions of another size), and a problem found before the split (a truncated
// prediction, which every shard finds), the merge lists the skipped pairs as one run does,
// in the data list's order, not shard after shard: eval.json and eval.csv are
// byte-identical to one run's, and the merge fails as that run fails.
func TestEvalMergeSkippedOrder(t *testing.T) {
	clearShardEnv(t)
	val := "../../sample_data/val"
	pred := t.TempDir()
	if code, _, errOut := runCmd("predict", val+"/images", "--out", pred, "-q"); code != 0 {
		t.Fatal(errOut)
	}
	for _, name := range []string{"0001", "0002", "0007"} {
		writeGrayPNG(t, filepath.Join(pred, name+"_mask.png"), 64, 64, nil)
	}
	trunc := filepath.Join(pred, "0005_mask.png")
	b, err := os.ReadFile(trunc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(trunc, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	mode := []string{"--pred", pred, "--gt", val, "-q"}
	one, parts, merged := t.TempDir(), t.TempDir(), t.TempDir()
	wantCode, _, errOut := runCmd(append([]string{"eval", "--out", one}, mode...)...)
	if wantCode != exitFailure {
		t.Fatalf("one run: exit %d, want %d: %s", wantCode, exitFailure, errOut)
	}
	shardsWithFailures := 0
	for i := range 3 {
		runCmd(append([]string{"eval", "--out", parts, "--shard", strconv.Itoa(i) + "/3"}, mode...)...)
		b, err := os.ReadFile(filepath.Join(parts, fmt.Sprintf("eval.shard-%d-of-3.json", i)))
		if err != nil {
			t.Fatal(err)
		}
		var f struct{ Skipped []skippedPair }
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(f.Skipped, func(p skippedPair) bool { return p.File != trunc }) {
			shardsWithFailures++
		}
	}
	if shardsWithFailures < 2 {
		t.Fatalf("pairs failed in %d shards; the test wants them in two or more", shardsWithFailures)
	}
	if code, _, errOut := runCmd("eval", "--merge", parts, "--out", merged); code != wantCode {
		t.Errorf("merge: exit %d, one run's %d: %s", code, wantCode, errOut)
	}
	sameEval(t, one, merged)
}

// TestPredictShardsInstances: with --instances, three shards and then one run without a
// shard (which predicts nothing: every image's outputs, its own objects table among them,
// exist) give objects.csv byte for byte as one run does, and the three shards' tables hold
// each of its rows once; a run stopped half-way (images whose outputs are missing) and run
// again gives it too.
func TestPredictShardsInstances(t *testing.T) {
	clearShardEnv(t)
	in := "../../sample_data/val/images"
	args := func(out string, more ...string) []string {
		return append([]string{"predict", in, "--out", out, "--instances", "--split", "-q"}, more...)
	}
	one, parts := t.TempDir(), t.TempDir()
	if code, _, errOut := runCmd(args(one)...); code != 0 {
		t.Fatalf("one run: %s", errOut)
	}
	want := readCSV(t, filepath.Join(one, "objects.csv"))
	if len(want) < 9 {
		t.Fatalf("one run's objects.csv has %d rows, want objects in the 8 images", len(want))
	}
	var union [][]string
	for i := range 3 {
		if code, _, errOut := runCmd(args(parts, "--shard", fmt.Sprintf("%d/3", i))...); code != 0 {
			t.Fatalf("shard %d: %s", i, errOut)
		}
		rows := readCSV(t, filepath.Join(parts, fmt.Sprintf("objects.shard-%d-of-3.csv", i)))
		if !slices.Equal(rows[0], want[0]) {
			t.Fatalf("shard %d's header %q", i, rows[0])
		}
		union = append(union, rows[1:]...)
	}
	key := func(r []string) string { return strings.Join(r, ",") }
	got := map[string]int{}
	for _, r := range union {
		got[key(r)]++
	}
	for _, r := range want[1:] {
		if got[key(r)] != 1 {
			t.Errorf("row %q is in %d shard tables, want 1", r, got[key(r)])
		}
	}
	if len(union) != len(want)-1 {
		t.Errorf("the shard tables hold %d rows, one run's %d", len(union), len(want)-1)
	}
	code, stdout, errOut := runCmd(args(parts)...)
	if code != 0 || !strings.Contains(stdout, "0 of 8 images predicted") {
		t.Fatalf("the run that gathers the shards: exit %d, %q %s", code, stdout, errOut)
	}
	same := func(what string) {
		t.Helper()
		for _, f := range []string{"objects.csv", "0003_objects.csv", "0003_instances.png", "0005_mask.png"} {
			a, _ := os.ReadFile(filepath.Join(one, f))
			b, err := os.ReadFile(filepath.Join(parts, f))
			if err != nil || !bytes.Equal(a, b) {
				t.Errorf("%s: %s differs from one run's (%v)", what, f, err)
			}
		}
	}
	same("after 3 shards")

	// A run stopped half-way: two images without their outputs, the table not written.
	for _, f := range []string{"0002_mask.png", "0002_instances.png", "0002_objects.csv", "0006_objects.csv", "objects.csv"} {
		os.Remove(filepath.Join(parts, f))
	}
	code, stdout, errOut = runCmd(args(parts)...)
	if m := skippedLine.FindStringSubmatch(stdout); code != 0 || m == nil || m[1] != "6" {
		t.Fatalf("re-run: exit %d, %q %s; want 6 images skipped", code, stdout, errOut)
	}
	same("after a re-run")

	// An image table that is not predict's is an error naming it, and no table is written.
	os.WriteFile(filepath.Join(parts, "0004_objects.csv"), []byte("id,area\n1,2\n"), 0o644)
	os.Remove(filepath.Join(parts, "objects.csv"))
	code, _, errOut = runCmd(args(parts)...)
	if code != exitFailure || !strings.Contains(errOut, "0004_objects.csv: not an objects table") {
		t.Errorf("a foreign image table: exit %d, %q", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(parts, "objects.csv")); err == nil {
		t.Error("objects.csv written from a foreign image table")
	}
}

// TestEvalMergeInstancesReport: eval --shard with --instances and --report, of a model and of
// existing masks, merged with --report, gives eval.json and eval.csv byte for byte as one
// run, and the same report: the page and every picture, the shards' parts aside. Merging
// shards without the object scores or the report's parts, or with a part of another run,
// fails naming the file.
func TestEvalMergeInstancesReport(t *testing.T) {
	clearShardEnv(t)
	val := "../../sample_data/val"
	masks := t.TempDir()
	if code, _, errOut := runCmd("predict", val+"/images", "--out", masks, "-q"); code != 0 {
		t.Fatal(errOut)
	}
	for _, mode := range [][]string{{"--data", val}, {"--pred", masks, "--gt", val}} {
		t.Run(mode[0], func(t *testing.T) {
			one, parts, merged := t.TempDir(), t.TempDir(), t.TempDir()
			repOne, repParts := filepath.Join(t.TempDir(), "rep"), filepath.Join(t.TempDir(), "rep")
			if code, _, errOut := runCmd(append([]string{"eval", "--out", one, "-q", "--instances", "--report", repOne}, mode...)...); code != 0 {
				t.Fatal(errOut)
			}
			for i := range 3 {
				args := append([]string{"eval", "--out", parts, "-q", "--instances", "--report", repParts, "--shard", strconv.Itoa(i) + "/3"}, mode...)
				if code, _, errOut := runCmd(args...); code != 0 {
					t.Fatalf("shard %d: %s", i, errOut)
				}
			}
			for range 2 { // a merge run again gives the same
				if code, _, errOut := runCmd("eval", "--merge", parts, "--out", merged, "--report", repParts, "--instances"); code != 0 {
					t.Fatalf("merge: %s", errOut)
				}
				for _, f := range []string{"eval.json", "eval.csv"} {
					a, _ := os.ReadFile(filepath.Join(one, f))
					b, _ := os.ReadFile(filepath.Join(merged, f))
					if !bytes.Contains(a, []byte("objects_dsb")) && !bytes.Contains(a, []byte(`"dsb"`)) {
						t.Fatalf("%s of one run has no object scores:\n%s", f, a)
					}
					if !bytes.Equal(a, b) {
						t.Errorf("%s: the merge differs from one run:\n%s\n%s", f, a, b)
					}
				}
				if n := len(sharedtest.ReadTree(t, repOne)); n < 10 {
					t.Errorf("one run's report has %d files", n)
				}
				sharedtest.SameTree(t, repOne, repParts, "shard-")
			}
		})
	}

	// Bad merges, of two shards of the sample model's evaluation.
	plain, withAll := t.TempDir(), t.TempDir()
	rep := filepath.Join(t.TempDir(), "rep")
	for i := range 2 {
		sh := strconv.Itoa(i) + "/2"
		if code, _, errOut := runCmd("eval", "--data", val, "--out", plain, "-q", "--shard", sh); code != 0 {
			t.Fatal(errOut)
		}
		if code, _, errOut := runCmd("eval", "--data", val, "--out", withAll, "-q", "--shard", sh, "--instances", "--report", rep); code != 0 {
			t.Fatal(errOut)
		}
	}
	// A part of another run: shard 1 run again into another folder writes a new part.
	if code, _, errOut := runCmd("eval", "--data", val, "--out", t.TempDir(), "-q", "--shard", "1/2", "--instances", "--report", rep); code != 0 {
		t.Fatal(errOut)
	}
	for _, c := range []struct {
		name  string
		args  []string
		want  string
		named string
	}{
		{"no object scores", []string{"--merge", plain, "--instances"}, "scored without --instances", "eval.shard-0-of-2.json"},
		{"no report parts", []string{"--merge", plain, "--report", t.TempDir()}, "scored without --report", "eval.shard-0-of-2.json"},
		{"part of another run", []string{"--merge", withAll, "--report", rep}, "the part of another run", filepath.Join(rep, "shard-1-of-2")},
		{"no part", []string{"--merge", withAll, "--report", t.TempDir()}, "no part of a report", "shard-0-of-2"},
		{"shards with and without objects", []string{"--merge", filepath.Join(plain, "eval.shard-0-of-2.json") + "," + filepath.Join(withAll, "eval.shard-1-of-2.json")},
			"objects scored: true", "eval.shard-1-of-2.json"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := t.TempDir()
			code, _, errOut := runCmd(append([]string{"eval", "--out", out}, c.args...)...)
			if code != exitFailure || !strings.Contains(errOut, c.want) || !strings.Contains(errOut, c.named) {
				t.Fatalf("exit %d, %q; want %d, %q naming %s", code, errOut, exitFailure, c.want, c.named)
			}
			if _, err := os.Stat(filepath.Join(out, "eval.json")); err == nil {
				t.Error("a failed merge wrote eval.json")
			}
		})
	}
}

// TestEvalMergeFailures: a data set with a problem found before the split (an image
// without a mask, which every shard finds) and a pair that fails in its shard (an image cut
// short, found only when it is decoded): the merge counts and lists each once, as one run.
func TestEvalMergeFailures(t *testing.T) {
	clearShardEnv(t)
	val := "../../sample_data/val"
	data := t.TempDir()
	for _, sub := range []string{"images", "masks"} {
		os.MkdirAll(filepath.Join(data, sub), 0o755)
		names, _ := os.ReadDir(filepath.Join(val, sub))
		for _, n := range names {
			b, _ := os.ReadFile(filepath.Join(val, sub, n.Name()))
			if sub == "images" && n.Name() == "0003.png" {
				b = b[:len(b)/2]
			}
			os.WriteFile(filepath.Join(data, sub, n.Name()), b, 0o644)
		}
	}
	b, _ := os.ReadFile(filepath.Join(val, "images", "0000.png"))
	os.WriteFile(filepath.Join(data, "images", "lonely.png"), b, 0o644)
	one, parts, merged := t.TempDir(), t.TempDir(), t.TempDir()
	if code, _, errOut := runCmd("eval", "--data", data, "--out", one, "-q"); code != exitFailure {
		t.Fatalf("one run: exit %d, want %d: %s", code, exitFailure, errOut)
	}
	for i := range 3 {
		runCmd("eval", "--data", data, "--out", parts, "-q", "--shard", strconv.Itoa(i)+"/3")
	}
	if code, _, errOut := runCmd("eval", "--merge", parts, "--out", merged); code != exitFailure {
		t.Fatalf("merge: exit %d, want %d: %s", code, exitFailure, errOut)
	}
	a, _ := os.ReadFile(filepath.Join(one, "eval.json"))
	m, _ := os.ReadFile(filepath.Join(merged, "eval.json"))
	if !bytes.Contains(a, []byte(`"failed": 2`)) || !bytes.Contains(a, []byte("lonely.png")) || !bytes.Contains(a, []byte("0003.png")) {
		t.Fatalf("one run's eval.json does not list the two failures:\n%s", a)
	}
	if !bytes.Equal(a, m) {
		t.Errorf("eval.json: the merge differs from one run:\n%s\n%s", a, m)
	}
}

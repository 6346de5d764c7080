package reliability

import (
	"encoding/json"
	"fmt"
	"image"
	_ "image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segment-dev/segment/tiffstack"
	"github.com/segment-dev/segment/weights"
)

// A tcase is one command line of the reliability suite and what must come of it.
type tcase struct {
	name string
	// args are the command line; "{fix}" stands for the fixture folder and "{dir}" for the
	// case's own folder, which is also its working folder.
	args []string
	// setup makes the case's own inputs in its folder (FIFOs, mounts, a damaged data set).
	setup func(t *testing.T, dir string)
	// code is the exit status: 0 success, 1 failure, 2 usage error.
	code int
	// names must all appear in the output: the file at fault, the flag at fault.
	names []string
	// want are files, relative to the case's folder, that must exist afterwards and be whole
	// (PNG and TIFF decode, model files load, JSON parses). After a failure or a usage error,
	// they are also the only new files allowed: anything else is a partial output.
	want []string
	// absent are files, relative to the case's folder, that must not exist afterwards.
	absent []string
	// limit is how long the command may run (default 20 s, on a busy 2-core machine).
	limit time.Duration
	// pending, when set, says which finding of issue 18 the expected behaviour waits for, and
	// on which branch: the case skips with it until that branch is merged (or runs all the
	// same when the environment sets SEGMENT_PENDING, to see which pass after a merge).
	pending string
	env     []string
	// term says when the command is sent SIGTERM (the zero value: never).
	term sigterm
}

// The suite's totals, reported at its end.
var tally struct {
	cases, ran, pending, panics, hangs, inputsChanged, partial atomic.Int64
}

func TestSuite(t *testing.T) {
	fix := fixtures(t)
	for _, n := range []*atomic.Int64{&tally.cases, &tally.ran, &tally.pending, &tally.panics, &tally.hangs, &tally.inputsChanged, &tally.partial} {
		n.Store(0) // TestSuiteCatches counts its stand-ins' misdeeds too
	}
	before, err := hashTree(fix)
	if err != nil {
		t.Fatal(err)
	}
	cs := cases()
	seen := map[string]bool{}
	for _, c := range cs {
		if seen[c.name] {
			t.Fatalf("two cases named %q", c.name)
		}
		seen[c.name] = true
	}
	start := time.Now()
	t.Cleanup(func() {
		after, err := hashTree(fix)
		if err != nil {
			t.Error(err)
		}
		if c := changed(before, after); len(c) > 0 {
			tally.inputsChanged.Add(int64(len(c)))
			t.Errorf("fixture files changed by the suite: %v", c)
		}
		t.Logf("reliability suite: %d cases, %d ran, %d pending, panics %d, hangs %d, inputs changed %d, partial files %d, %.1f s",
			tally.cases.Load(), tally.ran.Load(), tally.pending.Load(), tally.panics.Load(), tally.hangs.Load(),
			tally.inputsChanged.Load(), tally.partial.Load(), time.Since(start).Seconds())
	})
	if len(cs) < 150 {
		t.Errorf("the suite has %d cases; issue 18 asks for at least 150", len(cs))
	}
	for _, c := range cs {
		tally.cases.Add(1)
		t.Run(c.name, func(t *testing.T) {
			if c.pending != "" && os.Getenv("SEGMENT_PENDING") == "" {
				tally.pending.Add(1)
				t.Skip("pending (SEGMENT_PENDING=1 runs it): " + c.pending)
			}
			t.Parallel()
			runCase(t, fix, c)
		})
	}
}

func runCase(t *testing.T, fix string, c tcase) {
	t.Helper()
	for _, p := range checkCase(t, bin, fix, c) {
		t.Error(p)
	}
}

// checkCase runs one case with program and gives what went wrong, one line (and the
// command's output) each.
func checkCase(t *testing.T, program, fix string, c tcase) (problems []string) {
	dir := t.TempDir()
	expand := func(s string) string {
		return strings.NewReplacer("{fix}", fix, "{dir}", dir).Replace(s)
	}
	if c.setup != nil {
		c.setup(t, dir)
	}
	args := make([]string, len(c.args))
	for i, a := range c.args {
		args[i] = expand(a)
	}
	// Every input: the case's folder as set up, and every path the command line names.
	inputs := map[string]string{}
	hashInto := func(p string) {
		if fi, err := os.Lstat(p); err != nil || fi.Mode()&os.ModeSymlink != 0 {
			return
		}
		sums, err := hashTree(p)
		if err != nil {
			return
		}
		for k, v := range sums {
			inputs[k] = v
		}
	}
	hashInto(dir)
	for _, a := range args {
		if _, v, ok := strings.Cut(a, "="); ok && strings.HasPrefix(a, "-") {
			a = v
		}
		if filepath.IsAbs(a) || strings.Contains(a, string(filepath.Separator)) {
			hashInto(a)
		}
	}
	// busy/ is the folder of a run that a case's setup leaves running beside it (busyTrain):
	// its files change under the case, and are none of the case's inputs or outputs.
	busy := filepath.Join(dir, "busy") + string(filepath.Separator)
	for p := range inputs {
		if strings.HasPrefix(p, busy) {
			delete(inputs, p)
		}
	}
	filesBefore := listFiles(dir)
	limit := c.limit
	if limit == 0 {
		limit = 20 * time.Second
	}
	tally.ran.Add(1)
	r := runProgram(program, dir, c.env, limit, c.term, args...)
	report := func(format string, a ...any) {
		problems = append(problems, fmt.Sprintf("segment %s\n"+format+"\n--- output:\n%s", append([]any{strings.Join(args, " ")}, append(a, r.out)...)...))
	}
	if r.hung {
		tally.hangs.Add(1)
		report("still running after %v: killed", limit)
		return problems
	}
	if panicked(r.out) {
		tally.panics.Add(1)
		report("panicked")
	}
	if r.code != c.code {
		report("exit status %d, want %d", r.code, c.code)
	}
	for _, n := range c.names {
		if n = expand(n); !strings.Contains(r.out, n) {
			report("the message does not name %q", n)
		}
	}
	// Inputs.
	after := map[string]string{}
	for p := range inputs {
		if s, err := hashTree(p); err == nil {
			after[p] = s[p]
		}
	}
	if ch := changed(inputs, after); len(ch) > 0 {
		slices.Sort(ch)
		tally.inputsChanged.Add(int64(len(ch)))
		report("inputs changed or removed: %v", ch)
	}
	// Outputs: none partial, the wanted ones whole, after a failure nothing else new.
	filesAfter := listFiles(dir)
	var partial []string
	for f := range filesAfter {
		if strings.HasPrefix(f, "busy/") {
			continue
		}
		if isTemp(filepath.Base(f)) {
			partial = append(partial, f)
		} else if !filesBefore[f] && (r.code == 1 || r.code == 2) && !slices.Contains(c.want, f) {
			partial = append(partial, f)
		}
	}
	for _, f := range c.absent {
		if filesAfter[f] {
			partial = append(partial, f)
		}
	}
	if len(partial) > 0 {
		slices.Sort(partial)
		tally.partial.Add(int64(len(partial)))
		report("files left that should not be: %v", partial)
	}
	for _, f := range c.want {
		if err := whole(filepath.Join(dir, f)); err != nil {
			report("output %s: %v", f, err)
		}
	}
	return problems
}

// whole checks that an output file is there and complete: it decodes as what its name says.
func whole(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	switch ext := filepath.Ext(path); ext {
	case ".png", ".tif":
		if ext == ".tif" {
			return stackWhole(path)
		}
		_, _, err = image.Decode(strings.NewReader(string(b)))
		return err
	case ".safetensors":
		_, err = weights.ReadFile(path)
		return err
	case ".json":
		var v any
		return json.Unmarshal(b, &v)
	case ".csv", ".html", ".md", ".onnx":
		if len(b) == 0 {
			return os.ErrInvalid
		}
	}
	return nil
}

// stackWhole checks that every page of a TIFF file decodes.
func stackWhole(path string) error {
	s, err := tiffstack.Open(path, 0)
	if s != nil {
		defer s.Close()
	}
	if err != nil {
		return err
	}
	for i := range s.Len() {
		if _, err := s.Page(i); err != nil {
			return err
		}
	}
	return nil
}

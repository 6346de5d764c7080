package train

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// TestHooks attaches hooks to a two-epoch run and checks what they see and when: every
// event in its place, the position and the gradients at each, the epoch records, and the
// order of priorities against the built-in hooks (the CSV log writes at 70).
func TestHooks(t *testing.T) {
	dir := t.TempDir()
	o := tiny(t, filepath.Join(dir, "m.safetensors"))
	var events []string
	var problems []string
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	csvRows := func(l *Loop) int {
		b, err := os.ReadFile(l.Paths.CSV)
		if err != nil {
			return 0
		}
		return strings.Count(string(b), "\n") - 1
	}
	first := Hook{Name: "first", Priority: 65,
		Start: func(l *Loop) error { events = append(events, "start"); return nil },
		BeforeStep: func(l *Loop) error {
			if l.Steps() != l.Epoch*l.StepsPerEpoch+l.Step {
				fail("before step: %d steps done at epoch %d, step %d", l.Steps(), l.Epoch, l.Step)
			}
			events = append(events, "before")
			return nil
		},
		Gradients: func(l *Loop) error {
			for _, p := range l.Params {
				if len(p.G) != len(p.W) {
					fail("gradients: %s has %d gradients for %d weights", p.Name, len(p.G), len(p.W))
				}
			}
			if !(l.Loss > 0) || !(l.LR > 0) {
				fail("gradients: loss %v, learning rate %v", l.Loss, l.LR)
			}
			events = append(events, "grads")
			return nil
		},
		AfterStep: func(l *Loop) error {
			if l.Steps() != l.Epoch*l.StepsPerEpoch+l.Step+1 {
				fail("after step: %d steps done at epoch %d, step %d", l.Steps(), l.Epoch, l.Step)
			}
			events = append(events, "after")
			return nil
		},
		EndEpoch: func(l *Loop) error {
			h := l.History()
			if !reflect.DeepEqual(l.Record, h[len(h)-1]) || l.Record.Epoch != len(h) || l.Record.Steps != l.Steps() {
				fail("end of epoch: record %+v, history %d long, %d steps", l.Record, len(h), l.Steps())
			}
			if n := csvRows(l); n != l.Record.Epoch-1 {
				fail("priority 65 ran after the CSV log: %d rows at epoch %d", n, l.Record.Epoch)
			}
			events = append(events, fmt.Sprintf("epoch %d", l.Record.Epoch))
			return nil
		},
		End: func(l *Loop, err error) error {
			events = append(events, fmt.Sprintf("end %v", err))
			return nil
		},
	}
	second := Hook{Name: "second", Priority: 75, EndEpoch: func(l *Loop) error {
		if n := csvRows(l); n != l.Record.Epoch {
			fail("priority 75 ran before the CSV log: %d rows at epoch %d", n, l.Record.Epoch)
		}
		events = append(events, "second")
		return nil
	}}
	// Given in the wrong order on purpose: the priorities decide.
	o.Hooks = []Hook{second, first}
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
	var want []string
	want = append(want, "start")
	for e := 1; e <= 2; e++ {
		for range 20 {
			want = append(want, "before", "grads", "after")
		}
		want = append(want, fmt.Sprintf("epoch %d", e), "second")
	}
	want = append(want, "end <nil>")
	if strings.Join(events, ",") != strings.Join(want, ",") {
		t.Errorf("events\n%v\nwant\n%v", events, want)
	}
	if res.Steps != 40 || res.Epochs != 2 {
		t.Errorf("%d steps, %d epochs; want 40, 2", res.Steps, res.Epochs)
	}
}

// TestHookStops ends runs from a hook: ErrStop partway through an epoch finishes the run
// with that epoch scored, and any other error ends it with that error, passed to End.
func TestHookStops(t *testing.T) {
	dir := t.TempDir()
	o := tiny(t, filepath.Join(dir, "stop", "m.safetensors"))
	o.Hooks = []Hook{{BeforeStep: func(l *Loop) error {
		if l.Steps() == 13 {
			return ErrStop
		}
		return nil
	}}}
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Steps != 13 || res.Epochs != 1 || res.History[0].Steps != 13 {
		t.Errorf("stopped run: %d steps, %d epochs, history %+v; want 13 steps in one epoch", res.Steps, res.Epochs, res.History)
	}
	o.Resume = true
	if _, err := Run(context.Background(), o); err == nil || !strings.Contains(err.Error(), "already finished") {
		t.Errorf("resuming a run ended by ErrStop: %v, want it finished", err)
	}

	o = tiny(t, filepath.Join(dir, "fail", "m.safetensors"))
	boom := errors.New("boom")
	var ended error
	o.Hooks = []Hook{{
		AfterStep: func(l *Loop) error {
			if l.Steps() == 5 {
				return boom
			}
			return nil
		},
		End: func(l *Loop, err error) error { ended = err; return nil },
	}}
	if _, err := Run(context.Background(), o); err != boom || ended != boom {
		t.Errorf("a failing hook: Run gave %v and End saw %v, want %v for both", err, ended, boom)
	}
	if _, err := os.Stat(PathsFor(o.Out).State); !os.IsNotExist(err) {
		t.Errorf("a failed run wrote a checkpoint: %v", err)
	}
}

// TestLogLines checks the lines a run writes to Options.Log, in their format.
func TestLogLines(t *testing.T) {
	o := tiny(t, filepath.Join(t.TempDir(), "m.safetensors"))
	var log strings.Builder
	o.Log = &log
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(log.String(), "\n"), "\n")
	want := []string{
		`^training on .*sample_data: 40 train / 8 val images, binary: 0 = background, 255 = foreground; 20 steps of 2 per epoch, crops 32x32$`,
		`^model: \{"in_channels":1,"classes":1,"depth":2,"base_channels":4,"skip":"concat","norm":"batch","up":"transpose"\}, \d+ weights; loss bce\+dice, adam lr 0.003 \(cosine\)$`,
		`^epoch   1 +\d+s  loss \d\.\d{4}  val Dice \d\.\d{4}  IoU \d\.\d{4}  lr \d\.\d\de-0\d  \d+\.\d img/s(  \*best)?$`,
		`^epoch   2 +\d+s  loss \d\.\d{4}  val Dice \d\.\d{4}  IoU \d\.\d{4}  lr \d\.\d\de-0\d  \d+\.\d img/s(  \*best)?$`,
	}
	if len(lines) != len(want) {
		t.Fatalf("log:\n%s\nwant %d lines", log.String(), len(want))
	}
	for i, w := range want {
		if !regexp.MustCompile(w).MatchString(lines[i]) {
			t.Errorf("line %d: %q does not match %q", i+1, lines[i], w)
		}
	}
	if !strings.HasSuffix(lines[2], "  *best") {
		t.Errorf("the first epoch with a Dice is the best so far: %q", lines[2])
	}
}

package reliability

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSuiteCatches runs the suite's checks on stand-in programs that misbehave in each way
// the suite looks for, and on one that behaves: a check that cannot fail would pass them all.
func TestSuiteCatches(t *testing.T) {
	fix := fixtures(t)
	for _, c := range []struct {
		name, script string
		c            tcase
		want         string // in the problems; "" for none
	}{
		{"behaves", "echo wrote in.png; exit 1", tcase{code: 1, names: a("in.png")}, ""},
		{"panics", "echo 'panic: boom'; echo 'goroutine 1 [running]:'; exit 2", tcase{code: 2}, "panicked"},
		{"hangs", "sleep 30", tcase{code: 0, limit: time.Second}, "still running"},
		{"exit status", "exit 0", tcase{code: 1}, "exit status 0, want 1"},
		{"names nothing", "echo failed; exit 1", tcase{code: 1, names: a("in.png")}, `does not name "in.png"`},
		{"changes its input", "echo x >> in.png", tcase{code: 0, args: a("in.png"), setup: files("img/good.png", "in.png")}, "inputs changed"},
		{"changes a fixture", "echo x >> \"$1\"", tcase{code: 0, args: a("{fix}/img/good.png")}, "inputs changed"},
		{"removes its input", "rm in.png", tcase{code: 0, setup: files("img/good.png", "in.png")}, "inputs changed"},
		{"leaves a temporary file", "touch .out.png.tmp-123", tcase{code: 0}, "files left"},
		{"leaves output of a failure", "touch in_mask.png; exit 1", tcase{code: 1}, "files left"},
		{"writes what is absent", "touch a.png", tcase{code: 0, absent: a("a.png")}, "files left"},
		{"writes a broken output", "echo notpng > out.png", tcase{code: 0, want: a("out.png")}, "output out.png"},
		{"ignores SIGTERM", "trap '' TERM; sleep 3", tcase{code: 0, term: sigterm{after: 100 * time.Millisecond}, limit: time.Second}, "still running"},
		{"ends on SIGTERM", "trap 'exit 130' TERM; while :; do sleep 0.05; done", tcase{code: 130, term: sigterm{after: 100 * time.Millisecond}, limit: 2 * time.Second}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			prog := filepath.Join(t.TempDir(), "fake")
			if err := os.WriteFile(prog, []byte("#!/bin/sh\n"+c.script+"\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			if c.name == "changes a fixture" {
				good := filepath.Join(fix, "img/good.png")
				orig, err := os.ReadFile(good)
				if err != nil {
					t.Fatal(err)
				}
				defer os.WriteFile(good, orig, 0o644) // for the tests after this one
			}
			problems := strings.Join(checkCase(t, prog, fix, c.c), "\n")
			switch {
			case c.want == "" && problems != "":
				t.Errorf("a well-behaved program: the suite reports\n%s", problems)
			case c.want != "" && !strings.Contains(problems, c.want):
				t.Errorf("a program that %s: the suite reports %q, want %q", c.name, problems, c.want)
			}
		})
	}
}

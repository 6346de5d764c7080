// Command skips runs the tests and ends their log with every test that skipped and the reason
// it gave, so that a skip which hides a missing tool or a failure shows in CI's log instead of
// vanishing into "ok". It runs `go test -json` with the arguments given, prints what plain
// `go test` prints (each package's result line, the output of every test that failed, build
// errors), then the list. Its exit status is go test's, so failures fail CI as before.
//
// Usage, from the module root:
//
//	go run ./internal/skips [go test flags] [packages]
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json's TestEvent, the fields used here).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

// skip is one skipped test and what it printed as its reason.
type skip struct {
	pkg, test, reason string
}

func main() {
	cmd := exec.Command("go", append([]string{"test", "-json"}, os.Args[1:]...)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		fmt.Fprintf(os.Stderr, "skips: %v\n", err)
		os.Exit(1)
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "skips: %v\n", err)
		os.Exit(1)
	}
	skips, n, rerr := filter(out, os.Stdout)
	werr := cmd.Wait()
	list(os.Stdout, skips)
	// The plain closing line that CI's log reader knows, for a log where more follows.
	fmt.Printf("tests: %d passed, %d failed, %d skipped\n", n.passed, n.failed, len(skips))
	if rerr != nil {
		fmt.Fprintf(os.Stderr, "skips: reading go test's output: %v\n", rerr)
		os.Exit(1)
	}
	if werr != nil {
		var ee *exec.ExitError
		if errors.As(werr, &ee) {
			os.Exit(ee.ExitCode())
		}
		fmt.Fprintf(os.Stderr, "skips: %v\n", werr)
		os.Exit(1)
	}
}

// counts are the tests (subtests included) that passed and failed.
type counts struct{ passed, failed int }

// filter reads go test's JSON events from r and writes to w what plain go test would show:
// package lines and build output as they come, and a test's own output only when it fails.
// It gives the skipped tests in the order they finished, and how many passed and failed.
func filter(r io.Reader, w io.Writer) ([]skip, counts, error) {
	var (
		skips []skip
		n     counts
	)
	held := map[string][]string{} // a running test's output, by package and name
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			fmt.Fprintf(w, "%s\n", line) // not an event: pass it on unchanged
			continue
		}
		key := e.Package + "\x00" + e.Test
		switch {
		case e.Action == "build-output":
			fmt.Fprint(w, e.Output)
		case e.Test == "":
			// Plain go test shows a passing package as its "ok" line only.
			if e.Action == "output" && e.Output != "PASS\n" {
				fmt.Fprint(w, e.Output)
			}
		case e.Action == "output":
			if !strings.HasPrefix(e.Output, "=== ") {
				held[key] = append(held[key], e.Output)
			}
		case e.Action == "fail":
			n.failed++
			fmt.Fprint(w, strings.Join(held[key], ""))
			delete(held, key)
		case e.Action == "skip":
			skips = append(skips, skip{e.Package, e.Test, reason(held[key])})
			delete(held, key)
		case e.Action == "pass":
			n.passed++
			delete(held, key)
		}
	}
	return skips, n, sc.Err()
}

// reason gives a skipped test's message: its output less the "--- SKIP" line and the
// file:line prefix, on one line.
func reason(out []string) string {
	var parts []string
	for _, o := range out {
		for l := range strings.SplitSeq(o, "\n") {
			l = strings.TrimSpace(l)
			if l == "" || strings.HasPrefix(l, "--- SKIP") {
				continue
			}
			if i := strings.Index(l, ".go:"); i > 0 && !strings.Contains(l[:i], " ") {
				if j := strings.Index(l[i:], ": "); j > 0 {
					l = l[i+j+2:]
				}
			}
			parts = append(parts, l)
		}
	}
	if len(parts) == 0 {
		return "(no reason given)"
	}
	return strings.Join(parts, " / ")
}

// list prints the skipped tests, one a line.
func list(w io.Writer, skips []skip) {
	fmt.Fprintf(w, "\n%d skipped tests:\n", len(skips))
	for _, s := range skips {
		fmt.Fprintf(w, "SKIP %s %s: %s\n", s.pkg, s.test, s.reason)
	}
}

// Command mutate checks that the tests catch the bugs that matter. It reads a list of
// mutations (mutations.txt beside this file: a realistic bug each, as a piece of source text
// and what it becomes), applies each in turn to a scratch copy of the module, runs the tests
// the entry names, and reports whether a test failed (caught) or all passed (missed).
//
// Usage, from the module root:
//
//	go run ./internal/mutate [-list FILE] [-only REGEXP] [-timeout 5m]
//
// Exit status 0 when every mutation is caught; 1 when one is missed, no longer applies
// (its text is gone or appears more than once: the list has gone stale) or stops the
// package from compiling (a mutation must be a bug, not a syntax error); 2 for a usage error.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"text/tabwriter"
	"time"
)

// mutation is one entry of the list.
type mutation struct {
	name     string // short identifier
	what     string // the bug, in words
	file     string // path relative to the module root
	from, to string // the source text and what it becomes; from must occur exactly once
	pkg      string // the package whose tests must catch it, e.g. ./train
	run      string // the -run pattern for those tests; empty runs them all
	line     int    // where the entry starts in the list, for messages
}

// outcome is what running one mutation gave.
type outcome struct {
	m      mutation
	result string // caught, MISSED, stale, no build
	detail string // the first failing test, or why it could not run
	took   time.Duration
}

func main() {
	list := flag.String("list", "internal/mutate/mutations.txt", "the mutation list")
	only := flag.String("only", "", "run only the mutations whose name matches this regular expression")
	timeout := flag.Duration("timeout", 5*time.Minute, "the longest one mutation's tests may run")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: go run ./internal/mutate [-list FILE] [-only REGEXP] [-timeout D]")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	var filter *regexp.Regexp
	if *only != "" {
		var err error
		if filter, err = regexp.Compile(*only); err != nil {
			fmt.Fprintf(os.Stderr, "mutate: -only: %v\n", err)
			os.Exit(2)
		}
	}
	ms, err := readList(*list)
	if err != nil {
		fmt.Fprintf(os.Stderr, "mutate: %v\n", err)
		os.Exit(1)
	}
	if filter != nil {
		var keep []mutation
		for _, m := range ms {
			if filter.MatchString(m.name) {
				keep = append(keep, m)
			}
		}
		ms = keep
	}
	outs, err := runAll(ms, *timeout, os.Stderr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "mutate: %v\n", err)
		os.Exit(1)
	}
	if !report(os.Stdout, outs) {
		os.Exit(1)
	}
}

// readList parses the list: entries separated by blank lines, each a set of "key: value"
// lines (name, what, file, from, to, test, run); lines starting with # are comments. In
// from and to, \n stands for a line break and \t for a tab.
func readList(path string) ([]mutation, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var (
		ms    []mutation
		cur   map[string]string
		start int
		names = map[string]int{}
	)
	flush := func() error {
		if cur == nil {
			return nil
		}
		m := mutation{name: cur["name"], what: cur["what"], file: cur["file"], from: unescape(cur["from"]),
			to: unescape(cur["to"]), pkg: cur["test"], run: cur["run"], line: start}
		for _, k := range []string{"name", "what", "file", "from", "test"} {
			if cur[k] == "" {
				return fmt.Errorf("%s:%d: entry lacks %q", path, start, k)
			}
		}
		if _, ok := cur["to"]; !ok {
			return fmt.Errorf("%s:%d: entry lacks \"to\"", path, start)
		}
		if m.from == m.to {
			return fmt.Errorf("%s:%d: %s changes nothing", path, start, m.name)
		}
		if l, dup := names[m.name]; dup {
			return fmt.Errorf("%s:%d: name %s is used already at line %d", path, start, m.name, l)
		}
		names[m.name] = start
		ms = append(ms, m)
		cur = nil
		return nil
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case strings.TrimSpace(line) == "":
			if err := flush(); err != nil {
				return nil, err
			}
		case strings.HasPrefix(line, "#"):
		default:
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				return nil, fmt.Errorf("%s:%d: want \"key: value\", got %q", path, n, line)
			}
			k = strings.TrimSpace(k)
			switch k {
			case "name", "what", "file", "from", "to", "test", "run":
			default:
				return nil, fmt.Errorf("%s:%d: unknown key %q", path, n, k)
			}
			if cur == nil {
				cur, start = map[string]string{}, n
			}
			if _, dup := cur[k]; dup {
				return nil, fmt.Errorf("%s:%d: %q given twice in one entry", path, n, k)
			}
			cur[k] = strings.TrimPrefix(v, " ")
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("%s: no mutations", path)
	}
	return ms, nil
}

func unescape(s string) string {
	return strings.NewReplacer(`\n`, "\n", `\t`, "\t").Replace(s)
}

// runAll copies the module once and runs every mutation in the copy, restoring each file
// after its run.
func runAll(ms []mutation, timeout time.Duration, log io.Writer) ([]outcome, error) {
	root, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		return nil, errors.New("run it from the module root (no go.mod here)")
	}
	scratch, err := os.MkdirTemp("", "segment-mutate-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(scratch)
	if err := copyTracked(root, scratch); err != nil {
		return nil, err
	}
	// Tests find ../shared beside the module; the copy has none, so point them at it.
	env := os.Environ()
	if s := filepath.Join(filepath.Dir(root), "shared"); isDir(s) && os.Getenv("SEGMENT_SHARED") == "" {
		env = append(env, "SEGMENT_SHARED="+s)
	}
	var outs []outcome
	for i, m := range ms {
		fmt.Fprintf(log, "mutate: %d/%d %s (%s)\n", i+1, len(ms), m.name, m.file)
		outs = append(outs, runOne(scratch, m, env, timeout))
	}
	return outs, nil
}

func runOne(dir string, m mutation, env []string, timeout time.Duration) outcome {
	o := outcome{m: m}
	path := filepath.Join(dir, m.file)
	orig, err := os.ReadFile(path)
	if err != nil {
		o.result, o.detail = "stale", fmt.Sprintf("%s: %v", m.file, err)
		return o
	}
	switch n := bytes.Count(orig, []byte(m.from)); n {
	case 1:
	case 0:
		o.result, o.detail = "stale", "the text to mutate is not in the file any more"
		return o
	default:
		o.result, o.detail = "stale", fmt.Sprintf("the text to mutate occurs %d times; make it unique", n)
		return o
	}
	mutated := bytes.Replace(orig, []byte(m.from), []byte(m.to), 1)
	if err := os.WriteFile(path, mutated, 0o644); err != nil {
		o.result, o.detail = "stale", err.Error()
		return o
	}
	defer os.WriteFile(path, orig, 0o644)

	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	// vet-free, uncached: the point is whether a test fails.
	args := []string{"test", "-count=1", "-vet=off", m.pkg}
	if m.run != "" {
		args = append(args, "-run", m.run)
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	o.took = time.Since(start)
	switch {
	case ctx.Err() != nil:
		// A hang is a caught bug only if the tests are meant to time out; say it plainly.
		o.result, o.detail = "caught", fmt.Sprintf("the tests ran past %s", timeout)
	case err == nil:
		o.result = "MISSED"
		if bytes.Contains(out, []byte("no tests to run")) {
			o.detail = "no test matched -run " + m.run
		}
	case bytes.Contains(out, []byte("[build failed]")) || bytes.Contains(out, []byte("[setup failed]")):
		o.result, o.detail = "no build", firstLine(out, func(l string) bool { return strings.Contains(l, ".go:") })
	default:
		o.result = "caught"
		o.detail = firstLine(out, func(l string) bool {
			return strings.HasPrefix(strings.TrimSpace(l), "--- FAIL") || strings.HasPrefix(l, "panic:")
		})
	}
	return o
}

// firstLine gives the first line of out that ok accepts, trimmed, or "".
func firstLine(out []byte, ok func(string) bool) string {
	for l := range strings.SplitSeq(string(out), "\n") {
		if ok(l) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

// report prints the table and the totals, and reports whether every mutation was caught.
func report(w io.Writer, outs []outcome) bool {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "mutation\tfile\tresult\ttime\tbug / first failure")
	counts := map[string]int{}
	for _, o := range outs {
		counts[o.result]++
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.1fs\t%s\n", o.m.name, o.m.file, o.result, o.took.Seconds(), o.m.what)
		if o.detail != "" {
			fmt.Fprintf(tw, "\t\t\t\t  %s\n", o.detail)
		}
	}
	tw.Flush()
	fmt.Fprintf(w, "%d mutations: %d caught, %d missed, %d stale, %d not building\n",
		len(outs), counts["caught"], counts["MISSED"], counts["stale"], counts["no build"])
	return counts["caught"] == len(outs)
}

// copyTracked copies the files git tracks, and those it would track (untracked, not
// ignored), from root into dst.
func copyTracked(root, dst string) error {
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("git ls-files: %v", err)
	}
	for name := range strings.SplitSeq(strings.TrimRight(string(out), "\x00"), "\x00") {
		src := filepath.Join(root, name)
		fi, err := os.Lstat(src)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue // deleted in the work tree, not yet in the index
			}
			return err
		}
		if !fi.Mode().IsRegular() {
			continue
		}
		b, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		p := filepath.Join(dst, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, b, fi.Mode().Perm()); err != nil {
			return err
		}
	}
	return nil
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

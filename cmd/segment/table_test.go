package main

import (
	"runtime"
	"strings"
	"testing"
)

// TestCommandTable checks that the table names each command once and that help lists them
// in the table's order, each with its one-line summary.
func TestCommandTable(t *testing.T) {
	_, out, _ := runCmd("help")
	seen := map[string]bool{}
	at := 0
	for _, c := range commands {
		if seen[c.name] {
			t.Errorf("command %q is in the table twice", c.name)
		}
		seen[c.name] = true
		line := "\t" + c.name + strings.Repeat(" ", max(1, 11-len(c.name))) + c.short + "\n"
		i := strings.Index(out[at:], line)
		if i < 0 {
			t.Errorf("help lacks %q after the previous command:\n%s", line, out)
			continue
		}
		at += i + len(line)
	}
}

// TestVersion checks that "segment version" and its flag spellings print the same line.
func TestVersion(t *testing.T) {
	_, want, _ := runCmd("version")
	if !strings.HasPrefix(want, "segment ") || strings.Count(want, "\n") != 1 || !strings.HasSuffix(want, ", "+runtime.Version()+"\n") {
		t.Fatalf("segment version printed %q, want one line starting with \"segment \" and ending with the Go version %s", want, runtime.Version())
	}
	for _, arg := range []string{"-version", "--version"} {
		code, out, errOut := runCmd(arg)
		if code != exitOK || out != want || errOut != "" {
			t.Errorf("segment %s: exit %d, stdout %q, stderr %q; want exit 0 and %q", arg, code, out, errOut, want)
		}
	}
}

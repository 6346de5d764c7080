package main

import (
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// versionCommand is segment version.
func versionCommand() *command {
	return &command{
		name:  "version",
		args:  "",
		short: "print the version",
		long: `
Version prints the module version the binary was built from ("devel" for a build
from a work tree), the commit when the build recorded one (with "-dirty" when
the work tree had changes) and the Go version that built it. "segment
--version" does the same.`,
		flags: func(fs *flag.FlagSet) func(*flag.FlagSet, io.Writer, io.Writer) error {
			return func(fs *flag.FlagSet, out, _ io.Writer) error {
				if fs.NArg() > 0 {
					return usagef("unexpected arguments %q", fs.Args())
				}
				fmt.Fprintln(out, "segment", version())
				return nil
			}
		},
	}
}

// version reports the module version the binary was built from ("devel" for a build from
// a work tree), the VCS commit when the build recorded one ("-dirty" when the tree had
// changes), and the Go version that built it, all from the build info.
func version() string {
	v, goVersion := "devel", runtime.Version()
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return v + ", " + goVersion
	}
	if mv := info.Main.Version; mv != "" && mv != "(devel)" {
		v = mv
	}
	if info.GoVersion != "" {
		goVersion = info.GoVersion
	}
	commit, dirty := "", ""
	for _, s := range info.Settings {
		switch {
		case s.Key == "vcs.revision":
			commit = s.Value[:min(12, len(s.Value))]
		case s.Key == "vcs.modified" && s.Value == "true":
			dirty = "-dirty"
		}
	}
	if commit != "" {
		v += ", commit " + commit + dirty
	}
	return v + ", " + goVersion
}

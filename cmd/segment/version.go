package main

import (
	"flag"
	"fmt"
	"io"
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
from a work tree) and the VCS revision when the build recorded one. "segment
--version" does the same.`,
		flags: func(fs *flag.FlagSet) func(*flag.FlagSet, io.Writer, io.Writer) error {
			return func(_ *flag.FlagSet, out, _ io.Writer) error {
				fmt.Fprintln(out, "segment", version())
				return nil
			}
		},
	}
}

// version reports the module version the binary was built from, or "devel" for a build
// from a work tree, with the VCS revision when the build recorded one.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	v := info.Main.Version
	if v == "" || v == "(devel)" {
		v = "devel"
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " " + s.Value[:12]
		}
	}
	return v
}

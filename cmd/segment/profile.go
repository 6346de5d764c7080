package main

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"
)

// profileEnv names the file that receives a CPU profile of the whole command, for finding
// where a training or a prediction spends its time (go tool pprof FILE). An environment
// variable rather than a flag, so that every command has it without its help text growing.
const profileEnv = "SEGMENT_CPUPROFILE"

// startProfile starts the CPU profile that SEGMENT_CPUPROFILE asks for, and returns the
// function that ends it; both are no-ops when the variable is unset.
func startProfile(errOut io.Writer) (stop func()) {
	path := os.Getenv(profileEnv)
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(errOut, "segment: %s: %v\n", profileEnv, err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintf(errOut, "segment: %s: %s: %v\n", profileEnv, path, err)
		f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			fmt.Fprintf(errOut, "segment: %s: %s: %v\n", profileEnv, path, err)
		}
	}
}

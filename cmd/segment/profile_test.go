package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestProfile: SEGMENT_CPUPROFILE writes a gzipped pprof profile, and a path that cannot
// be made says so once and runs the command unprofiled.
func TestProfile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cpu.pprof")
	t.Setenv(profileEnv, path)
	var errOut bytes.Buffer
	stop := startProfile(&errOut)
	stop()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b || errOut.Len() > 0 {
		t.Fatalf("the profile is %d bytes, not gzip; said %q", len(b), errOut.String())
	}
	t.Setenv(profileEnv, filepath.Join(t.TempDir(), "no", "such", "dir", "cpu.pprof"))
	errOut.Reset()
	startProfile(&errOut)()
	if !strings.Contains(errOut.String(), profileEnv) || !strings.Contains(errOut.String(), "no such file") {
		t.Errorf("a profile path in a missing folder gave %q", errOut.String())
	}
}

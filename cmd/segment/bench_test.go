package main

import (
	"encoding/json"
	"testing"

	"github.com/segment-dev/segment/bench"
)

func TestParseShapes(t *testing.T) {
	got, err := parseShapes("16,128,4; 32,256,2")
	if err != nil || len(got) != 2 || got[1] != (bench.Shape{Base: 32, Size: 256, Batch: 2}) {
		t.Errorf("parseShapes gave %v, %v", got, err)
	}
	for _, bad := range []string{"16,128", "a,b,c", "16,128,0", ""} {
		if _, err := parseShapes(bad); err == nil {
			t.Errorf("parseShapes(%q) accepted", bad)
		}
	}
}

// TestBenchOne runs the per-configuration measurement the parent process execs, in process,
// on a tiny shape, and reads its JSON back.
func TestBenchOne(t *testing.T) {
	code, out, errOut := runCmd("bench", "-one", "4,32,1", "-steps", "1")
	if code != exitOK {
		t.Fatalf("bench -one: exit %d, %s", code, errOut)
	}
	var r bench.Result
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("bench -one printed %q: %v", out, err)
	}
	if r.Base != 4 || r.Size != 32 || !(r.TrainMS > 0) || !(r.InferMS > 0) {
		t.Errorf("bench -one gave %+v", r)
	}
	if code, _, _ := runCmd("bench", "-config", "16,128"); code != exitUsage {
		t.Errorf("a malformed --config exited %d, want %d", code, exitUsage)
	}
}

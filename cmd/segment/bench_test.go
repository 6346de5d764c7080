package main

import (
	"encoding/json"
	"testing"

	"github.com/segment-dev/segment/bench"
)

func TestParseShapes(t *testing.T) {
	got, err := parseShapes("16,128,4; 32,256,2;16,192,4,3,11")
	if err != nil || len(got) != 3 || got[1] != (bench.Shape{Base: 32, Size: 256, Batch: 2}) ||
		got[2] != (bench.Shape{Base: 16, Size: 192, Batch: 4, Channels: 3, Classes: 11}) {
		t.Errorf("parseShapes gave %v, %v", got, err)
	}
	for _, s := range got {
		if back, err := parseShapes(s.String()); err != nil || back[0] != s {
			t.Errorf("%+v written as %q reads back as %v, %v", s, s.String(), back, err)
		}
	}
	for _, bad := range []string{"16,128", "a,b,c", "16,128,0", "", "16,192,4,3", "16,192,4,3,0"} {
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
	// A multi-class configuration times the multi-class default loss on RGB inputs.
	code, out, errOut = runCmd("bench", "-one", "4,32,2,3,5", "-steps", "1")
	if code != exitOK {
		t.Fatalf("bench -one 4,32,2,3,5: exit %d, %s", code, errOut)
	}
	r = bench.Result{}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("bench -one printed %q: %v", out, err)
	}
	if r.Channels != 3 || r.Classes != 5 || r.Loss != "ce+dice" || !(r.TrainMS > 0) {
		t.Errorf("bench -one 4,32,2,3,5 gave %+v", r)
	}
	if code, _, _ := runCmd("bench", "-config", "16,128"); code != exitUsage {
		t.Errorf("a malformed --config exited %d, want %d", code, exitUsage)
	}
}

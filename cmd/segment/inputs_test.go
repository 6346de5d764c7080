package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runWithin runs segment with args, failing the test when it does not end within limit: a
// read that blocks.
func runWithin(t *testing.T, limit time.Duration, args ...string) (int, string, string) {
	t.Helper()
	type result struct {
		code        int
		out, errOut string
	}
	done := make(chan result, 1)
	go func() { c, o, e := runCmd(args...); done <- result{c, o, e} }()
	select {
	case r := <-done:
		noStackTrace(t, args, r.errOut)
		return r.code, r.out, r.errOut
	case <-time.After(limit):
		t.Fatalf("segment %v did not end within %v", args, limit)
	}
	return 0, "", ""
}

// copySampleVal copies the sample data's val split (8 pairs of 128x128 gray PNGs) to dir.
func copySampleVal(t *testing.T, dir string) {
	t.Helper()
	if err := os.CopyFS(dir, os.DirFS("../../sample_data/val")); err != nil {
		t.Fatal(err)
	}
}

// A named pipe given as an image, a model, a mask or a data set's file is refused by its type
// before it is opened (issue 18, finding 6): each command ends at once with exit status 1
// and a message naming it, where it used to block forever.
func TestSpecialInputsRefused(t *testing.T) {
	dir := t.TempDir()
	fifo := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Mkfifo(p, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	img := filepath.Join(dir, "one.png")
	src, err := os.ReadFile("../../sample_data/val/images/0000.png")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(img, src, 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	copySampleVal(t, data)
	if err := os.Remove(filepath.Join(data, "masks/0003.png")); err != nil {
		t.Fatal(err)
	}
	folder := filepath.Join(dir, "folder")
	if err := os.MkdirAll(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(folder, "good.png"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	loop := filepath.Join(dir, "loop.png")
	if err := os.Symlink(loop, loop); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		args  []string
		names string // the file the message must name
	}{
		{"predict image", []string{"predict", fifo("f.png"), "--out", filepath.Join(dir, "out1"), "-q"}, filepath.Join(dir, "f.png")},
		{"predict folder", []string{"predict", folder, "--out", filepath.Join(dir, "out2"), "-q"}, fifo("folder/pipe.png")},
		{"predict stack", []string{"predict", fifo("s.tif"), "--out", filepath.Join(dir, "out3"), "-q"}, filepath.Join(dir, "s.tif")},
		{"predict model", []string{"predict", "--model", fifo("m.safetensors"), img, "--out", filepath.Join(dir, "out4"), "-q"}, filepath.Join(dir, "m.safetensors")},
		{"predict link loop", []string{"predict", loop, "--out", filepath.Join(dir, "out5"), "-q"}, loop},
		{"inspect", []string{"inspect", filepath.Join(dir, "m.safetensors")}, filepath.Join(dir, "m.safetensors")},
		{"inspect onnx", []string{"inspect", fifo("m.onnx")}, filepath.Join(dir, "m.onnx")},
		{"export", []string{"export", filepath.Join(dir, "m.safetensors"), "--onnx", filepath.Join(dir, "m2.onnx")}, filepath.Join(dir, "m.safetensors")},
		{"doctor mask", []string{"doctor", data}, fifo("data/masks/0003.png")},
		{"eval pred", []string{"eval", "--pred", fifo("pred.png"), "--gt", filepath.Join(data, "masks/0000.png"), "--out", filepath.Join(dir, "e1"), "-q"}, filepath.Join(dir, "pred.png")},
		{"predict shard", []string{"predict", fifo("g.png"), img, "--shard", "0/1", "--out", filepath.Join(dir, "out6"), "-q"}, filepath.Join(dir, "g.png")},
		{"eval merge", []string{"eval", "--merge", fifo("eval.shard-0-of-1.json"), "--out", filepath.Join(dir, "e3")}, filepath.Join(dir, "eval.shard-0-of-1.json")},
		{"eval data", []string{"eval", "--data", data, "--out", filepath.Join(dir, "e2"), "-q"}, filepath.Join(data, "masks/0003.png")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := runWithin(t, 30*time.Second, c.args...)
			if code != exitFailure || !strings.Contains(out+errOut, c.names) { // doctor lists problems on stdout
				t.Errorf("segment %v: exit %d, stderr %q; want exit 1 naming %s", c.args, code, errOut, c.names)
			}
		})
	}
}

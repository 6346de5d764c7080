package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/segment-dev/segment/internal/samplemodel"
	"github.com/segment-dev/segment/weights"
)

// sampleModelFile writes the embedded sample model to a file, for commands that read one.
func sampleModelFile(t *testing.T, dir string) string {
	t.Helper()
	m, meta, err := samplemodel.Load()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "sample.safetensors")
	if err := weights.Save(path, m, meta); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestExportAndInspect exports the sample model and inspects the result: the opset, the
// symbolic dims and the metadata a deployment reads.
func TestExportAndInspect(t *testing.T) {
	dir := t.TempDir()
	model := sampleModelFile(t, dir)
	out := filepath.Join(dir, "sample.onnx")
	if code, _, errOut := runCmd("export", model, "--onnx", out); code != exitOK {
		t.Fatalf("export: exit %d: %s", code, errOut)
	}
	code, text, errOut := runCmd("inspect", out)
	if code != exitOK {
		t.Fatalf("inspect: exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		out, "opset ai.onnx 17",
		"input image: float32 [batch, 1, height, width]",
		"output logits: float32 [batch, 1, height, width]",
		"output probabilities: float32 [batch, 1, height, width]",
		"multiples of 2^depth = 8",
		"mask_values: [0,255]", `class_names: ["background","foreground"]`,
		`config: {"in_channels":1,"classes":1,"depth":3,"base_channels":8`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, text)
		}
	}
	if code, _, errOut := runCmd("export", model, "--onnx", out, "--input-name", "x"); code != exitOK {
		t.Fatalf("export --input-name x: exit %d: %s", code, errOut)
	}
	if _, text, _ := runCmd("inspect", out); !strings.Contains(text, "input x: float32") {
		t.Errorf("--input-name x: inspect says\n%s", text)
	}
}

// TestExportBadInput checks that each mistake gives one error naming the file, exit status
// 1 or 2 without a stack trace, and leaves no file at the output path.
func TestExportBadInput(t *testing.T) {
	dir := t.TempDir()
	model := sampleModelFile(t, dir)
	data, err := os.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	damaged := filepath.Join(dir, "damaged.safetensors")
	if err := os.WriteFile(damaged, data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.onnx")
	truncated := filepath.Join(dir, "truncated.onnx")
	if code, _, errOut := runCmd("export", model, "--onnx", truncated); code != exitOK {
		t.Fatalf("export: exit %d: %s", code, errOut)
	}
	onnxData, err := os.ReadFile(truncated)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(truncated, onnxData[:len(onnxData)*2/3], 0o644); err != nil {
		t.Fatal(err)
	}
	missingDir := filepath.Join(dir, "no-such-folder", "out.onnx")
	cases := []struct {
		args   []string
		code   int
		names  string // the file the error must name
		noFile string // a path that must not exist afterwards
	}{
		{[]string{"export", damaged, "--onnx", out}, exitFailure, damaged, out},
		{[]string{"export", filepath.Join(dir, "absent.safetensors"), "--onnx", out}, exitFailure, "absent.safetensors", out},
		{[]string{"export", model, "--onnx", missingDir}, exitFailure, missingDir, missingDir},
		{[]string{"export", model}, exitUsage, "--onnx", out},
		{[]string{"export", model, "--onnx", model}, exitUsage, "model file itself", ""},
		{[]string{"inspect", truncated}, exitFailure, truncated, ""},
	}
	for _, c := range cases {
		code, _, errOut := runCmd(c.args...)
		if code != c.code || !strings.Contains(errOut, c.names) || strings.Contains(errOut, "goroutine") {
			t.Errorf("segment %s: exit %d, stderr %q; want exit %d and an error naming %s", strings.Join(c.args, " "), code, errOut, c.code, c.names)
		}
		if c.noFile != "" {
			if _, err := os.Stat(c.noFile); !os.IsNotExist(err) {
				t.Errorf("segment %s left a file at %s", strings.Join(c.args, " "), c.noFile)
			}
		}
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".") || strings.Contains(e.Name(), ".tmp") {
				t.Errorf("segment %s left a temporary file %s", strings.Join(c.args, " "), e.Name())
			}
		}
	}
	if after, err := os.ReadFile(model); err != nil || !bytes.Equal(after, data) {
		t.Errorf("the model file changed (%v)", err)
	}
}

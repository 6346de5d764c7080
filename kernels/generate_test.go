package kernels

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestAssemblyIsGenerated runs the avo generator (internal/gen, a module of its own) into a
// temporary folder and requires its output to equal the committed sgemm_amd64.s and
// stubs_amd64.go byte for byte: hand edits to the assembly, or a generator change whose
// output was not regenerated, would otherwise go unnoticed. It needs the go command and the
// module proxy (for avo), so it skips in -short runs and where go is not on PATH.
func TestAssemblyIsGenerated(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the generator")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	dir := t.TempDir()
	s, stubs := filepath.Join(dir, "sgemm_amd64.s"), filepath.Join(dir, "stubs_amd64.go")
	cmd := exec.Command(gobin, "-C", "internal/gen", "run", ".", "-out", s, "-stubs", stubs, "-pkg", "kernels")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("running the generator: %v\n%s", err, out)
	}
	for _, f := range []struct{ got, committed string }{{s, "sgemm_amd64.s"}, {stubs, "stubs_amd64.go"}} {
		got, err := os.ReadFile(f.got)
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(f.committed)
		if err != nil {
			t.Fatal(err)
		}
		// The first line names the command, output paths included.
		if !bytes.Equal(afterFirstLine(got), afterFirstLine(want)) {
			t.Errorf("%s differs from what internal/gen generates: run go generate ./kernels", f.committed)
		}
	}
}

func afterFirstLine(b []byte) []byte {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[i+1:]
	}
	return b
}

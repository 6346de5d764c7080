package onnx

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"testing"
)

var update = flag.Bool("update", false, "rewrite onnx.pb.go from onnx.proto (go generate runs this)")

// debianProto is where Debian's python3-onnx puts onnx.proto; ONNX_PROTO overrides it.
const debianProto = "/usr/lib/python3/dist-packages/onnx/onnx.proto"

// protocLine is the generated header's line naming protoc's version, which says nothing
// about the generated code and differs between machines.
var protocLine = regexp.MustCompile(`(?m)^// \tprotoc +v.*\n`)

// TestSchemaIsCurrent generates the Go code of onnx.proto again, with protoc and the
// protoc-gen-go of the protobuf module in go.mod, and checks that onnx.pb.go is exactly that
// (apart from the line naming protoc's version); with -update it rewrites onnx.pb.go.
func TestSchemaIsCurrent(t *testing.T) {
	protoc, err := exec.LookPath("protoc")
	if err != nil {
		t.Skip("skipped: protoc is not installed (Debian: apt-get install protobuf-compiler)")
	}
	src := os.Getenv("ONNX_PROTO")
	if src == "" {
		src = debianProto
	}
	if _, err := os.Stat(src); err != nil {
		t.Skipf("skipped: no onnx.proto at %s (Debian: apt-get install python3-onnx, or set ONNX_PROTO)", src)
	}
	dir := t.TempDir()
	plugin := filepath.Join(dir, "protoc-gen-go")
	goCmd := filepath.Join(runtime.GOROOT(), "bin", "go")
	if out, err := exec.Command(goCmd, "build", "-o", plugin, "google.golang.org/protobuf/cmd/protoc-gen-go").CombinedOutput(); err != nil {
		t.Fatalf("building protoc-gen-go: %v\n%s", err, out)
	}
	cmd := exec.Command(protoc, "-I", filepath.Dir(src), "--plugin=protoc-gen-go="+plugin,
		"--go_out="+dir, "--go_opt=paths=source_relative",
		"--go_opt=M"+filepath.Base(src)+"=github.com/segment-dev/segment/onnx", filepath.Base(src))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", cmd, err, out)
	}
	got, err := os.ReadFile(filepath.Join(dir, "onnx.pb.go"))
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("onnx.pb.go", got, 0o666); err != nil {
			t.Fatal(err)
		}
		return
	}
	have, err := os.ReadFile("onnx.pb.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(protocLine.ReplaceAll(have, nil), protocLine.ReplaceAll(got, nil)) {
		t.Errorf("onnx.pb.go is not what %s and the pinned protoc-gen-go generate: run go generate ./onnx", src)
	}
}

package regular

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// special makes a file of every kind that is not regular in dir, by name.
func special(t *testing.T, dir string) map[string]string {
	t.Helper()
	paths := map[string]string{
		"folder": filepath.Join(dir, "folder.png"),
		"fifo":   filepath.Join(dir, "fifo.png"),
		"socket": filepath.Join(dir, "s.png"),
		"device": "/dev/null",
	}
	if err := os.Mkdir(paths["folder"], 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(paths["fifo"], 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("unix", paths["socket"])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return paths
}

// within fails the test when f takes more than a few seconds: a read that blocks.
func within(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { f(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s blocks", what)
	}
}

func TestSpecialFilesRefusedByType(t *testing.T) {
	dir := t.TempDir()
	want := map[string]string{"folder": "folder", "fifo": "named pipe", "socket": "socket", "device": "character device"}
	for kind, p := range special(t, dir) {
		for name, f := range map[string]func(string) error{
			"Check":    Check,
			"Open":     func(p string) error { f, err := Open(p); f.Close(); return err },
			"ReadFile": func(p string) error { _, err := ReadFile(p); return err },
		} {
			var err error
			within(t, name+" of a "+kind, func() { err = f(p) })
			var pe *fs.PathError
			if !errors.Is(err, ErrNotRegular) || !errors.As(err, &pe) || pe.Path != p || !strings.Contains(err.Error(), want[kind]) {
				t.Errorf("%s(%s) = %v, want an *fs.PathError naming it, wrapping ErrNotRegular and saying %q", name, kind, err, want[kind])
			}
		}
	}
}

func TestRegularFilesAndLinksToThemRead(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.png")
	if err := os.WriteFile(p, []byte("pixels"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.png")
	if err := os.Symlink(p, link); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{p, link} {
		if err := Check(path); err != nil {
			t.Errorf("Check(%s): %v", path, err)
		}
		b, err := ReadFile(path)
		if err != nil || string(b) != "pixels" {
			t.Errorf("ReadFile(%s) = %q, %v; want \"pixels\"", path, b, err)
		}
	}
}

func TestLinkLoopIsAnErrorNamingIt(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.png"), filepath.Join(dir, "b.png")
	if err := os.Symlink(b, a); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(a, b); err != nil {
		t.Fatal(err)
	}
	var err error
	within(t, "Open of a link loop", func() { _, err = Open(a) })
	if !errors.Is(err, syscall.ELOOP) || !strings.Contains(err.Error(), a) {
		t.Errorf("Open of a link loop: %v, want ELOOP naming %s", err, a)
	}
}

// A file swapped for a named pipe between the check and the open is caught on the open file,
// without blocking.
func TestSwapAfterCheckCaught(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.png")
	if err := os.WriteFile(p, []byte("pixels"), 0o644); err != nil {
		t.Fatal(err)
	}
	betweenCheckAndOpen = func(path string) {
		if err := os.Remove(path); err != nil {
			t.Error(err)
		}
		if err := syscall.Mkfifo(path, 0o644); err != nil {
			t.Error(err)
		}
	}
	defer func() { betweenCheckAndOpen = nil }()
	var err error
	within(t, "Open of a file swapped for a pipe", func() {
		var f *os.File
		f, err = Open(p)
		f.Close()
	})
	if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "named pipe") {
		t.Errorf("Open of a file swapped for a pipe: %v, want ErrNotRegular", err)
	}
}

package dataset

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/segment-dev/segment/internal/regular"
)

// openWithin opens the data set at dir, failing the test when that takes more than a few
// seconds: a read that blocks.
func openWithin(t *testing.T, dir string) (*Dataset, error) {
	t.Helper()
	type result struct {
		d   *Dataset
		err error
	}
	done := make(chan result, 1)
	go func() { d, err := Open(dir, Options{}); done <- result{d, err} }()
	select {
	case r := <-done:
		return r.d, r.err
	case <-time.After(10 * time.Second):
		t.Fatalf("Open(%s) blocks", dir)
	}
	return nil, nil
}

// Files that are not regular (issue 18, finding 6) are refused by their type before they
// are opened, naming the file; a link loop is an error naming it too. None of them blocks.
func TestSpecialFilesRefusedWhileScanning(t *testing.T) {
	tests := []struct {
		name  string
		file  string // relative to the data set
		make  func(path string) error
		is    error
		about string
	}{
		{"named pipe as image", "images/z.png", func(p string) error { return syscall.Mkfifo(p, 0o644) }, regular.ErrNotRegular, "named pipe"},
		{"named pipe as mask", "masks/z.png", func(p string) error { return syscall.Mkfifo(p, 0o644) }, regular.ErrNotRegular, "named pipe"},
		{"named pipe as a TIFF stack", "images/z.tif", func(p string) error { return syscall.Mkfifo(p, 0o644) }, regular.ErrNotRegular, "named pipe"},
		{"socket as image", "images/z.png", func(p string) error {
			l, err := net.Listen("unix", p)
			if err == nil {
				t.Cleanup(func() { l.Close() })
			}
			return err
		}, regular.ErrNotRegular, "socket"},
		{"device as mask", "masks/z.png", func(p string) error { return os.Symlink("/dev/zero", p) }, regular.ErrNotRegular, "character device"},
		{"link loop as image", "images/z.png", func(p string) error {
			other := filepath.Join(filepath.Dir(p), "zz.png")
			if err := os.Symlink(other, p); err != nil {
				return err
			}
			return os.Symlink(p, other)
		}, syscall.ELOOP, "too many levels of symbolic links"},
	}
	img, mask := grayImage(32, 32)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			goodSet(t, dir, 3)
			other := "masks/z.png"
			data := pngBytes(t, mask)
			if strings.HasPrefix(tc.file, "masks/") {
				other, data = "images/z.png", pngBytes(t, img)
			}
			writeFile(t, filepath.Join(dir, other), data)
			if err := tc.make(filepath.Join(dir, tc.file)); err != nil {
				t.Fatal(err)
			}
			if tc.name == "link loop as image" {
				// The loop's other end is an image too, paired, and reported after z.png.
				writeFile(t, filepath.Join(dir, "masks/zz.png"), pngBytes(t, mask))
			}
			_, err := openWithin(t, dir)
			checkProblem(t, err, filepath.Join(dir, tc.file), tc.is, tc.about)
			r, err := Diagnose(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, p := range r.Problems {
				found = found || (p.Path == filepath.Join(dir, tc.file) && errors.Is(p, tc.is))
			}
			if !found {
				t.Errorf("Diagnose's problems %v do not name %s", r.Problems, tc.file)
			}
		})
	}
}

package sharedtest

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// SameTree fails the test unless the folders want and got hold the same files, by path
// relative to each, with the same bytes: how the tests of sharded and resumed runs show
// that their outputs are one uninterrupted run's. Files of got whose paths start with one
// of skip are left out (what only the sharded run writes).
func SameTree(tb testing.TB, want, got string, skip ...string) {
	tb.Helper()
	a, b := ReadTree(tb, want), ReadTree(tb, got)
	for name := range b {
		for _, s := range skip {
			if strings.HasPrefix(name, s) {
				delete(b, name)
			}
		}
	}
	for name, wb := range a {
		gb, ok := b[name]
		switch {
		case !ok:
			tb.Errorf("%s: missing from %s", name, got)
		case !bytes.Equal(wb, gb):
			tb.Errorf("%s: differs between %s and %s", name, want, got)
		}
	}
	for name := range b {
		if _, ok := a[name]; !ok {
			tb.Errorf("%s: in %s, not in %s", name, got, want)
		}
	}
}

// ReadTree maps every file under dir (by its path relative to dir) to its bytes.
func ReadTree(tb testing.TB, dir string) map[string][]byte {
	tb.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[rel] = b
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return files
}

// Returns reports whether f returns within d: how a test shows that something does not
// block (an open of a named pipe would, until a writer came). On false, f is left running.
func Returns(d time.Duration, f func()) bool {
	done := make(chan struct{})
	go func() {
		f()
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

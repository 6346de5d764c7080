package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		if strings.Contains(e.Name(), ".tmp-") {
			names = append(names, e.Name())
		}
	}
	return names
}

func TestWriteReplacesAndKeepsPermissions(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f.txt")
	if err := os.WriteFile(p, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteBytes(p, []byte("new")); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(p)
	st, _ := os.Stat(p)
	if string(got) != "new" || st.Mode().Perm() != 0o600 {
		t.Errorf("content %q mode %v, want new 0600", got, st.Mode().Perm())
	}
	if l := leftovers(t, dir); len(l) > 0 {
		t.Errorf("temporary files left: %v", l)
	}
}

// TestFailedWritesLeaveTheOldFile fails a write in the writer, and another just before the
// rename: the old content must survive and no temporary file may stay.
func TestFailedWritesLeaveTheOldFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "model.safetensors")
	if err := os.WriteFile(p, []byte("good"), 0o644); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("disk full")
	err := Write(p, func(w io.Writer) error {
		w.Write([]byte("half"))
		return boom
	})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), p) {
		t.Errorf("error %v, want one naming %s and wrapping the cause", err, p)
	}
	restore := SetBeforeRenameHook(func(string) error { return boom })
	err = WriteBytes(p, []byte("bad"))
	restore()
	if !errors.Is(err, boom) {
		t.Errorf("hooked write: %v", err)
	}
	if got, _ := os.ReadFile(p); string(got) != "good" {
		t.Errorf("old file now holds %q", got)
	}
	if l := leftovers(t, dir); len(l) > 0 {
		t.Errorf("temporary files left: %v", l)
	}
	if err := WriteBytes(filepath.Join(dir, "no", "such", "dir", "f"), nil); err == nil {
		t.Error("a write into a missing folder succeeded")
	}
}

// TestGroupIsAllOrNone fails the second of three files of a group as it is written, and
// another group at a rename: no file of either may appear, and no temporary file stay.
func TestGroupIsAllOrNone(t *testing.T) {
	dir := t.TempDir()
	names := []string{"a_mask.png", "a_overlay.png", "a_probs.png"}
	boom := errors.New("disk full")
	var g Group
	for k, n := range names {
		err := g.Write(filepath.Join(dir, n), func(w io.Writer) error {
			w.Write([]byte(n))
			if k == 1 {
				return boom
			}
			return nil
		})
		if k == 1 {
			if !errors.Is(err, boom) || !strings.Contains(err.Error(), n) {
				t.Fatalf("failed write: %v, want %v naming %s", err, boom, n)
			}
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := g.Commit(); err != nil {
		t.Fatalf("Commit of an aborted group: %v", err)
	}
	assertNone(t, dir, names)

	// A rename that fails (a folder stands where the second file goes): the third, renamed
	// first, must be taken back.
	if err := os.MkdirAll(filepath.Join(dir, names[1], "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	g = Group{}
	for _, n := range names {
		if err := g.Write(filepath.Join(dir, n), func(w io.Writer) error { _, err := w.Write([]byte(n)); return err }); err != nil {
			t.Fatal(err)
		}
	}
	if err := g.Commit(); err == nil || !strings.Contains(err.Error(), names[1]) {
		t.Fatalf("Commit over a folder: %v, want an error naming %s", err, names[1])
	}
	assertNone(t, dir, []string{names[0], names[2]})

	// And the good case: all three, whole.
	os.RemoveAll(filepath.Join(dir, names[1]))
	g = Group{}
	for _, n := range names {
		if err := g.Write(filepath.Join(dir, n), func(w io.Writer) error { _, err := w.Write([]byte(n)); return err }); err != nil {
			t.Fatal(err)
		}
	}
	if err := g.Commit(); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if b, err := os.ReadFile(filepath.Join(dir, n)); err != nil || string(b) != n {
			t.Errorf("%s: %q, %v", n, b, err)
		}
	}
}

func assertNone(t *testing.T, dir string, names []string) {
	t.Helper()
	for _, n := range names {
		if _, err := os.Stat(filepath.Join(dir, n)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s exists after the group failed (%v)", n, err)
		}
	}
	if l := leftovers(t, dir); len(l) > 0 {
		t.Errorf("temporary files left: %v", l)
	}
}

// TestRemoveStale leaves a temporary file as a killed write does (the hook stops the write
// before its rename) and checks that RemoveStale removes it and nothing else: not the file,
// not the temporary file of another name that shares a prefix.
func TestRemoveStale(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a[1].png")
	if err := WriteBytes(p, []byte("whole")); err != nil {
		t.Fatal(err)
	}
	keep := filepath.Join(dir, ".a[1].png.other.tmp-x") // not a temporary file of p
	if err := os.WriteFile(keep, nil, 0o666); err != nil {
		t.Fatal(err)
	}
	restore := SetBeforeRenameHook(func(tmp string) error {
		// Keep the file as a killed process would: copy it aside, since Write removes it.
		b, _ := os.ReadFile(tmp)
		return errors.Join(os.WriteFile(tmp+"-killed", b, 0o666), errors.New("killed"))
	})
	err := WriteBytes(p, []byte("half"))
	restore()
	if err == nil {
		t.Fatal("the hook did not fail the write")
	}
	if l := leftovers(t, dir); len(l) != 2 {
		t.Fatalf("leftovers before = %v, want the killed one and the other", l)
	}
	n, err := RemoveStale(p)
	if err != nil || n != 1 {
		t.Fatalf("RemoveStale = %d, %v; want 1", n, err)
	}
	if l := leftovers(t, dir); len(l) != 1 || l[0] != filepath.Base(keep) {
		t.Fatalf("leftovers after = %v, want only %s", l, filepath.Base(keep))
	}
	if b, _ := os.ReadFile(p); string(b) != "whole" {
		t.Fatalf("%s = %q, want the whole file kept", p, b)
	}
}

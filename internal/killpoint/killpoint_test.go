package killpoint

import "testing"

func TestParse(t *testing.T) {
	for _, c := range []struct {
		in   string
		name string
		at   int64
	}{
		{"step:3", "step", 3},
		{"write-rename:12", "write-rename", 12},
		{"write-done:model.last.safetensors:2", "write-done:model.last.safetensors", 2},
		{"", "", 0},
		{"step", "", 0},
		{"step:0", "", 0},
		{"step:-1", "", 0},
		{"step:x", "", 0},
		{":4", "", 0},
	} {
		if name, at := parse(c.in); name != c.name || at != c.at {
			t.Errorf("parse(%q) = %q, %d; want %q, %d", c.in, name, at, c.name, c.at)
		}
	}
}

// TestUnarmedDoesNothing passes through points many times with nothing armed: the test
// process must live on.
func TestUnarmedDoesNothing(t *testing.T) {
	old := armed
	defer func() { armed = old }()
	armed = ""
	for range 1000 {
		Here("step")
	}
	armed, at = "write-done", 1<<40
	for range 1000 {
		Here("write-done")
		Here("step")
	}
}

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAblateCommand runs a one-epoch ablation of a tiny model on the sample data and checks
// its output, files and usage errors.
func TestAblateCommand(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := runCmd("ablate", "--data", "../../sample_data", "--out", dir, "--epochs", "1", "--depth", "2", "--base", "4", "--crop", "32", "--batch", "2", "-q")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if n := strings.Count(out, "] "); n != 6 || !strings.Contains(out, "none-nonorm-d2") {
		t.Errorf("want a line for each of 6 variants, got:\n%s", out)
	}
	for _, f := range []string{"ablation.md", "ablation.csv", "ablation_loss.png", "concat-batchnorm-d2/model.grads.csv"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	// The same command with --resume keeps every finished run; without it, trains them.
	args := []string{"ablate", "--data", "../../sample_data", "--out", dir, "--epochs", "1", "--depth", "2", "--base", "4", "--crop", "32", "--batch", "2", "-q"}
	for _, resume := range []bool{true, false} {
		a := args
		if resume {
			a = append(a[:len(a):len(a)], "--resume")
		}
		code, out, errOut := runCmd(a...)
		if n := strings.Count(out, "(kept from an earlier run)"); code != exitOK || (n == 6) != resume || (n == 0) == resume {
			t.Errorf("--resume %v: exit %d, %d runs kept: %s%s", resume, code, n, out, errOut)
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"ablate", "--block", "inception"}, "block must be"},
		{[]string{"ablate", "--grad-log", "0"}, "--grad-log"},
		{[]string{"ablate", "--seeds", "0"}, "--seeds"},
		{[]string{"ablate", "--block", "plain,residual,plain"}, "twice"},
		{[]string{"ablate", "--block", "plain,inception"}, "block must be"},
		{[]string{"ablate", "--block", "residual", "--growth", "4"}, "--block dense"},
		{[]string{"ablate", "--block", "dense", "--dense-layers", "0"}, "dense_layers"},
		{[]string{"ablate", "--landscape", "--landscape-points", "4"}, "--landscape-points"},
		{[]string{"ablate", "somewhere"}, "unexpected arguments"},
	} {
		if code, _, errOut := runCmd(c.args...); code != exitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("segment %v: exit %d, stderr %q; want exit %d mentioning %q", c.args, code, errOut, exitUsage, c.want)
		}
	}
}

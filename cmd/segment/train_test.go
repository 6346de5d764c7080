package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/segment-dev/segment/unet"
)

// TestBuiltInSampleData unpacks the sample data built into the binary, as train does when it
// runs far from a checkout, and finds every file of the folder.
func TestBuiltInSampleData(t *testing.T) {
	wd, _ := os.Getwd()
	defer os.Chdir(wd)
	if err := os.Chdir(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	dir, cleanup, err := sampleData()
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	for _, sub := range []string{"train/images", "train/masks", "val/images", "val/masks"} {
		got, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			t.Fatal(err)
		}
		want, _ := os.ReadDir(filepath.Join(wd, "../../sample_data", sub))
		if len(got) != len(want) || len(got) == 0 {
			t.Errorf("%s: %d files unpacked, %d in the folder", sub, len(got), len(want))
		}
	}
	cleanup()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("cleanup left %s", dir)
	}
}

// TestLossFlagFromRegistry adds a loss to the registry and requires the help text, the
// --loss line and the check of --loss to follow it; an unknown loss is a usage error.
func TestLossFlagFromRegistry(t *testing.T) {
	saved := unet.Losses
	defer func() { unet.Losses = saved }()
	unet.Losses = append(slices.Clip(saved), unet.Loss{Name: "made-up", Tasks: unet.MultiClass, Help: "a loss for this test", Func: unet.CrossEntropy})
	if !regexp.MustCompile(`\n  made-up +multi-class +a loss for this test\n`).MatchString(lossHelp()) {
		t.Errorf("the help text does not list the new loss:\n%s", lossHelp())
	}
	_, out, _ := runCmd("train", "-h")
	if !strings.Contains(out, "focal, focal+dice, made-up (default bce+dice for binary masks, ce+dice otherwise)") {
		t.Errorf("the --loss line does not list the new loss:\n%s", out)
	}
	for _, cmd := range []string{"train", "ablate"} {
		code, _, errOut := runCmd(cmd, "--loss", "hinge")
		if code != exitUsage || !strings.Contains(errOut, `unknown loss "hinge" (want one of bce, dice, dice-per-class, bce+dice, ce, ce+dice, ce+dice-per-class, focal, focal+dice, made-up)`) {
			t.Errorf("segment %s --loss hinge: exit %d, %q; want a usage error naming every loss", cmd, code, errOut)
		}
	}
}

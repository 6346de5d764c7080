package main

import (
	"bytes"
	"errors"
	"flag"
	"testing"

	"github.com/segment-dev/segment/train"
	"github.com/segment-dev/segment/unet"
)

// TestTrainingFlags checks the flags train and ablate share: the progress bar follows -q,
// a missing --data means the sample data, and check refuses arguments and a model that
// cannot be built, as usage errors.
func TestTrainingFlags(t *testing.T) {
	parse := func(args ...string) (*trainingFlags, *train.Options, *flag.FlagSet) {
		t.Helper()
		var o train.Options
		var tf trainingFlags
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		tf.register(fs, &o)
		if err := parseInterspersed(fs, args); err != nil {
			t.Fatal(err)
		}
		def := unet.DefaultConfig()
		o.Model.Skip, o.Model.Norm, o.Model.Up, o.Model.Block = def.Skip, def.Norm, unet.UpTranspose, unet.BlockPlain
		return &tf, &o, fs
	}
	var errOut bytes.Buffer
	for _, c := range []struct {
		args         []string
		wantProgress bool
		wantData     string
	}{
		{[]string{"--data", "somewhere"}, true, "somewhere"},
		{[]string{"--data", "somewhere", "-q"}, false, "somewhere"},
		{[]string{"-q"}, false, "sample_data"}, // the checkout's folder: the tests run in cmd/segment, so not this one
	} {
		tf, o, fs := parse(c.args...)
		if err := tf.check(fs); err != nil {
			t.Fatalf("%v: check: %v", c.args, err)
		}
		cleanup, err := tf.setup(&errOut)
		if err != nil {
			t.Fatalf("%v: setup: %v", c.args, err)
		}
		if got := o.Progress != nil; got != c.wantProgress {
			t.Errorf("%v: progress bar %v, want %v", c.args, got, c.wantProgress)
		}
		if c.wantData == "sample_data" {
			if o.Data == "" {
				t.Errorf("%v: no data folder after setup", c.args)
			}
		} else if o.Data != c.wantData {
			t.Errorf("%v: data %q, want %q", c.args, o.Data, c.wantData)
		}
		cleanup()
	}
	var ue usageError
	tf, _, fs := parse("stray")
	if err := tf.check(fs); !errors.As(err, &ue) {
		t.Errorf("an argument: check gave %v, want a usage error", err)
	}
	tf, _, fs = parse("--depth", "0")
	if err := tf.check(fs); !errors.As(err, &ue) {
		t.Errorf("--depth 0: check gave %v, want a usage error", err)
	}
}

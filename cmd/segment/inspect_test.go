package main

import (
	"strings"
	"testing"

	"github.com/segment-dev/segment/internal/sharedtest"
)

// TestInspectModules checks inspect's module table on PyTorch's ISBI model (base 32, depth
// 4) against counts made by hand: inc holds 32x1x9 + 32x32x9 convolution weights and two
// batch norms' 2x32 (9,632), up4 (decoder.0) the 2x2 up-convolution 64x32x4 + 32, then
// 32x64x9 + 32x32x9 and 2x64 (36,000); the head 33; the total is the model's 7,762,465
// learned values, and the multiply-adds of a 256x256 image are 12.033 G, half the FLOPs of
// PyTorch's reference count (../shared/bench/torch/unet.py, forward_flops).
func TestInspectModules(t *testing.T) {
	path := sharedtest.Path(t, "models/isbi-unet-b32-torch.safetensors")
	code, out, errOut := runCmd("inspect", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, row := range [][]string{
		{"inc", "encoder.0", "x1", "32 x H x W", "9632"},
		{"down4", "encoder.4", "x5", "512 x H/16 x W/16"},
		{"up4", "decoder.0", "decoder.0", "32 x H x W", "36000"},
		{"outc", "head", "logits", "1 x H x W", "33"},
		{"total", "7762465", "12.033 GMAC"},
	} {
		found := false
		for _, line := range strings.Split(out, "\n") {
			f := strings.Join(strings.Fields(line), " ")
			if strings.HasPrefix(f, row[0]+" ") && strings.Contains(f, strings.Join(row, " ")) {
				found = true
			}
		}
		if !found {
			t.Errorf("no row %q in\n%s", strings.Join(row, " "), out)
		}
	}
}

package unet_test

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/segment-dev/segment/internal/sharedtest"
	"github.com/segment-dev/segment/unet"
	"github.com/segment-dev/segment/weights"
)

// TestParamsMatchTorch compares the module tree's tensor list with PyTorch's own, read from
// the reference fixtures as PyTorch wrote them: the model file holds its state_dict (every
// tensor, with its shape) and the gradients file one tensor per learned parameter, so the
// tensors Params calls learned are exactly those with a gradient, and the others are the
// running statistics.
func TestParamsMatchTorch(t *testing.T) {
	for _, name := range []string{"binary-concat", "rgb-4class-concat", "binary-add", "binary-none"} {
		t.Run(name, func(t *testing.T) {
			dir := sharedtest.Path(t, filepath.Join("fixtures/torch-reference", name))
			model, err := weights.ReadFile(filepath.Join(dir, "model.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			grads, err := weights.ReadFile(filepath.Join(dir, "train_grads.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			var cfg unet.Config
			if err := json.Unmarshal([]byte(model.Metadata["config"]), &cfg); err != nil {
				t.Fatal(err)
			}
			var learned, stats []string
			for _, p := range cfg.Params() {
				ts, ok := model.Tensors[p.Name]
				if !ok {
					t.Errorf("%s: not in PyTorch's state_dict", p.Name)
				} else if !slices.Equal(ts.Shape, p.Shape) {
					t.Errorf("%s: shape %v, PyTorch's %v", p.Name, p.Shape, ts.Shape)
				}
				if p.Kind == unet.Weight {
					learned = append(learned, p.Name)
				} else {
					stats = append(stats, p.Name)
				}
			}
			var torchStats []string
			for _, n := range model.Names() {
				if _, ok := grads.Tensors[n]; !ok && !strings.HasSuffix(n, ".num_batches_tracked") {
					torchStats = append(torchStats, n)
				}
			}
			slices.Sort(learned)
			slices.Sort(stats)
			if got := grads.Names(); !slices.Equal(learned, got) {
				t.Errorf("learned tensors\n%v\nPyTorch's parameters\n%v", learned, got)
			}
			if !slices.Equal(stats, torchStats) {
				t.Errorf("statistics\n%v\nPyTorch's buffers\n%v", stats, torchStats)
			}
		})
	}
}

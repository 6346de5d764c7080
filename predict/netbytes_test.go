package predict

import (
	"testing"

	"github.com/segment-dev/segment/unet"
)

// TestNetBytesByHand: a depth-1, base-2 U-Net holds 479 float32 values of weights and
// running statistics (encoder 70 + 248, decoder 158, head 3: 1916 bytes) and holds at most 576 bytes of activations per 4x4 image
// (unet's TestActivationBytesByHand); the estimate is twice their sum, weights once
// whatever the batch.
func TestNetBytesByHand(t *testing.T) {
	cfg := unet.Config{InChannels: 1, Classes: 1, Depth: 1, BaseChannels: 2, Skip: unet.SkipConcat, Norm: unet.NormBatch, Up: unet.UpTranspose}
	if got := NetBytes(cfg, 1, 4, 4); got != 2*(1916+576) {
		t.Errorf("NetBytes = %d, want %d", got, 2*(1916+576))
	}
	if got := NetBytes(cfg, 2, 4, 4); got != 2*(1916+2*576) {
		t.Errorf("NetBytes of 2 images = %d, want %d", got, 2*(1916+2*576))
	}
}

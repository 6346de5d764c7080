package unet_test

import (
	"fmt"
	"strings"

	"github.com/segment-dev/segment/unet"
)

// The forward walk an exporter follows: each step's layer, its kind and attributes, the
// tensors it reads and writes, and its tensors' names.
func ExampleArch_Steps() {
	cfg := unet.Config{InChannels: 1, Classes: 2, Depth: 1, BaseChannels: 4, Skip: unet.SkipConcat, Norm: unet.NormBatch, Up: unet.UpTranspose, Block: unet.BlockResidual}
	for _, s := range cfg.Arch().Steps() {
		var what string
		switch l := s.Layer.(type) {
		case *unet.Conv:
			what = fmt.Sprintf("Conv %d->%d k%d s%d p%d bias=%v", l.In, l.Out, l.Kernel, l.Stride, l.Pad, l.Bias)
		case *unet.NormLayer:
			what = fmt.Sprintf("Norm %s eps=%g", l.Kind, l.Eps)
		case *unet.ReLULayer:
			what = "ReLU"
		case *unet.PoolLayer:
			what = fmt.Sprintf("MaxPool k%d", l.Kernel)
		case *unet.UpConv:
			what = fmt.Sprintf("UpConv %d->%d k%d s%d", l.In, l.Out, l.Kernel, l.Stride)
		case *unet.Join:
			what = fmt.Sprintf("Join %s", l.Kind)
		case *unet.Sum:
			what = "Sum"
		}
		var params []string
		for _, p := range s.Layer.Params() {
			params = append(params, strings.TrimPrefix(p.Name, s.Layer.Name()+"."))
		}
		fmt.Printf("%-16s %-32s %v -> %s [%d ch, 1/%d] %v\n", s.Layer.Name(), what, s.In, s.Out, s.Channels, 1<<s.Level, params)
	}
	// Output:
	// encoder.0.conv1  Conv 1->4 k3 s1 p1 bias=false    [image] -> encoder.0.conv1 [4 ch, 1/1] [weight]
	// encoder.0.norm1  Norm batch eps=1e-05             [encoder.0.conv1] -> encoder.0.norm1 [4 ch, 1/1] [weight bias running_mean running_var]
	// encoder.0.relu1  ReLU                             [encoder.0.norm1] -> encoder.0.relu1 [4 ch, 1/1] []
	// encoder.0.conv2  Conv 4->4 k3 s1 p1 bias=false    [encoder.0.relu1] -> encoder.0.conv2 [4 ch, 1/1] [weight]
	// encoder.0.norm2  Norm batch eps=1e-05             [encoder.0.conv2] -> encoder.0.norm2 [4 ch, 1/1] [weight bias running_mean running_var]
	// encoder.0.proj   Conv 1->4 k1 s1 p0 bias=true     [image] -> encoder.0.proj [4 ch, 1/1] [weight bias]
	// encoder.0.sum    Sum                              [encoder.0.norm2 encoder.0.proj] -> encoder.0.sum [4 ch, 1/1] []
	// encoder.0.relu2  ReLU                             [encoder.0.sum] -> x1 [4 ch, 1/1] []
	// encoder.1.pool   MaxPool k2                       [x1] -> encoder.1.pool [4 ch, 1/2] []
	// encoder.1.conv1  Conv 4->8 k3 s1 p1 bias=false    [encoder.1.pool] -> encoder.1.conv1 [8 ch, 1/2] [weight]
	// encoder.1.norm1  Norm batch eps=1e-05             [encoder.1.conv1] -> encoder.1.norm1 [8 ch, 1/2] [weight bias running_mean running_var]
	// encoder.1.relu1  ReLU                             [encoder.1.norm1] -> encoder.1.relu1 [8 ch, 1/2] []
	// encoder.1.conv2  Conv 8->8 k3 s1 p1 bias=false    [encoder.1.relu1] -> encoder.1.conv2 [8 ch, 1/2] [weight]
	// encoder.1.norm2  Norm batch eps=1e-05             [encoder.1.conv2] -> encoder.1.norm2 [8 ch, 1/2] [weight bias running_mean running_var]
	// encoder.1.proj   Conv 4->8 k1 s1 p0 bias=true     [encoder.1.pool] -> encoder.1.proj [8 ch, 1/2] [weight bias]
	// encoder.1.sum    Sum                              [encoder.1.norm2 encoder.1.proj] -> encoder.1.sum [8 ch, 1/2] []
	// encoder.1.relu2  ReLU                             [encoder.1.sum] -> x2 [8 ch, 1/2] []
	// decoder.0.up     UpConv 8->4 k2 s2                [x2] -> decoder.0.up [4 ch, 1/1] [weight bias]
	// decoder.0.join   Join concat                      [x1 decoder.0.up] -> decoder.0.join [8 ch, 1/1] []
	// decoder.0.conv1  Conv 8->4 k3 s1 p1 bias=false    [decoder.0.join] -> decoder.0.conv1 [4 ch, 1/1] [weight]
	// decoder.0.norm1  Norm batch eps=1e-05             [decoder.0.conv1] -> decoder.0.norm1 [4 ch, 1/1] [weight bias running_mean running_var]
	// decoder.0.relu1  ReLU                             [decoder.0.norm1] -> decoder.0.relu1 [4 ch, 1/1] []
	// decoder.0.conv2  Conv 4->4 k3 s1 p1 bias=false    [decoder.0.relu1] -> decoder.0.conv2 [4 ch, 1/1] [weight]
	// decoder.0.norm2  Norm batch eps=1e-05             [decoder.0.conv2] -> decoder.0.norm2 [4 ch, 1/1] [weight bias running_mean running_var]
	// decoder.0.proj   Conv 8->4 k1 s1 p0 bias=true     [decoder.0.join] -> decoder.0.proj [4 ch, 1/1] [weight bias]
	// decoder.0.sum    Sum                              [decoder.0.norm2 decoder.0.proj] -> decoder.0.sum [4 ch, 1/1] []
	// decoder.0.relu2  ReLU                             [decoder.0.sum] -> decoder.0 [4 ch, 1/1] []
	// head             Conv 4->2 k1 s1 p0 bias=true     [decoder.0] -> logits [2 ch, 1/1] [weight bias]
}

package unet

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// A tape runs its ops in one fixed order, and most outputs are dead soon after they are
// made: a gradient is read by the next op or two of the backward pass and never again, and
// at inference every activation but the skips dies at the next layer. planBuffers works out
// from that order which outputs are never alive at the same time and lets their ops write
// into the same memory, as a register allocator does; a training step then holds the
// activations the backward pass needs plus a few gradients instead of every tensor it ever
// made.

// slot is memory several ops write their outputs into, one after another.
type slot struct {
	size int // elements
	data any // []float32 or []float64, made at first use
}

// backing gives the slot's memory as a slice of n elements of dt.
func (s *slot) backing(dt tensor.Dtype, n int) any {
	switch dt {
	case tensor.Float32:
		d, ok := s.data.([]float32)
		if !ok {
			d = make([]float32, s.size)
			s.data = d
		}
		return d[:n]
	case tensor.Float64:
		d, ok := s.data.([]float64)
		if !ok {
			d = make([]float64, s.size)
			s.data = d
		}
		return d[:n]
	}
	return nil
}

// shareBuffers turns planBuffers on; tests turn it off to compare.
var shareBuffers = true

// planned is an op of the package whose output buffer planBuffers can place.
type planned interface{ base() *opBase }

func (b *opBase) base() *opBase { return b }

// bufferPlan says what planBuffers did: Bytes is the memory of the outputs it placed, one
// buffer each, Shared what they take in the shared slots.
type bufferPlan struct{ Bytes, Shared int64 }

// planBuffers places the outputs of the package's ops in g into shared slots. keep are the
// nodes whose values are read after a run (outputs, gradients): they get memory of their own.
//
// The order is the tape machine's own (gorgonia's stable topological sort, reversed, as
// Compile does). A value is alive from its op to the last op reading it. gorgonia's own ops
// (the additions that sum a gradient arriving along two paths) may write their result into
// an input's memory, so their inputs stay alive as long as their output.
func planBuffers(g *G.ExprGraph, keep ...*G.Node) (bufferPlan, error) {
	var p bufferPlan
	if !shareBuffers {
		return p, nil
	}
	order, err := G.Sort(g)
	if err != nil {
		return p, fmt.Errorf("ordering the graph: %w", err)
	}
	for i, j := 0, len(order)-1; i < j; i, j = i+1, j-1 {
		order[i], order[j] = order[j], order[i]
	}
	pos := make(map[*G.Node]int, len(order))
	for i, n := range order {
		pos[n] = i
	}
	last := make(map[*G.Node]int, len(order))
	inputs := func(n *G.Node) []*G.Node {
		var in []*G.Node
		it := g.From(n.ID())
		for it.Next() {
			in = append(in, it.Node().(*G.Node))
		}
		return in
	}
	for i, n := range order {
		last[n] = max(last[n], i)
		for _, c := range inputs(n) {
			last[c] = max(last[c], i)
		}
	}
	forever := len(order)
	for _, n := range keep {
		last[n] = forever
	}
	for i := len(order) - 1; i >= 0; i-- {
		n := order[i]
		if n.Op() == nil {
			continue
		}
		if _, ok := n.Op().(planned); ok {
			continue
		}
		for _, c := range inputs(n) {
			last[c] = max(last[c], last[n])
		}
	}

	type held struct {
		s    *slot
		free int // position after which the slot is free again
	}
	var busy []held
	var free []*slot
	for i, n := range order {
		op, ok := n.Op().(planned)
		if !ok || n.IsScalar() {
			continue
		}
		size := n.Shape().TotalSize()
		p.Bytes += int64(size) * int64(n.Dtype().Size())
		if last[n] >= forever {
			continue
		}
		// Slots whose last reader ran before this op are free; the op's own inputs are
		// read at i, so theirs are not.
		kept := busy[:0]
		for _, h := range busy {
			if h.free < i {
				free = append(free, h.s)
			} else {
				kept = append(kept, h)
			}
		}
		busy = kept
		pick := -1
		for j, s := range free {
			if s.size >= size && (pick < 0 || s.size < free[pick].size) {
				pick = j
			}
		}
		if pick < 0 {
			for j, s := range free {
				if pick < 0 || s.size > free[pick].size {
					pick = j
				}
			}
		}
		var s *slot
		if pick >= 0 {
			s = free[pick]
			free = append(free[:pick], free[pick+1:]...)
			s.size = max(s.size, size)
		} else {
			s = &slot{size: size}
		}
		op.base().slot = s
		busy = append(busy, held{s, last[n]})
	}
	seen := make(map[*slot]bool)
	for _, n := range order {
		if op, ok := n.Op().(planned); ok && op.base().slot != nil && !seen[op.base().slot] {
			seen[op.base().slot] = true
			p.Shared += int64(op.base().slot.size) * int64(n.Dtype().Size())
		}
	}
	return p, nil
}

package unet

import (
	"math"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestLossRegistry checks what the help text and train rely on: unique names, one line of
// help each, exactly one default per task that suits it, and the errors of LossFor.
func TestLossRegistry(t *testing.T) {
	seen := map[string]bool{}
	defaults := map[Task]int{}
	for _, l := range Losses {
		if seen[l.Name] || l.Name == "" {
			t.Errorf("loss name %q is empty or repeated", l.Name)
		}
		seen[l.Name] = true
		if l.Help == "" || strings.Contains(l.Help, "\n") || l.Func == nil || l.Tasks == 0 {
			t.Errorf("%s: want one line of help, a function and a task: %+v", l.Name, l)
		}
		for _, task := range []Task{Binary, MultiClass} {
			if l.Default&task != 0 {
				defaults[task]++
				if l.Tasks&task == 0 {
					t.Errorf("%s is the %s default but does not suit it", l.Name, task)
				}
			}
		}
	}
	if defaults[Binary] != 1 || defaults[MultiClass] != 1 {
		t.Errorf("defaults per task %v, want one each", defaults)
	}
	for _, c := range []struct {
		name    string
		classes int
		want    string // the loss found, or a piece of the error
	}{
		{"", 1, "bce+dice"}, {"", 3, "ce+dice"}, {"dice", 1, "dice"}, {"ce", 2, "ce"},
		{"ce", 1, "does not fit this data: binary data takes bce, dice, dice-per-class, bce+dice, focal, focal+dice"},
		{"bce+dice", 4, "does not fit this data: multi-class data takes dice, dice-per-class, ce, ce+dice, ce+dice-per-class, focal, focal+dice"},
		{"hinge", 1, `unknown loss "hinge" (want one of bce, dice, dice-per-class, bce+dice, ce, ce+dice, ce+dice-per-class, focal, focal+dice)`},
	} {
		l, err := LossFor(c.name, c.classes)
		got := l.Name
		if err != nil {
			got = err.Error()
		}
		if !strings.Contains(got, c.want) {
			t.Errorf("LossFor(%q, %d) = %q, want %q", c.name, c.classes, got, c.want)
		}
	}
}

// TestRegistryLossesByHand evaluates every registered loss on the pixels of the by-hand
// tests, for each task it suits, against sums worked out by hand.
func TestRegistryLossesByHand(t *testing.T) {
	ln2 := math.Ln2
	// Binary: logits 0 (p 0.5) and ln 3 (p 0.75) with targets 1 and 0, and an ignored pixel.
	// BCE: (ln 2 + ln 4)/2; soft Dice: 1 - 2/3.25; focal (gamma 2): (0.25 ln 2 + 0.5625 ln 4)/2.
	bz := tensor.New(tensor.WithShape(1, 1, 1, 3), tensor.WithBacking([]float64{0, math.Log(3), 9}))
	by := tensor.New(tensor.WithShape(1, 1, 1, 3), tensor.WithBacking([]float64{1, 0, -1}))
	bce, bdice, bfocal := 1.5*ln2, 1-2/3.25, 0.6875*ln2
	// Two classes, one pixel of class 1 with equal logits: CE ln 2, soft Dice
	// 1 - (1/1.5 + 2/2.5)/2, focal 0.25 ln 2.
	mz := tensor.New(tensor.WithShape(1, 2, 1, 1), tensor.WithBacking([]float64{0, 0}))
	my := tensor.New(tensor.WithShape(1, 1, 1), tensor.WithBacking([]float64{1}))
	ce, mdice, mfocal := ln2, 1-(1/1.5+2/2.5)/2, 0.25*ln2
	// Per class: class 0 is not in the target, so only class 1's Dice counts.
	mdicePresent := 1 - 2/2.5
	want := map[string][2]float64{ // binary, multi-class; NaN where the loss does not suit
		"bce":               {bce, math.NaN()},
		"dice":              {bdice, mdice},
		"dice-per-class":    {bdice, mdicePresent},
		"ce+dice-per-class": {math.NaN(), ce + mdicePresent},
		"bce+dice":          {bce + bdice, math.NaN()},
		"ce":                {math.NaN(), ce},
		"ce+dice":           {math.NaN(), ce + mdice},
		"focal":             {bfocal, mfocal},
		"focal+dice":        {bfocal + bdice, mfocal + mdice},
	}
	if len(want) != len(Losses) {
		t.Errorf("%d losses worked out by hand, %d registered: add the new one here", len(want), len(Losses))
	}
	for _, l := range Losses {
		for i, c := range []struct {
			task Task
			z, y *tensor.Dense
		}{{Binary, bz, by}, {MultiClass, mz, my}} {
			w, ok := want[l.Name]
			if !ok {
				t.Errorf("%s: no value worked out by hand", l.Name)
				continue
			}
			if (l.Tasks&c.task != 0) != !math.IsNaN(w[i]) {
				t.Errorf("%s: suits %s, but the table says otherwise", l.Name, l.Tasks)
				continue
			}
			if l.Tasks&c.task == 0 {
				continue
			}
			got := scalarOf(t, func(g *G.ExprGraph) (*G.Node, error) { return l.Func(node(g, c.z, "z"), node(g, c.y, "y")) })
			if math.Abs(got-w[i]) > 1e-12 {
				t.Errorf("%s on %s data = %v, want %v", l.Name, c.task, got, w[i])
			}
		}
	}
}

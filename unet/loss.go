package unet

import (
	"fmt"
	"strings"

	G "gorgonia.org/gorgonia"
)

// This file is the one place that says which losses training can use: the loss functions
// and the registry, Losses. A loss made of those that exist is one entry of Losses; one that
// needs new arithmetic adds a lossKind and its per-pixel terms to op_loss.go as well.

// LossFunc makes the training loss node from logits [N, classes, H, W] and the target node
// (TargetShape gives its shape).
//
// The losses take logits [N, C, H, W] and a target: for one channel (binary, sigmoid) the
// 0/1 mask [N, 1, H, W]; for C >= 2 channels (softmax) the class indices [N, H, W] as
// floats. Target pixels below zero (the data set's ignore value) count for nothing, and
// means are over the other pixels. Each is computed from the logits directly, so that it
// stays finite for any logit.
type LossFunc func(logits, target *G.Node) (*G.Node, error)

// BCEWithLogits is the mean binary cross-entropy of sigmoid(logits) [N, 1, H, W] against
// the target.
func BCEWithLogits(logits, target *G.Node) (*G.Node, error) {
	return G.ApplyOp(&lossOp{kind: lossBCE, binary: true}, logits, target)
}

// CrossEntropy is the mean softmax cross-entropy of logits [N, C, H, W] against class
// indices [N, H, W], as PyTorch's CrossEntropyLoss with ignore_index.
func CrossEntropy(logits, target *G.Node) (*G.Node, error) {
	return G.ApplyOp(&lossOp{kind: lossCE, soft: softmaxFor(logits)}, logits, target)
}

// SoftDice is 1 minus the soft Dice coefficient (2 sum(p t) + 1) / (sum p + sum t + 1)
// over the whole batch, with p the sigmoid (one channel) or softmax probabilities and t the
// target; for several classes it is averaged over the classes. It rewards overlap whatever
// the share of foreground, which cross-entropy alone does not.
func SoftDice(logits, target *G.Node) (*G.Node, error) {
	return G.ApplyOp(&lossOp{kind: lossDice, binary: logits.Shape()[1] == 1, soft: softmaxFor(logits)}, logits, target)
}

// SoftDicePerClass is SoftDice averaged over the classes present in the batch's target
// only (the foreground, for one channel, when there is any): a rare class that is there
// counts as much as a common one, and a class that is not there adds nothing, where
// SoftDice would reward predicting none of it.
func SoftDicePerClass(logits, target *G.Node) (*G.Node, error) {
	return G.ApplyOp(&lossOp{kind: lossDice, binary: logits.Shape()[1] == 1, present: true, soft: softmaxFor(logits)}, logits, target)
}

// WeightedBCEWithLogits is BCEWithLogits with each pixel weighed by the weight of its
// class, w[0] for background and w[1] for foreground, the mean being the weighted mean.
func WeightedBCEWithLogits(w []float64) LossFunc {
	return func(logits, target *G.Node) (*G.Node, error) {
		return G.ApplyOp(&lossOp{kind: lossBCE, binary: true, weights: w}, logits, target)
	}
}

// WeightedCrossEntropy is CrossEntropy with each pixel weighed by w[its class], the mean
// being the weighted mean, as PyTorch's CrossEntropyLoss with weight and ignore_index.
func WeightedCrossEntropy(w []float64) LossFunc {
	return func(logits, target *G.Node) (*G.Node, error) {
		return G.ApplyOp(&lossOp{kind: lossCE, weights: w, soft: softmaxFor(logits)}, logits, target)
	}
}

// Focal is the mean focal loss of Lin et al. (2017), -(1 - p_t)^gamma log p_t with p_t the
// probability of the true class: cross-entropy that gives easy pixels less weight (gamma 0
// is plain cross-entropy).
func Focal(logits, target *G.Node, gamma float64) (*G.Node, error) {
	return G.ApplyOp(&lossOp{kind: lossFocal, binary: logits.Shape()[1] == 1, gamma: gamma, soft: softmaxFor(logits)}, logits, target)
}

// Task is a set of the kinds of model a loss suits.
type Task uint8

const (
	// Binary is a model of one class: one logit channel, a sigmoid, a 0/1 target.
	Binary Task = 1 << iota
	// MultiClass is a model of two or more classes: softmax over the channels, class
	// indices as the target.
	MultiClass
)

// TaskOf is the task of a model with the given number of classes (Config.Classes).
func TaskOf(classes int) Task {
	if classes == 1 {
		return Binary
	}
	return MultiClass
}

// String names the task as the help text says it.
func (t Task) String() string {
	switch t {
	case Binary:
		return "binary"
	case MultiClass:
		return "multi-class"
	case Binary | MultiClass:
		return "both"
	}
	return "none"
}

// Loss is an entry of the loss registry: a loss that training can be asked for by name.
type Loss struct {
	Name    string   // what --loss and train.Options.Loss say
	Tasks   Task     // the models it suits
	Default Task     // the models whose training uses it unless told otherwise
	Help    string   // one line for segment train -h
	Func    LossFunc // builds it into the training graph
	// Weighted builds it with its per-pixel term (cross-entropy) weighed by class, from a
	// weight per class (two for a binary model); nil when it has no such term.
	Weighted func(w []float64) LossFunc
}

// WithWeights is the loss with its per-pixel term weighed by class weights w (see
// Weighted), or l.Func itself when w is nil.
func (l Loss) WithWeights(w []float64) (LossFunc, error) {
	switch {
	case w == nil:
		return l.Func, nil
	case l.Weighted == nil:
		return nil, fmt.Errorf("loss %q has no per-pixel term to weigh by class", l.Name)
	}
	return l.Weighted(w), nil
}

// focalGamma is the focal loss's exponent, 2 as in the paper.
const focalGamma = 2

func focal(logits, target *G.Node) (*G.Node, error) { return Focal(logits, target, focalGamma) }

// Losses is the loss registry, in the order the help text lists it. Each task has exactly
// one default.
var Losses = []Loss{
	{Name: "bce", Tasks: Binary, Func: BCEWithLogits, Weighted: WeightedBCEWithLogits,
		Help: "binary cross-entropy of the foreground's sigmoid"},
	{Name: "dice", Tasks: Binary | MultiClass, Func: SoftDice,
		Help: "1 - soft Dice over the batch, mean over the classes"},
	{Name: "dice-per-class", Tasks: Binary | MultiClass, Func: SoftDicePerClass,
		Help: "dice, mean over the classes present in the batch"},
	{Name: "bce+dice", Tasks: Binary, Default: Binary, Func: plus(BCEWithLogits, SoftDice),
		Weighted: func(w []float64) LossFunc { return plus(WeightedBCEWithLogits(w), SoftDice) },
		Help:     "bce + dice: per-pixel and overlap terms together"},
	{Name: "ce", Tasks: MultiClass, Func: CrossEntropy, Weighted: WeightedCrossEntropy,
		Help: "softmax cross-entropy, as PyTorch's CrossEntropyLoss"},
	{Name: "ce+dice", Tasks: MultiClass, Default: MultiClass, Func: plus(CrossEntropy, SoftDice),
		Weighted: func(w []float64) LossFunc { return plus(WeightedCrossEntropy(w), SoftDice) },
		Help:     "ce + dice"},
	{Name: "ce+dice-per-class", Tasks: MultiClass, Func: plus(CrossEntropy, SoftDicePerClass),
		Weighted: func(w []float64) LossFunc { return plus(WeightedCrossEntropy(w), SoftDicePerClass) },
		Help:     "ce + dice-per-class: every class present counts alike"},
	{Name: "focal", Tasks: Binary | MultiClass, Func: focal,
		Help: "focal loss (gamma 2): easy pixels weigh less"},
	{Name: "focal+dice", Tasks: Binary | MultiClass, Func: plus(focal, SoftDice),
		Help: "focal + dice"},
}

// plus is the loss a + b, added in the graph.
func plus(a, b LossFunc) LossFunc {
	return func(logits, target *G.Node) (*G.Node, error) {
		x, err := a(logits, target)
		if err != nil {
			return nil, err
		}
		y, err := b(logits, target)
		if err != nil {
			return nil, err
		}
		return G.Add(x, y)
	}
}

// LossNames lists the registry's names, for tasks t (any task: Binary|MultiClass).
func LossNames(t Task) []string {
	var names []string
	for _, l := range Losses {
		if l.Tasks&t != 0 {
			names = append(names, l.Name)
		}
	}
	return names
}

// LookupLoss finds the registry's loss of that name.
func LookupLoss(name string) (Loss, error) {
	for _, l := range Losses {
		if l.Name == name {
			return l, nil
		}
	}
	return Loss{}, fmt.Errorf("unknown loss %q (want one of %s)", name, strings.Join(LossNames(Binary|MultiClass), ", "))
}

// DefaultLoss is the loss training uses for a model of the given classes when none is
// named.
func DefaultLoss(classes int) Loss {
	t := TaskOf(classes)
	for _, l := range Losses {
		if l.Default&t != 0 {
			return l
		}
	}
	panic(fmt.Sprintf("unet: the loss registry has no default for %s models", t))
}

// LossFor is the loss of that name (the default when name is empty) for a model of the
// given classes, or an error saying why it cannot be.
func LossFor(name string, classes int) (Loss, error) {
	if name == "" {
		return DefaultLoss(classes), nil
	}
	l, err := LookupLoss(name)
	if err != nil {
		return Loss{}, err
	}
	if t := TaskOf(classes); l.Tasks&t == 0 {
		return Loss{}, fmt.Errorf("loss %q does not fit this data: %s data takes %s", name, t, strings.Join(LossNames(t), ", "))
	}
	return l, nil
}

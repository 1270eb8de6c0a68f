// Package mlp trains small multilayer perceptrons on tabular data, for the
// in-SQL models where a linear model underfits: interactions and
// non-monotonic effects that nobody one-hot encoded by hand.
//
// The network is deliberately modest — one or two fully connected ReLU hidden
// layers — because SibylDB trains inside the database on a shared CPU and
// evaluates the model once per row of a query. Training uses mini-batch Adam
// with L2 weight decay and early stopping on a held-out validation fraction,
// which is what makes an MLP usable without per-dataset tuning: it stops
// when the validation loss stops improving and keeps the best weights seen.
// Everything random (initialisation, validation split, batch order) comes
// from Config.Seed, so a CREATE MODEL statement is reproducible.
//
// Outputs follow the same conventions as package linear: regression predicts
// one value (targets are standardised during training and un-standardised by
// Predict), binary classification predicts P(class 1) through a sigmoid, and
// multi-class classification predicts softmax probabilities.
//
// Inputs are already-preprocessed dense features; standardising them matters
// for an MLP just as for any gradient-trained model. A *Model round-trips
// through encoding/json; call Validate after decoding a stored model.
package mlp

import (
	"errors"
	"fmt"
	"sync"

	"github.com/sibyldb/sibyldb/internal/ml/dense"
	"gonum.org/v1/gonum/floats"
)

// MaxWidth is the largest number of units allowed in a layer. It bounds the
// size of Predict's scratch buffers.
const MaxWidth = 512

// scratchPool recycles Predict's activation buffers, so that Predict neither
// allocates nor zeroes 8 KiB of stack per row, and concurrent callers do not
// share state.
var scratchPool = sync.Pool{New: func() any { return new([2 * MaxWidth]float64) }}

// Model is a trained network: Layers[0] maps the features to the first
// hidden layer, the last layer maps to the outputs. Hidden layers use ReLU;
// the output activation depends on Kind.
type Model struct {
	// Kind is dense.KindRegression, dense.KindLogistic or dense.KindSoftmax.
	Kind string `json:"kind"`
	// Layers are the fully connected layers, input to output.
	Layers []Layer `json:"layers"`
	// YMean and YStd undo the target standardisation of regression models:
	// prediction = network output × YStd + YMean. Classifiers have 0 and 1.
	YMean float64 `json:"y_mean"`
	YStd  float64 `json:"y_std"`
	// Epochs is the number of training epochs whose weights were kept
	// (informational; early stopping keeps the best validation epoch).
	Epochs int `json:"epochs"`
}

// Layer is one fully connected layer: unit k outputs Weights[k]·in + Bias[k].
type Layer struct {
	// Weights has one row of input weights per unit (units × inputs).
	Weights [][]float64 `json:"weights"`
	// Bias has one value per unit.
	Bias []float64 `json:"bias"`
}

// NumOutputs reports how many values Predict writes: 1 for regression and
// binary classification, the number of classes otherwise.
func (m *Model) NumOutputs() int {
	if len(m.Layers) == 0 {
		return 0
	}
	return len(m.Layers[len(m.Layers)-1].Weights)
}

// NumFeatures reports the length of the feature vector Predict expects.
func (m *Model) NumFeatures() int {
	if len(m.Layers) == 0 || len(m.Layers[0].Weights) == 0 {
		return 0
	}
	return len(m.Layers[0].Weights[0])
}

// Predict evaluates the network on x and writes NumOutputs values to out:
// the predicted value (regression), P(class 1) (binary) or one probability
// per class (multi-class). x must have NumFeatures elements and out at least
// NumOutputs (Predict panics otherwise, like an out-of-range index). Predict
// does not allocate and is safe for concurrent use.
func (m *Model) Predict(x []float64, out []float64) {
	scratch := scratchPool.Get().(*[2 * MaxWidth]float64)
	defer scratchPool.Put(scratch)
	bufA, bufB := scratch[:MaxWidth], scratch[MaxWidth:]
	in := x
	last := len(m.Layers) - 1
	for l := range m.Layers {
		layer := &m.Layers[l]
		var dst []float64
		switch {
		case l == last:
			dst = out[:len(layer.Weights)]
		case l%2 == 0:
			dst = bufA[:len(layer.Weights)]
		default:
			dst = bufB[:len(layer.Weights)]
		}
		layer.forward(in, dst, l != last)
		in = dst
	}
	finishOutput(m.Kind, out[:m.NumOutputs()], m.YMean, m.YStd)
}

// forward computes the layer's outputs for input in, applying ReLU if relu.
func (l *Layer) forward(in, dst []float64, relu bool) {
	for k, w := range l.Weights {
		v := floats.Dot(w, in[:len(w)]) + l.Bias[k]
		if relu && v < 0 {
			v = 0
		}
		dst[k] = v
	}
}

// finishOutput applies the output activation (and un-standardisation).
func finishOutput(kind string, out []float64, yMean, yStd float64) {
	if kind == dense.KindRegression {
		out[0] = out[0]*yStd + yMean
		return
	}
	dense.Link(kind, out)
}

// Validate reports whether a (typically freshly decoded) model is consistent:
// a known kind, 2 or 3 layers whose shapes chain, widths within MaxWidth, an
// output size matching the kind, and only finite parameters.
func (m *Model) Validate() error {
	if m == nil {
		return errors.New("mlp: nil model")
	}
	if len(m.Layers) < 2 || len(m.Layers) > 3 {
		return fmt.Errorf("mlp: model must have 2 or 3 layers (1 or 2 hidden), has %d", len(m.Layers))
	}
	inputs := m.NumFeatures()
	if inputs == 0 {
		return errors.New("mlp: model has no input features")
	}
	for l, layer := range m.Layers {
		units := len(layer.Weights)
		if units == 0 || units > MaxWidth {
			return fmt.Errorf("mlp: layer %d has %d units, want 1..%d", l, units, MaxWidth)
		}
		if len(layer.Bias) != units {
			return fmt.Errorf("mlp: layer %d has %d biases for %d units", l, len(layer.Bias), units)
		}
		for k, w := range layer.Weights {
			if len(w) != inputs {
				return fmt.Errorf("mlp: layer %d unit %d has %d inputs, want %d", l, k, len(w), inputs)
			}
			if err := checkFinite(w); err != nil {
				return fmt.Errorf("mlp: layer %d unit %d: %w", l, k, err)
			}
		}
		if err := checkFinite(layer.Bias); err != nil {
			return fmt.Errorf("mlp: layer %d bias: %w", l, err)
		}
		inputs = units
	}
	outputs := m.NumOutputs()
	if err := dense.CheckOutputs(m.Kind, outputs); err != nil {
		return fmt.Errorf("mlp: %w", err)
	}
	if m.Kind == dense.KindRegression && (!dense.Finite(m.YMean) || !dense.Finite(m.YStd) || m.YStd <= 0) {
		return fmt.Errorf("mlp: invalid target scaling (mean %v, std %v)", m.YMean, m.YStd)
	}
	return nil
}

func checkFinite(v []float64) error {
	for i, x := range v {
		if !dense.Finite(x) {
			return fmt.Errorf("value %d is not finite (%v)", i, x)
		}
	}
	return nil
}

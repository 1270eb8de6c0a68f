package mlp

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/sibyldb/sibyldb/internal/ml/dense"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/stat"
)

// Defaults used for zero Config fields.
const (
	DefaultHidden             = 32
	DefaultEpochs             = 200
	DefaultBatchSize          = 32
	DefaultLearningRate       = 1e-3
	DefaultValidationFraction = 0.1
	DefaultPatience           = 10
)

// Adam hyper-parameters (Kingma & Ba's defaults, which rarely need tuning).
const (
	adamBeta1 = 0.9
	adamBeta2 = 0.999
	adamEps   = 1e-8
)

// Config controls training. Zero fields take the defaults above.
type Config struct {
	// Hidden lists the widths of the 1 or 2 hidden ReLU layers
	// (default one layer of DefaultHidden units). Each is at most MaxWidth.
	Hidden []int
	// Epochs is the maximum number of passes over the training rows.
	Epochs int
	// BatchSize is the number of rows per Adam step.
	BatchSize int
	// LearningRate is Adam's step size.
	LearningRate float64
	// L2 is the weight-decay coefficient: the loss gets (L2/2)·‖W‖² for all
	// weights (not biases). 0 means no decay.
	L2 float64
	// Seed makes training reproducible.
	Seed int64
	// ValidationFraction is the share of rows held out for early stopping
	// (default DefaultValidationFraction; negative disables early stopping
	// and trains for exactly Epochs epochs on all rows). Must be below 0.5.
	ValidationFraction float64
	// Patience is how many epochs without a validation improvement are
	// tolerated before training stops (default DefaultPatience).
	Patience int
}

func (c Config) withDefaults() (Config, error) {
	if c.Hidden == nil {
		c.Hidden = []int{DefaultHidden}
	}
	if len(c.Hidden) < 1 || len(c.Hidden) > 2 {
		return c, fmt.Errorf("mlp: need 1 or 2 hidden layers, got %d", len(c.Hidden))
	}
	for i, h := range c.Hidden {
		if h < 1 || h > MaxWidth {
			return c, fmt.Errorf("mlp: hidden layer %d has width %d, want 1..%d", i, h, MaxWidth)
		}
	}
	if c.Epochs == 0 {
		c.Epochs = DefaultEpochs
	}
	if c.BatchSize == 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.LearningRate == 0 {
		c.LearningRate = DefaultLearningRate
	}
	if c.ValidationFraction == 0 {
		c.ValidationFraction = DefaultValidationFraction
	}
	if c.Patience == 0 {
		c.Patience = DefaultPatience
	}
	switch {
	case c.Epochs < 0 || c.BatchSize < 0 || c.Patience < 0:
		return c, fmt.Errorf("mlp: Epochs (%d), BatchSize (%d) and Patience (%d) must be positive", c.Epochs, c.BatchSize, c.Patience)
	case !dense.Finite(c.LearningRate) || c.LearningRate < 0:
		return c, fmt.Errorf("mlp: learning rate must be positive, got %v", c.LearningRate)
	case !dense.Finite(c.L2) || c.L2 < 0:
		return c, fmt.Errorf("mlp: L2 must be finite and >= 0, got %v", c.L2)
	case math.IsNaN(c.ValidationFraction) || c.ValidationFraction >= 0.5:
		return c, fmt.Errorf("mlp: validation fraction must be below 0.5, got %v", c.ValidationFraction)
	}
	return c, nil
}

// FitRegression trains a network with one linear output to minimise the
// squared error on y. Targets are standardised for training (so the learning
// rate means the same for any target scale) and the model un-standardises its
// predictions.
//
// ctx is checked before every mini-batch; if it is cancelled or expires,
// FitRegression returns ctx.Err().
func FitRegression(ctx context.Context, X [][]float64, y []float64, cfg Config) (*Model, error) {
	if _, err := checkX(X); err != nil {
		return nil, err
	}
	if len(y) != len(X) {
		return nil, fmt.Errorf("mlp: %d targets for %d rows", len(y), len(X))
	}
	if err := checkFinite(y); err != nil {
		return nil, fmt.Errorf("mlp: targets: %w", err)
	}
	mean, std := stat.PopMeanStdDev(y, nil)
	if std == 0 {
		std = 1 // constant target: the network just learns the bias
	}
	scaled := make([]float64, len(y))
	for i, v := range y {
		scaled[i] = (v - mean) / std
	}
	m, err := train(ctx, X, &regressionTask{y: scaled}, cfg)
	if err != nil {
		return nil, err
	}
	m.YMean, m.YStd = mean, std
	return m, nil
}

// FitClassifier trains a classifier for labels in [0, classes). With two
// classes the network has one sigmoid output, P(class 1); with more, one
// softmax output per class. The loss is cross-entropy.
//
// ctx is checked before every mini-batch; if it is cancelled or expires,
// FitClassifier returns ctx.Err().
func FitClassifier(ctx context.Context, X [][]float64, y []int, classes int, cfg Config) (*Model, error) {
	if _, err := checkX(X); err != nil {
		return nil, err
	}
	if classes < 2 {
		return nil, fmt.Errorf("mlp: need at least 2 classes, got %d", classes)
	}
	if classes > MaxWidth {
		return nil, fmt.Errorf("mlp: at most %d classes are supported, got %d", MaxWidth, classes)
	}
	if len(y) != len(X) {
		return nil, fmt.Errorf("mlp: %d labels for %d rows", len(y), len(X))
	}
	for i, c := range y {
		if c < 0 || c >= classes {
			return nil, fmt.Errorf("mlp: label %d of row %d is outside [0, %d)", c, i, classes)
		}
	}
	var t task = &softmaxTask{y: y, classes: classes}
	if classes == 2 {
		t = &logisticTask{y: y}
	}
	m, err := train(ctx, X, t, cfg)
	if err != nil {
		return nil, err
	}
	m.YStd = 1
	return m, nil
}

// task is the output side of training: the output activation and its loss.
type task interface {
	kind() string
	outputs() int
	// lossGrad applies the output activation to out (in place), returns the
	// loss of row i and writes ∂loss/∂(pre-activation output) into grad.
	lossGrad(out []float64, i int, grad []float64) float64
}

type regressionTask struct{ y []float64 }

func (*regressionTask) kind() string { return dense.KindRegression }
func (*regressionTask) outputs() int { return 1 }
func (t *regressionTask) lossGrad(out []float64, i int, grad []float64) float64 {
	r := out[0] - t.y[i]
	grad[0] = r
	return 0.5 * r * r
}

type logisticTask struct{ y []int }

func (*logisticTask) kind() string { return dense.KindLogistic }
func (*logisticTask) outputs() int { return 1 }
func (t *logisticTask) lossGrad(out []float64, i int, grad []float64) float64 {
	z, target := out[0], float64(t.y[i])
	out[0] = dense.Sigmoid(z)
	grad[0] = out[0] - target
	// Cross-entropy softplus(z) − y·z, computed without overflow.
	return max(z, 0) + math.Log1p(math.Exp(-math.Abs(z))) - target*z
}

type softmaxTask struct {
	y       []int
	classes int
}

func (*softmaxTask) kind() string   { return dense.KindSoftmax }
func (t *softmaxTask) outputs() int { return t.classes }
func (t *softmaxTask) lossGrad(out []float64, i int, grad []float64) float64 {
	dense.Softmax(out)
	copy(grad, out)
	grad[t.y[i]] -= 1
	return -math.Log(max(out[t.y[i]], 1e-300))
}

// network holds the parameters being trained as one flat vector (so Adam can
// treat them uniformly) plus per-row scratch space.
type network struct {
	sizes  []int     // units per layer, sizes[0] = number of features
	params []float64 // all weights and biases
	wOff   []int     // layer l's weights: params[wOff[l]:], units × inputs, row-major
	bOff   []int     // layer l's biases:  params[bOff[l]:]
	acts   [][]float64
	deltas [][]float64
}

func newNetwork(sizes []int, rng *rand.Rand) *network {
	n := &network{sizes: sizes}
	layers := len(sizes) - 1
	for l := 0; l < layers; l++ {
		n.wOff = append(n.wOff, len(n.params))
		in, units := sizes[l], sizes[l+1]
		// He initialisation, suited to ReLU layers.
		scale := math.Sqrt(2 / float64(in))
		for i := 0; i < in*units; i++ {
			n.params = append(n.params, scale*rng.NormFloat64())
		}
		n.bOff = append(n.bOff, len(n.params))
		n.params = append(n.params, make([]float64, units)...)
	}
	n.acts = make([][]float64, len(sizes))
	n.deltas = make([][]float64, len(sizes))
	for l := 1; l < len(sizes); l++ {
		n.acts[l] = make([]float64, sizes[l])
		n.deltas[l] = make([]float64, sizes[l])
	}
	return n
}

func (n *network) weights(p []float64, l int) []float64 {
	return p[n.wOff[l] : n.wOff[l]+n.sizes[l]*n.sizes[l+1]]
}

func (n *network) bias(p []float64, l int) []float64 {
	return p[n.bOff[l] : n.bOff[l]+n.sizes[l+1]]
}

// forward computes the pre-activation outputs for x into the last entry of
// acts (hidden layers are ReLU'd) and returns it.
func (n *network) forward(x []float64) []float64 {
	n.acts[0] = x
	last := len(n.sizes) - 2
	for l := 0; l <= last; l++ {
		in, out := n.acts[l], n.acts[l+1]
		w, b := n.weights(n.params, l), n.bias(n.params, l)
		for k := range out {
			v := floats.Dot(w[k*len(in):(k+1)*len(in)], in) + b[k]
			if l < last && v < 0 {
				v = 0
			}
			out[k] = v
		}
	}
	return n.acts[len(n.acts)-1]
}

// backward accumulates into grad the gradient for the row last passed to
// forward, given ∂loss/∂output in the last entry of deltas.
func (n *network) backward(grad []float64) {
	for l := len(n.sizes) - 2; l >= 0; l-- {
		in, delta := n.acts[l], n.deltas[l+1]
		gw, gb := n.weights(grad, l), n.bias(grad, l)
		w := n.weights(n.params, l)
		for k, d := range delta {
			if d == 0 {
				continue
			}
			floats.AddScaled(gw[k*len(in):(k+1)*len(in)], d, in)
			gb[k] += d
		}
		if l == 0 {
			break
		}
		// Propagate through the weights and the ReLU of layer l.
		prev := n.deltas[l]
		clear(prev)
		for k, d := range delta {
			if d != 0 {
				floats.AddScaled(prev, d, w[k*len(in):(k+1)*len(in)])
			}
		}
		for j, a := range in {
			if a <= 0 {
				prev[j] = 0
			}
		}
	}
}

// loss returns the mean loss over the given rows (no regularisation).
func (n *network) loss(X [][]float64, rows []int, t task) float64 {
	var sum float64
	out := n.deltas[len(n.deltas)-1] // scratch for the gradient we ignore
	for _, i := range rows {
		sum += t.lossGrad(n.forward(X[i]), i, out)
	}
	return sum / float64(len(rows))
}

// train runs mini-batch Adam with early stopping and returns the best model.
func train(ctx context.Context, X [][]float64, t task, cfg Config) (*Model, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x6d6c70)) // "mlp"
	rows := rng.Perm(len(X))
	nVal := 0
	if cfg.ValidationFraction > 0 {
		nVal = int(math.Round(cfg.ValidationFraction * float64(len(X))))
		if nVal >= len(X) {
			nVal = 0
		}
	}
	trainRows, valRows := rows[nVal:], rows[:nVal]

	sizes := append([]int{len(X[0])}, cfg.Hidden...)
	sizes = append(sizes, t.outputs())
	net := newNetwork(sizes, rng)
	grad := make([]float64, len(net.params))
	adamM := make([]float64, len(net.params))
	adamV := make([]float64, len(net.params))
	isWeight := make([]bool, len(net.params))
	for l := range net.wOff {
		for i := net.wOff[l]; i < net.bOff[l]; i++ {
			isWeight[i] = true
		}
	}

	best := append([]float64(nil), net.params...)
	bestLoss, bestEpoch, sinceBest := math.Inf(1), 0, 0
	step := 0
	outDelta := net.deltas[len(net.deltas)-1]
	for epoch := 1; epoch <= cfg.Epochs; epoch++ {
		rng.Shuffle(len(trainRows), func(i, j int) { trainRows[i], trainRows[j] = trainRows[j], trainRows[i] })
		for start := 0; start < len(trainRows); start += cfg.BatchSize {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			batch := trainRows[start:min(start+cfg.BatchSize, len(trainRows))]
			clear(grad)
			for _, i := range batch {
				t.lossGrad(net.forward(X[i]), i, outDelta)
				net.backward(grad)
			}
			// Adam step on the mean gradient plus weight decay.
			step++
			inv := 1 / float64(len(batch))
			c1 := 1 - math.Pow(adamBeta1, float64(step))
			c2 := 1 - math.Pow(adamBeta2, float64(step))
			for i, g := range grad {
				g *= inv
				if isWeight[i] {
					g += cfg.L2 * net.params[i]
				}
				adamM[i] = adamBeta1*adamM[i] + (1-adamBeta1)*g
				adamV[i] = adamBeta2*adamV[i] + (1-adamBeta2)*g*g
				net.params[i] -= cfg.LearningRate * (adamM[i] / c1) / (math.Sqrt(adamV[i]/c2) + adamEps)
			}
		}
		if err := checkFinite(net.params); err != nil {
			return nil, fmt.Errorf("mlp: training diverged in epoch %d (try a smaller learning rate): %w", epoch, err)
		}
		if nVal == 0 {
			bestEpoch = epoch
			continue
		}
		if l := net.loss(X, valRows, t); l < bestLoss-1e-9 {
			bestLoss, bestEpoch, sinceBest = l, epoch, 0
			copy(best, net.params)
		} else if sinceBest++; sinceBest >= cfg.Patience {
			break
		}
	}
	if nVal > 0 {
		copy(net.params, best)
	}
	m := net.model(t.kind())
	m.Epochs = bestEpoch
	return m, nil
}

// model exports the flat parameters as a Model.
func (n *network) model(kind string) *Model {
	m := &Model{Kind: kind, Layers: make([]Layer, len(n.sizes)-1)}
	for l := range m.Layers {
		in := n.sizes[l]
		w := n.weights(n.params, l)
		layer := &m.Layers[l]
		layer.Bias = append([]float64(nil), n.bias(n.params, l)...)
		for k := 0; k < n.sizes[l+1]; k++ {
			layer.Weights = append(layer.Weights, append([]float64(nil), w[k*in:(k+1)*in]...))
		}
	}
	return m
}

// checkX validates a feature matrix and returns its number of columns.
func checkX(X [][]float64) (int, error) {
	d, err := dense.Check(X)
	if err != nil {
		return 0, fmt.Errorf("mlp: %w", err)
	}
	return d, nil
}

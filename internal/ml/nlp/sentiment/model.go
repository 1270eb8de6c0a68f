package sentiment

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"sync"

	"github.com/sibyldb/sibyldb/internal/ml/nlp/sentiment/wordvec"
)

// Class indices of the three-way stage-1 classifier.
const (
	ClassNegative = 0
	ClassNeutral  = 1
	ClassPositive = 2
	ClassMixed    = 3 // the hashed 4th output; its logit feeds stage 2
)

// NumClasses is the number of hashed-weight outputs per bucket.
const NumClasses = 4

// NumMix is the number of features of the stage-2 MIXED detector.
const NumMix = 10

// Sentiment labels, as returned by Amazon Comprehend DetectSentiment.
const (
	Positive = "POSITIVE"
	Negative = "NEGATIVE"
	Neutral  = "NEUTRAL"
	Mixed    = "MIXED"
)

// Scores are the probabilities of the four labels; they sum to 1.
type Scores struct {
	Positive, Negative, Neutral, Mixed float64
}

// Result is the outcome of Detect.
type Result struct {
	Sentiment string // "POSITIVE" | "NEGATIVE" | "NEUTRAL" | "MIXED"
	Scores    Scores
}

// Confidence returns the score of the returned label.
func (r Result) Confidence() float64 {
	switch r.Sentiment {
	case Positive:
		return r.Scores.Positive
	case Negative:
		return r.Scores.Negative
	case Neutral:
		return r.Scores.Neutral
	default:
		return r.Scores.Mixed
	}
}

// Params are the learned parameters of a Model. They are what the weights
// file stores; the trainer fills them in and calls Encode.
type Params struct {
	Bits  int                           // log2 of the number of hash buckets
	Scale [NumClasses]float32           // de-quantisation scale of W per class
	Bias  [NumClasses]float32           // stage-1 class biases
	Dense [NumDense][NumClasses]float32 // stage-1 weights of the dense lexicon features
	Temp  float32                       // temperature applied to stage-1 logits (calibration)
	MixB  float32                       // stage-2 MIXED bias
	MixW  [NumMix]float32               // stage-2 MIXED weights
	W     []int8                        // quantised hashed weights, [bucket*4 + class]

	// The word-vector layer (Hidden = 0: none): h = Activation(W1·x + B1), logits
	// += W2ᵀh, where x (2*VecDim) is the mean word vector of the tokens
	// outside a negation scope, then of those inside one (see Vocab.Mean).
	Hidden int
	VecDim int
	W1     []float32 // [Hidden][2*VecDim]
	B1     []float32 // [Hidden]
	W2     []float32 // [Hidden][NumClasses]
	// SIF is the smooth-inverse-frequency constant of the pooled word
	// vector (see SIFWeight; 0: plain mean). Stored from format 3 on.
	SIF float32

	// Vocab holds the word vectors the layer was trained with (not stored in
	// the weights file; nil means the embedded wordvec.Default()).
	Vocab *Vocab
}

// Model is a loaded sentiment model. It is safe for concurrent use.
type Model struct {
	p     Params
	shift uint
	pool  sync.Pool
	voc   *Vocab    // nil when p.Hidden == 0
	table []float32 // Vocab.project(W1): per word, 2*Hidden pre-activation terms and its weight
}

//go:embed model.bin.gz
var embedded []byte

var (
	defaultOnce  sync.Once
	defaultModel *Model
	defaultErr   error
)

// Default returns the embedded model, decoded once. It panics if the
// embedded weights are corrupt (a build defect caught by the tests).
func Default() *Model {
	defaultOnce.Do(func() {
		defaultModel, defaultErr = Load(bytes.NewReader(embedded), nil)
	})
	if defaultErr != nil {
		panic("sentiment: embedded model: " + defaultErr.Error())
	}
	return defaultModel
}

var magic = [8]byte{'S', 'I', 'B', 'S', 'E', 'N', 'T', 0}

// formatVersion 3 added Params.SIF; format 2 files (SIF 0) still load, and
// Encode writes format 2 when SIF is 0.
const formatVersion = 3

type header struct {
	Magic          [8]byte
	Format         uint32
	FeatureVersion uint32
	Bits           uint32
	NumDense       uint32
	NumMix         uint32
	NumClasses     uint32
}

// Encode writes p as a gzip-compressed weights file (deterministic bytes).
func (p *Params) Encode(w io.Writer) error {
	if err := p.validate(); err != nil {
		return err
	}
	var raw bytes.Buffer
	// A model without SIF pooling is written in format 2, byte for byte as
	// before format 3 existed.
	format := uint32(formatVersion)
	if p.SIF == 0 {
		format = 2
	}
	h := header{magic, format, FeatureVersion, uint32(p.Bits), NumDense, NumMix, NumClasses}
	binary.Write(&raw, binary.LittleEndian, h)
	binary.Write(&raw, binary.LittleEndian, p.Scale)
	binary.Write(&raw, binary.LittleEndian, p.Bias)
	binary.Write(&raw, binary.LittleEndian, p.Dense)
	binary.Write(&raw, binary.LittleEndian, p.Temp)
	binary.Write(&raw, binary.LittleEndian, p.MixB)
	binary.Write(&raw, binary.LittleEndian, p.MixW)
	binary.Write(&raw, binary.LittleEndian, p.W)
	binary.Write(&raw, binary.LittleEndian, [2]uint32{uint32(p.Hidden), uint32(p.VecDim)})
	binary.Write(&raw, binary.LittleEndian, p.W1)
	binary.Write(&raw, binary.LittleEndian, p.B1)
	binary.Write(&raw, binary.LittleEndian, p.W2)
	if format >= 3 {
		binary.Write(&raw, binary.LittleEndian, p.SIF)
	}
	binary.Write(&raw, binary.LittleEndian, crc32.ChecksumIEEE(raw.Bytes()))
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	if _, err := zw.Write(raw.Bytes()); err != nil {
		return err
	}
	return zw.Close()
}

func finite32(xs ...float32) bool {
	for _, x := range xs {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return false
		}
	}
	return true
}

func (p *Params) validate() error {
	if p.Bits < 8 || p.Bits > 24 {
		return fmt.Errorf("sentiment: bad hash bits %d", p.Bits)
	}
	if len(p.W) != NumClasses<<p.Bits {
		return fmt.Errorf("sentiment: %d weights, want %d", len(p.W), NumClasses<<p.Bits)
	}
	if !finite32(p.Scale[:]...) || !finite32(p.Bias[:]...) || !finite32(p.Temp, p.MixB) || !finite32(p.MixW[:]...) {
		return errors.New("sentiment: non-finite parameter")
	}
	for i := range p.Dense {
		if !finite32(p.Dense[i][:]...) {
			return errors.New("sentiment: non-finite parameter")
		}
	}
	if p.Hidden < 0 || p.Hidden > maxHidden || p.VecDim < 0 || p.VecDim > 4096 || (p.Hidden > 0) != (p.VecDim > 0) {
		return fmt.Errorf("sentiment: bad word-vector layer shape %d x %d", p.Hidden, p.VecDim)
	}
	if len(p.W1) != p.Hidden*2*p.VecDim || len(p.B1) != p.Hidden || len(p.W2) != p.Hidden*NumClasses {
		return errors.New("sentiment: word-vector layer size mismatch")
	}
	if !finite32(p.W1...) || !finite32(p.B1...) || !finite32(p.W2...) || !finite32(p.SIF) || p.SIF < 0 {
		return errors.New("sentiment: non-finite parameter")
	}
	if !(p.Temp > 0.01 && p.Temp < 100) {
		return fmt.Errorf("sentiment: bad temperature %v", p.Temp)
	}
	return nil
}

// Load decodes a weights file written by Params.Encode (cmd/train-sentiment).
// A corrupt or truncated file is reported as an error. voc is the word
// vectors the weights were trained with (nil: the embedded ones).
func Load(r io.Reader, voc *Vocab) (*Model, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("sentiment: weights: %w", err)
	}
	defer zr.Close()
	crc := crc32.NewIEEE()
	tr := io.TeeReader(zr, crc)
	var h header
	if err := binary.Read(tr, binary.LittleEndian, &h); err != nil {
		return nil, fmt.Errorf("sentiment: weights header: %w", err)
	}
	if h.Magic != magic {
		return nil, errors.New("sentiment: not a sentiment weights file")
	}
	if (h.Format != formatVersion && h.Format != 2) || h.FeatureVersion != FeatureVersion {
		return nil, fmt.Errorf("sentiment: unsupported weights version %d/%d", h.Format, h.FeatureVersion)
	}
	if h.NumDense != NumDense || h.NumMix != NumMix || h.NumClasses != NumClasses || h.Bits < 8 || h.Bits > 24 {
		return nil, errors.New("sentiment: weights file shape mismatch")
	}
	var p Params
	p.Bits = int(h.Bits)
	for _, v := range []any{&p.Scale, &p.Bias, &p.Dense, &p.Temp, &p.MixB, &p.MixW} {
		if err := binary.Read(tr, binary.LittleEndian, v); err != nil {
			return nil, fmt.Errorf("sentiment: weights: %w", err)
		}
	}
	p.W = make([]int8, NumClasses<<p.Bits)
	if err := binary.Read(tr, binary.LittleEndian, p.W); err != nil {
		return nil, fmt.Errorf("sentiment: weights: %w", err)
	}
	var shape [2]uint32
	if err := binary.Read(tr, binary.LittleEndian, &shape); err != nil {
		return nil, fmt.Errorf("sentiment: weights: %w", err)
	}
	if shape[0] > 1024 || shape[1] > 4096 {
		return nil, errors.New("sentiment: weights file shape mismatch")
	}
	p.Hidden, p.VecDim = int(shape[0]), int(shape[1])
	p.W1 = make([]float32, p.Hidden*2*p.VecDim)
	p.B1 = make([]float32, p.Hidden)
	p.W2 = make([]float32, p.Hidden*NumClasses)
	for _, v := range []any{p.W1, p.B1, p.W2} {
		if err := binary.Read(tr, binary.LittleEndian, v); err != nil {
			return nil, fmt.Errorf("sentiment: weights: %w", err)
		}
	}
	if h.Format >= 3 {
		if err := binary.Read(tr, binary.LittleEndian, &p.SIF); err != nil {
			return nil, fmt.Errorf("sentiment: weights: %w", err)
		}
	}
	p.Vocab = voc
	sum := crc.Sum32()
	var stored uint32
	if err := binary.Read(zr, binary.LittleEndian, &stored); err != nil {
		return nil, fmt.Errorf("sentiment: weights checksum: %w", err)
	}
	if stored != sum {
		return nil, errors.New("sentiment: weights checksum mismatch")
	}
	// Drain to EOF so that gzip verifies its own CRC and length trailer.
	n, err := io.Copy(io.Discard, io.LimitReader(zr, 1))
	if err != nil {
		return nil, fmt.Errorf("sentiment: weights: %w", err)
	}
	if n != 0 {
		return nil, errors.New("sentiment: trailing data in weights file")
	}
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return nil, fmt.Errorf("sentiment: weights: %w", err)
	}
	return New(&p)
}

// New builds a Model from parameters (used by the trainer).
func New(p *Params) (*Model, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	m := &Model{p: *p, shift: uint(64 - p.Bits)}
	if p.Hidden > 0 {
		m.voc = p.Vocab
		if m.voc == nil {
			m.voc = defaultVocab()
		}
		if m.voc.vecs.Dim() != p.VecDim {
			return nil, fmt.Errorf("sentiment: weights want %d-dimension word vectors, have %d", p.VecDim, m.voc.vecs.Dim())
		}
		m.table = m.voc.project(p.W1, p.Hidden, p.SIF)
	}
	m.pool.New = func() any {
		return &Features{Keys: make([]uint64, 0, 256), Vec: make([]int32, 0, 64), Segs: make([]SegStats, 0, 8), norm: make([]byte, 0, 256)}
	}
	return m, nil
}

var (
	vocabOnce sync.Once
	vocab     *Vocab
)

// defaultVocab indexes the embedded word vectors, once.
func defaultVocab() *Vocab {
	vocabOnce.Do(func() { vocab = NewVocab(wordvec.Default()) })
	return vocab
}

// Vocab returns the word vectors of the model (nil if it uses none).
func (m *Model) Vocab() *Vocab { return m.voc }

// Params returns a copy of the model's parameters (the weights slice is shared).
func (m *Model) Params() Params { return m.p }

// logits computes the stage-1 (un-tempered) logits of keys with the given
// lexicon statistics: NEG, NEU, POS and the hashed MIXED logit.
func (m *Model) logits(keys []uint64, vec []int32, pos, neg float32, nlex, ntok int) [NumClasses]float64 {
	var s0, s1, s2, s3 int32
	w := m.p.W
	for _, k := range keys {
		b := int(k>>m.shift) * NumClasses
		ws := w[b : b+NumClasses : b+NumClasses]
		s0 += int32(ws[0])
		s1 += int32(ws[1])
		s2 += int32(ws[2])
		s3 += int32(ws[3])
	}
	var d [NumDense]float32
	Dense(pos, neg, nlex, ntok, &d)
	var z [NumClasses]float64
	inv := 0.0
	if len(keys) > 0 {
		inv = 1 / math.Sqrt(float64(len(keys)))
	}
	sums := [NumClasses]int32{s0, s1, s2, s3}
	for c := 0; c < NumClasses; c++ {
		v := float64(m.p.Bias[c]) + float64(m.p.Scale[c])*float64(sums[c])*inv
		for k := 0; k < NumDense; k++ {
			v += float64(d[k]) * float64(m.p.Dense[k][c])
		}
		z[c] = v
	}
	if h := m.p.Hidden; h > 0 {
		var acc [maxHidden]float32
		a := acc[:h]
		stride := 2*h + 1
		var sw float32
		for _, i := range vec {
			off := 0
			if i < 0 {
				i, off = -i-1, h
			}
			base := int(i) * stride
			sw += m.table[base+2*h]
			row := m.table[base+off : base+off+h]
			for j, x := range row {
				a[j] += x
			}
		}
		inv := 0.0
		if sw > 0 {
			inv = 1 / float64(sw)
		}
		for j, x := range a {
			hj := Activation(float64(m.p.B1[j]) + float64(x)*inv)
			w2 := m.p.W2[j*NumClasses : j*NumClasses+NumClasses]
			for c := range z {
				z[c] += hj * float64(w2[c])
			}
		}
	}
	return z
}

// maxHidden bounds Params.Hidden for the stack buffer of logits.
const maxHidden = 256

func first3(z [NumClasses]float64) [3]float64 { return [3]float64{z[0], z[1], z[2]} }

func softmax3(z [3]float64, t float64) [3]float64 {
	mx := math.Max(z[0], math.Max(z[1], z[2]))
	var p [3]float64
	s := 0.0
	for c := range z {
		p[c] = math.Exp((z[c] - mx) / t)
		s += p[c]
	}
	for c := range p {
		p[c] /= s
	}
	return p
}

// Analysis exposes the internals of one prediction (for the trainer and
// diagnostics).
type Analysis struct {
	Logits [NumClasses]float64 // stage-1 logits of the whole text, before temperature
	Probs  [3]float64          // calibrated stage-1 probabilities (NEG, NEU, POS)
	Mix    [NumMix]float64     // stage-2 features
	Result Result
}

// Analyze scores text and returns the intermediate values.
func (m *Model) Analyze(text string) Analysis {
	f := m.pool.Get().(*Features)
	extract(text, f, m.voc)
	a := m.analyze(f)
	if cap(f.Keys) > 4096 {
		f.Keys = make([]uint64, 0, 256)
	}
	if cap(f.Vec) > 4096 {
		f.Vec = make([]int32, 0, 64)
	}
	if cap(f.norm) > 1<<16 {
		f.norm = make([]byte, 0, 256)
	}
	m.pool.Put(f)
	return a
}

// Detect returns the sentiment of an English text.
func (m *Model) Detect(text string) Result {
	return m.Analyze(text).Result
}

func (m *Model) analyze(f *Features) Analysis {
	var a Analysis
	t := float64(m.p.Temp)
	a.Logits = m.logits(f.Keys, f.Vec, f.Pos, f.Neg, f.NLex, f.NTok)
	p := softmax3(first3(a.Logits), t)
	a.Probs = p
	maxPos, maxNeg := 0.0, 0.0
	nseg := 0
	contrastPair := 0.0
	prevPos, prevNeg := -1.0, -1.0
	for i := range f.Segs {
		s := &f.Segs[i]
		if s.NTok < 2 || s.End <= s.Start {
			continue
		}
		nseg++
		ps := softmax3(first3(m.logits(f.Keys[s.Start:s.End], f.Vec[s.VStart:s.VEnd], s.Pos, s.Neg, s.NLex, s.NTok)), t)
		if s.Contrast && prevPos >= 0 {
			// opposite polarity across a contrastive connective
			v := math.Max(math.Min(prevPos, ps[ClassNegative]), math.Min(prevNeg, ps[ClassPositive]))
			contrastPair = math.Max(contrastPair, v)
		}
		prevPos = math.Max(prevPos, ps[ClassPositive])
		prevNeg = math.Max(prevNeg, ps[ClassNegative])
		maxPos = math.Max(maxPos, ps[ClassPositive])
		maxNeg = math.Max(maxNeg, ps[ClassNegative])
	}
	multi := 0.0
	if nseg >= 2 {
		multi = 1
	} else {
		maxPos, maxNeg = p[ClassPositive], p[ClassNegative]
	}
	contrast := 0.0
	if f.Contrast {
		contrast = 1
	}
	var d [NumDense]float32
	Dense(f.Pos, f.Neg, f.NLex, f.NTok, &d)
	mn := math.Min(maxPos, maxNeg)
	a.Mix = [NumMix]float64{
		4 * p[ClassPositive] * p[ClassNegative],
		mn,
		mn * multi,
		contrast,
		multi,
		float64(d[3]),
		p[ClassNeutral],
		math.Log1p(float64(f.NTok)) / 3,
		contrastPair,
		(a.Logits[ClassMixed] - math.Max(a.Logits[0], math.Max(a.Logits[1], a.Logits[2]))) / 5,
	}
	z := float64(m.p.MixB)
	for i, v := range a.Mix {
		z += float64(m.p.MixW[i]) * v
	}
	mixed := 1 / (1 + math.Exp(-z))
	rest := 1 - mixed
	sc := Scores{
		Negative: rest * p[ClassNegative],
		Neutral:  rest * p[ClassNeutral],
		Positive: rest * p[ClassPositive],
		Mixed:    mixed,
	}
	a.Result = Result{Scores: sc, Sentiment: argmax(sc)}
	return a
}

func argmax(s Scores) string {
	best, lab := s.Positive, Positive
	if s.Negative > best {
		best, lab = s.Negative, Negative
	}
	if s.Neutral > best {
		best, lab = s.Neutral, Neutral
	}
	if s.Mixed > best {
		lab = Mixed
	}
	return lab
}

// BinaryPositive applies the documented rule for binary (positive/negative)
// evaluation: POSITIVE iff P(pos)+P(mixed)/2 >= P(neg)+P(mixed)/2, i.e.
// iff P(pos) >= P(neg). It never yields NEUTRAL.
func BinaryPositive(s Scores) bool { return s.Positive >= s.Negative }

package model

import (
	"fmt"
	"runtime"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/sibyldb/sibyldb/internal/ml/onnxrt"
)

// ONNXModel is a tabular ONNX model brought with CREATE MODEL: one float
// input [batch, features] and a float output [batch] or [batch, outputs].
// Unlike the models SibylDB trains, it runs in ONNX Runtime (cgo).
type ONNXModel struct {
	session  *ort.DynamicAdvancedSession
	cleanup  runtime.Cleanup
	Features int
	Outputs  int
}

// LoadONNX checks a model's signature and opens a session for it.
func LoadONNX(data []byte) (*ONNXModel, error) {
	if err := onnxrt.Ready(); err != nil {
		return nil, err
	}
	ins, outs, err := ort.GetInputOutputInfoWithONNXData(data)
	if err != nil {
		return nil, fmt.Errorf("ONNX model: %w", err)
	}
	if len(ins) != 1 || len(outs) < 1 {
		return nil, fmt.Errorf("ONNX model has %d inputs and %d outputs; want one float input [batch, features]", len(ins), len(outs))
	}
	in, out := ins[0], outs[0]
	if in.DataType != ort.TensorElementDataTypeFloat || len(in.Dimensions) != 2 || in.Dimensions[1] < 1 {
		return nil, fmt.Errorf("ONNX model input %q is %v %v; want float [batch, features]", in.Name, in.DataType, in.Dimensions)
	}
	m := &ONNXModel{Features: int(in.Dimensions[1]), Outputs: 1}
	switch {
	case out.DataType != ort.TensorElementDataTypeFloat:
		return nil, fmt.Errorf("ONNX model output %q is %v; want float", out.Name, out.DataType)
	case len(out.Dimensions) == 2 && out.Dimensions[1] > 0:
		m.Outputs = int(out.Dimensions[1])
	case len(out.Dimensions) != 1:
		return nil, fmt.Errorf("ONNX model output %q has shape %v; want [batch] or [batch, outputs]", out.Name, out.Dimensions)
	}
	if m.session, err = ort.NewDynamicAdvancedSessionWithONNXData(data, []string{in.Name}, []string{out.Name}, nil); err != nil {
		return nil, fmt.Errorf("ONNX model: %w", err)
	}
	// A dropped model's session goes once no statement can use it.
	m.cleanup = runtime.AddCleanup(m, func(s *ort.DynamicAdvancedSession) { _ = s.Destroy() }, m.session)
	return m, nil
}

// Predict scores one row.
func (m *ONNXModel) Predict(x, out []float64) error {
	res, err := m.PredictBatch([][]float64{x})
	if err != nil {
		return err
	}
	copy(out, res[0])
	return nil
}

// PredictBatch scores rows in one ONNX Runtime call; sessions are safe for
// concurrent runs.
func (m *ONNXModel) PredictBatch(xs [][]float64) ([][]float64, error) {
	n := len(xs)
	in := make([]float32, n*m.Features)
	for r, x := range xs {
		for i := 0; i < m.Features; i++ {
			in[r*m.Features+i] = float32(x[i])
		}
	}
	it, err := ort.NewTensor(ort.NewShape(int64(n), int64(m.Features)), in)
	if err != nil {
		return nil, err
	}
	defer it.Destroy()
	ot, err := ort.NewEmptyTensor[float32](ort.NewShape(int64(n), int64(m.Outputs)))
	if err != nil {
		return nil, err
	}
	defer ot.Destroy()
	if err := m.session.Run([]ort.Value{it}, []ort.Value{ot}); err != nil {
		return nil, fmt.Errorf("ONNX Runtime: %w", err)
	}
	data := ot.GetData()
	out := make([][]float64, n)
	for r := range out {
		out[r] = make([]float64, m.Outputs)
		for k := range out[r] {
			out[r][k] = float64(data[r*m.Outputs+k])
		}
	}
	return out, nil
}

// Close releases the session now rather than when m is collected.
func (m *ONNXModel) Close() {
	m.cleanup.Stop()
	_ = m.session.Destroy()
}

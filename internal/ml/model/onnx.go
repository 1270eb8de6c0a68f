package model

import (
	"fmt"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/sibyldb/sibyldb/internal/ml/onnxrt"
)

// ONNXModel is a tabular ONNX model brought with CREATE MODEL: one float
// input [batch, features] and a float output [batch] or [batch, outputs].
// Unlike the models SibylDB trains, it runs in ONNX Runtime (cgo).
type ONNXModel struct {
	session  *ort.DynamicAdvancedSession
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
	return m, nil
}

// Predict scores one row; ONNX Runtime sessions are safe for concurrent
// runs.
func (m *ONNXModel) Predict(x, out []float64) error {
	in := make([]float32, m.Features)
	for i := range in {
		in[i] = float32(x[i])
	}
	it, err := ort.NewTensor(ort.NewShape(1, int64(m.Features)), in)
	if err != nil {
		return err
	}
	defer it.Destroy()
	shape := ort.NewShape(1, int64(m.Outputs))
	ot, err := ort.NewEmptyTensor[float32](shape)
	if err != nil {
		return err
	}
	defer ot.Destroy()
	if err := m.session.Run([]ort.Value{it}, []ort.Value{ot}); err != nil {
		return fmt.Errorf("ONNX Runtime: %w", err)
	}
	for k, v := range ot.GetData() {
		out[k] = float64(v)
	}
	return nil
}

// Close releases the session.
func (m *ONNXModel) Close() { _ = m.session.Destroy() }

package models

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"

	"github.com/sibyldb/sibyldb/internal/fileaccess"
	"github.com/sibyldb/sibyldb/internal/ml/gbtree"
	"github.com/sibyldb/sibyldb/internal/ml/mlfunc"
	"github.com/sibyldb/sibyldb/internal/ml/model"
	"github.com/sibyldb/sibyldb/internal/ml/xgb"
	"github.com/sibyldb/sibyldb/internal/privilege"
)

// ErrBadModelFile is returned for a model file that cannot be used.
var ErrBadModelFile = errors.New("invalid model file")

// maxModelFile bounds the size of a model file brought in.
const maxModelFile = 512 << 20

// byomParams names the parameters of a function over a model brought from
// outside: its inputs have no column names.
func byomParams(typs []string) []mlfunc.Param {
	ps := make([]mlfunc.Param, len(typs))
	for i, t := range typs {
		ps[i] = mlfunc.Param{Name: "p" + strconv.Itoa(i+1), Type: t}
	}
	return ps
}

// createRemote binds a model served by a SageMaker(-compatible) endpoint:
// its function is an endpoint function, batched and governed like those
// of CREATE FUNCTION ... ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT.
func (m *Manager) createRemote(ctx *sql.Context, md *Model) error {
	if m.Endpoints == nil {
		return errors.New("remote models are not available")
	}
	md.Params = byomParams(md.ParamTypes)
	md.TargetType = md.Returns
	md.State, md.Finished = Ready, time.Now().UTC()
	def := &mlfunc.FunctionDef{DB: md.DB, Name: md.Function, Params: md.Params, Returns: md.Returns,
		Endpoint: md.SageMaker, Definer: md.Owner, Security: "DEFINER"}
	if err := m.Endpoints.CreateFunction(ctx, def); err != nil {
		return err
	}
	if err := m.put(ctx, md); err != nil {
		_, _ = m.Endpoints.DropFunction(ctx, md.DB, md.Function)
		return err
	}
	return nil
}

// createFromFile loads a model file (XGBoost JSON or UBJSON, LightGBM text) from
// secure_file_priv or, through Fetch, from S3; validates it; and binds its
// function.
func (m *Manager) createFromFile(ctx *sql.Context, md *Model) error {
	var data []byte
	var err error
	if strings.HasPrefix(strings.ToLower(md.FromURI), "file://") || m.Fetch == nil {
		// As LOAD DATA INFILE: reading a server file needs FILE.
		if m.CanReadFiles != nil && !m.CanReadFiles(ctx) {
			return privilege.Denied("FILE")
		}
		data, err = readModelFile(md.FromURI)
	} else {
		data, err = m.Fetch(ctx, md.FromURI, maxModelFile)
	}
	if err != nil {
		return err
	}
	art, err := importModel(data, len(md.ParamTypes))
	if err != nil {
		return err
	}
	pred, err := art.Compile()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadModelFile, err)
	}
	md.Params = byomParams(md.ParamTypes)
	md.TargetType, md.Problem = md.Returns, art.Problem
	md.State, md.Finished, md.Artifact, md.predictor = Ready, time.Now().UTC(), art, pred
	if err := m.register(ctx, md); err != nil {
		return err
	}
	if err := m.put(ctx, md); err != nil {
		m.unregister(md)
		return err
	}
	m.writeArtifact(md)
	return nil
}

// readModelFile reads a file:// URI inside secure_file_priv: CREATE MODEL
// must not become a way to read any file the server can.
func readModelFile(uri string) ([]byte, error) {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme == "" {
		return nil, fmt.Errorf("%w: '%s' is not a URI (use 'file:///path')", ErrBadModelFile, uri)
	}
	if u.Scheme != "file" {
		return nil, fmt.Errorf("%w: %s:// model sources are not supported (use 'file:///path' or 's3://bucket/key')", ErrBadModelFile, u.Scheme)
	}
	dir := fileaccess.SecureFilePriv()
	data, err := fileaccess.ReadFile(dir, u.Path, maxModelFile)
	switch {
	case err == nil:
		return data, nil
	case errors.Is(err, fileaccess.ErrNoDir):
		return nil, fmt.Errorf("%w: secure_file_priv is not set, so model files cannot be read", ErrBadModelFile)
	case errors.Is(err, fileaccess.ErrOutside):
		return nil, mysql.NewSQLError(mysql.EROptionPreventsStatement, "HY000",
			"The MySQL server is running with the --secure-file-priv option so it cannot execute this statement (model files must be under %s)", dir)
	}
	return nil, fmt.Errorf("%w: %w", ErrBadModelFile, err)
}

// importModel turns an XGBoost model (JSON or UBJSON) into an artifact
// whose features are the function's n parameters.
func importModel(data []byte, n int) (*model.Artifact, error) {
	trimmed := bytes.TrimSpace(data)
	switch {
	case len(trimmed) == 0:
		return nil, fmt.Errorf("%w: the file is empty", ErrBadModelFile)
	case bytes.HasPrefix(trimmed, []byte("tree\n")):
		return importLightGBM(string(trimmed), n)
	case data[0] == 0x08:
		// An ONNX ModelProto starts with ir_version (field 1, varint).
		return importONNX(data, n)
	}
	var js []byte
	if json.Valid(trimmed) {
		js = trimmed
	} else {
		// UBJSON: let libxgboost read it and write JSON.
		b, err := xgb.Load(data)
		if err != nil {
			return nil, fmt.Errorf("%w: not an XGBoost, LightGBM or ONNX model: %v", ErrBadModelFile, err)
		}
		defer b.Close()
		if js, err = b.JSON(); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadModelFile, err)
		}
	}
	trees, err := gbtree.Parse(js)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadModelFile, err)
	}
	if trees.NumFeatures() != n {
		return nil, fmt.Errorf("%w: the model takes %d features but the function declares %d parameters", ErrBadModelFile, trees.NumFeatures(), n)
	}
	art := &model.Artifact{Algorithm: model.XGBoost, Problem: model.Regression, Encoder: model.Encoder{Features: byomFeatures(n)}, XGBoost: js}
	switch obj := trees.Objective(); {
	case obj == "binary:logistic":
		art.Problem, art.Classes = model.Binary, []string{"0", "1"}
	case strings.HasPrefix(obj, "multi:"):
		art.Problem = model.Multiclass
		for k := 0; k < trees.NumOutputs(); k++ {
			art.Classes = append(art.Classes, strconv.Itoa(k))
		}
	}
	return art, nil
}

// importONNX makes an artifact of a tabular ONNX model (one float input
// [batch, n]); a single output is a value, several are class scores.
func importONNX(data []byte, n int) (*model.Artifact, error) {
	m, err := model.LoadONNX(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadModelFile, err)
	}
	defer m.Close()
	if m.Features != n {
		return nil, fmt.Errorf("%w: the model takes %d features but the function declares %d parameters", ErrBadModelFile, m.Features, n)
	}
	art := &model.Artifact{Algorithm: model.ONNX, Problem: model.Regression, Encoder: model.Encoder{Features: byomFeatures(n)}, ONNXData: data}
	if m.Outputs > 1 {
		art.Problem = model.Multiclass
		for k := 0; k < m.Outputs; k++ {
			art.Classes = append(art.Classes, strconv.Itoa(k))
		}
	}
	return art, nil
}

// importLightGBM makes an artifact of a LightGBM text model whose features
// are the function's n parameters.
func importLightGBM(text string, n int) (*model.Artifact, error) {
	features, problem, classes, err := model.LightGBMInfo(text)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadModelFile, err)
	}
	if features != n {
		return nil, fmt.Errorf("%w: the model takes %d features but the function declares %d parameters", ErrBadModelFile, features, n)
	}
	return &model.Artifact{Algorithm: model.LightGBM, Problem: problem, Classes: classes,
		Encoder: model.Encoder{Features: byomFeatures(n)}, LightGBMText: text}, nil
}

// byomFeatures are the numeric features p1..pn of a model brought from
// outside.
func byomFeatures(n int) []model.Feature {
	feats := make([]model.Feature, n)
	for i := range feats {
		feats[i] = model.Feature{Name: "p" + strconv.Itoa(i+1), Kind: model.Numeric, Mean: []float64{0}, Std: []float64{1}}
	}
	return feats
}

// Served is a model as `sibyldb serve-model` loads it.
type Served struct {
	Name       string          `json:"name"`
	Params     []mlfunc.Param  `json:"params"`
	TargetType string          `json:"target_type,omitempty"`
	Artifact   *model.Artifact `json:"artifact"`
}

// ServedModel is the file a ready model is deployed as.
func ServedModel(md *Model) ([]byte, error) {
	if md.Artifact == nil {
		return nil, ErrNotReady
	}
	return json.Marshal(Served{Name: md.Name, Params: md.Params, TargetType: md.TargetType, Artifact: md.Artifact})
}

// Predict returns the served model's prediction for one row of parameter
// values, as its SQL function would.
func (s *Served) Predict(p *model.Predictor, row []any) (any, error) {
	if len(row) != len(s.Params) {
		return nil, fmt.Errorf("expected %d values, got %d", len(s.Params), len(row))
	}
	return result(p, outPredict, row, make([]float64, p.Width()), make([]float64, p.NumOutputs()))
}

// LoadServed reads a model file written for serve-model.
func LoadServed(data []byte) (*Served, *model.Predictor, error) {
	var s Served
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrBadModelFile, err)
	}
	if s.Artifact == nil {
		return nil, nil, fmt.Errorf("%w: no model in the file", ErrBadModelFile)
	}
	p, err := s.Artifact.Compile()
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrBadModelFile, err)
	}
	if len(s.Params) != len(s.Artifact.Encoder.Features) {
		return nil, nil, fmt.Errorf("%w: %d parameters for %d features", ErrBadModelFile, len(s.Params), len(s.Artifact.Encoder.Features))
	}
	return &s, p, nil
}

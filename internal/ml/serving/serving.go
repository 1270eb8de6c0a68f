// Package serving serves a model trained in SQL over the SageMaker
// inference container contract (GET /ping, POST /invocations with
// text/csv), so it can be deployed and scaled as its own service and called
// back through CREATE FUNCTION ... ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT or
// any SageMaker client.
package serving

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/sibyldb/sibyldb/internal/ml/model"
	"github.com/sibyldb/sibyldb/internal/ml/models"
)

// MaxPayload is SageMaker's request size limit.
const MaxPayload = 6 << 20

// Handler answers the container contract for one model.
type Handler struct {
	served *models.Served
	pred   *model.Predictor
}

// NewHandler serves the model file written by the server (see
// models.ServedModel).
func NewHandler(data []byte) (*Handler, error) {
	s, p, err := models.LoadServed(data)
	if err != nil {
		return nil, err
	}
	return &Handler{served: s, pred: p}, nil
}

// Name is the served model's name.
func (h *Handler) Name() string { return h.served.Name }

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/ping":
		if r.Method != http.MethodGet {
			http.Error(w, "use GET", http.StatusMethodNotAllowed)
			return
		}
		w.WriteHeader(http.StatusOK)
	case "/invocations":
		if r.Method != http.MethodPost {
			http.Error(w, "use POST", http.StatusMethodNotAllowed)
			return
		}
		h.invocations(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (h *Handler) invocations(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "text/csv" {
			http.Error(w, fmt.Sprintf("unsupported content type %q: send text/csv", ct), http.StatusUnsupportedMediaType)
			return
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxPayload+1))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if len(body) > MaxPayload {
		http.Error(w, "payload over 6 MB", http.StatusRequestEntityTooLarge)
		return
	}
	out, err := h.Predict(string(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/csv")
	_, _ = io.WriteString(w, out)
}

// Predict answers a CSV payload: one prediction per input line. Empty
// fields are NULL.
func (h *Handler) Predict(payload string) (string, error) {
	rd := csv.NewReader(strings.NewReader(payload))
	rd.FieldsPerRecord = len(h.served.Params)
	var sb strings.Builder
	wr := csv.NewWriter(&sb)
	for line := 1; ; line++ {
		rec, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", fmt.Errorf("line %d: %w (model %s takes %d values per line)", line, err, h.served.Name, len(h.served.Params))
		}
		row := make([]any, len(rec))
		for i, f := range rec {
			if f != "" {
				row[i] = f
			}
		}
		v, err := h.served.Predict(h.pred, row)
		if err != nil {
			return "", fmt.Errorf("line %d: %w", line, err)
		}
		field := ""
		switch x := v.(type) {
		case nil:
		case float64:
			field = strconv.FormatFloat(x, 'g', -1, 64)
		default:
			field = model.Label(x)
		}
		_ = wr.Write([]string{field})
	}
	wr.Flush()
	return sb.String(), wr.Error()
}

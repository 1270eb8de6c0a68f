package remote

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// SageMakerCodec speaks the SageMaker runtime contract: one CSV line per row
// (RFC 4180, NULL as an empty field) with Content-Type text/csv; the answer
// is CSV lines or JSON, one result per row.
type SageMakerCodec struct{}

// Path implements Codec: the container contract's invocation path.
func (SageMakerCodec) Path(string) string { return "/invocations" }

// RowsPerRequest implements Codec.
func (SageMakerCodec) RowsPerRequest() int { return 0 }

// Encode implements Codec. encoding/csv quotes exactly the fields RFC 4180
// requires (commas, quotes, CR/LF).
func (SageMakerCodec) Encode(req Request) ([]byte, string, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	rec := make([]string, 0, len(req.Columns))
	for _, row := range req.Rows {
		rec = rec[:0]
		for _, v := range row {
			s, err := FormatValue(v)
			if err != nil {
				return nil, "", err
			}
			rec = append(rec, s)
		}
		// A lone empty field would be a blank line, which CSV readers skip;
		// quote it so every row keeps its line.
		if len(rec) == 1 && rec[0] == "" {
			w.Flush()
			buf.WriteString("\"\"\n")
			continue
		}
		if err := w.Write(rec); err != nil {
			return nil, "", err
		}
	}
	w.Flush()
	return buf.Bytes(), "text/csv", w.Error()
}

// Decode implements Codec.
func (SageMakerCodec) Decode(contentType string, body []byte, rows int) ([]any, error) {
	return DecodePredictions(contentType, body, rows)
}

// DecodePredictions reads one result per row from a JSON body
// ({"predictions": [...]}, {"outputs"/"results": [...]}, or a bare array) or
// from CSV/text lines. A row whose result has several values yields the
// first.
func DecodePredictions(contentType string, body []byte, rows int) ([]any, error) {
	trimmed := bytes.TrimSpace(body)
	var out []any
	if strings.Contains(contentType, "json") || (len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[')) {
		var err error
		if out, err = decodeJSONPredictions(trimmed); err != nil {
			return nil, err
		}
	} else {
		r := csv.NewReader(bytes.NewReader(trimmed))
		r.FieldsPerRecord = -1
		for {
			rec, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("CSV: %w", err)
			}
			if len(rec) == 0 || (len(rec) == 1 && rec[0] == "") {
				out = append(out, nil)
				continue
			}
			out = append(out, rec[0])
		}
	}
	if len(out) != rows {
		return nil, fmt.Errorf("%d results for %d rows", len(out), rows)
	}
	return out, nil
}

func decodeJSONPredictions(body []byte) ([]any, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("JSON: %w", err)
	}
	if obj, ok := v.(map[string]any); ok {
		found := false
		for _, k := range []string{"predictions", "outputs", "results", "scores", "data"} {
			if inner, ok := obj[k]; ok {
				v, found = inner, true
				break
			}
		}
		if !found {
			return nil, errors.New(`JSON object has no "predictions" array`)
		}
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, errors.New("JSON predictions are not an array")
	}
	out := make([]any, len(arr))
	for i, p := range arr {
		out[i] = firstScalar(p)
	}
	return out, nil
}

// firstScalar reduces a per-row result to one value: the first element of an
// array, the only value of a one-key object, else the value itself.
func firstScalar(v any) any {
	for {
		switch t := v.(type) {
		case []any:
			if len(t) == 0 {
				return nil
			}
			v = t[0]
		case map[string]any:
			if len(t) == 1 {
				for _, inner := range t {
					v = inner
				}
				continue
			}
			for _, k := range []string{"predicted_label", "label", "prediction", "score", "value"} {
				if inner, ok := t[k]; ok {
					return firstScalar(inner)
				}
			}
			b, _ := json.Marshal(t)
			return string(b)
		case json.Number:
			if f, err := t.Float64(); err == nil {
				return f
			}
			return t.String()
		default:
			return v
		}
	}
}

// FormatValue renders a SQL value as a CSV field. Time values use MySQL's
// literal format; NULL is the empty string.
func FormatValue(v any) (string, error) {
	switch t := v.(type) {
	case nil:
		return "", nil
	case string:
		return t, nil
	case []byte:
		return string(t), nil
	case bool:
		if t {
			return "1", nil
		}
		return "0", nil
	case int:
		return strconv.FormatInt(int64(t), 10), nil
	case int8:
		return strconv.FormatInt(int64(t), 10), nil
	case int16:
		return strconv.FormatInt(int64(t), 10), nil
	case int32:
		return strconv.FormatInt(int64(t), 10), nil
	case int64:
		return strconv.FormatInt(t, 10), nil
	case uint:
		return strconv.FormatUint(uint64(t), 10), nil
	case uint8:
		return strconv.FormatUint(uint64(t), 10), nil
	case uint16:
		return strconv.FormatUint(uint64(t), 10), nil
	case uint32:
		return strconv.FormatUint(uint64(t), 10), nil
	case uint64:
		return strconv.FormatUint(t, 10), nil
	case float32:
		return strconv.FormatFloat(float64(t), 'g', -1, 32), nil
	case float64:
		return strconv.FormatFloat(t, 'g', -1, 64), nil
	case time.Time:
		if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0 {
			return t.Format("2006-01-02"), nil
		}
		return t.Format("2006-01-02 15:04:05.999999"), nil
	case *big.Int:
		return t.String(), nil
	case fmt.Stringer:
		return t.String(), nil
	}
	return "", fmt.Errorf("cannot send a value of type %T", v)
}

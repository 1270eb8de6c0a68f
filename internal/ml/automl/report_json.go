package automl

import (
	"encoding/json"
	"math"
)

// jsonFloat is a float64 that JSON can carry whatever its value: NaN and
// the infinities, which JSON has no spelling for, are written as null and
// read back as NaN. An unsupervised model's validation score is NaN (it
// holds out no rows), and so is a failed candidate's; encoding/json
// refuses them, which once kept such models from being stored at all.
type jsonFloat float64

// MarshalJSON implements json.Marshaler.
func (f jsonFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(v)
}

// UnmarshalJSON implements json.Unmarshaler.
func (f *jsonFloat) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = jsonFloat(math.NaN())
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = jsonFloat(v)
	return nil
}

// The score fields go through jsonFloat; the outer field of the same JSON
// name shadows the embedded one.

// MarshalJSON implements json.Marshaler.
func (r Report) MarshalJSON() ([]byte, error) {
	type plain Report
	return json.Marshal(struct {
		plain
		Score jsonFloat `json:"validation_score"`
	}{plain(r), jsonFloat(r.Score)})
}

// UnmarshalJSON implements json.Unmarshaler.
func (r *Report) UnmarshalJSON(b []byte) error {
	type plain Report
	aux := struct {
		*plain
		Score jsonFloat `json:"validation_score"`
	}{plain: (*plain)(r)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	r.Score = float64(aux.Score)
	return nil
}

// MarshalJSON implements json.Marshaler.
func (c Candidate) MarshalJSON() ([]byte, error) {
	type plain Candidate
	return json.Marshal(struct {
		plain
		Score jsonFloat `json:"score"`
	}{plain(c), jsonFloat(c.Score)})
}

// UnmarshalJSON implements json.Unmarshaler.
func (c *Candidate) UnmarshalJSON(b []byte) error {
	type plain Candidate
	aux := struct {
		*plain
		Score jsonFloat `json:"score"`
	}{plain: (*plain)(c)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	c.Score = float64(aux.Score)
	return nil
}

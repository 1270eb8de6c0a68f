package remote

import (
	"bytes"
	"encoding/csv"
	"testing"
)

// FuzzDecodePredictions feeds arbitrary response bodies to the decoders a
// model server's answer goes through: they may reject a body, but must not
// panic, and an accepted body has exactly one result per row.
func FuzzDecodePredictions(f *testing.F) {
	f.Add("text/csv", []byte("1\n2\n"), 2)
	f.Add("application/json", []byte(`{"predictions":[[1,2],{"score":3}]}`), 2)
	f.Add("application/json", []byte(`{"outputs":[{"shape":[2],"data":[1,2]}]}`), 2)
	f.Add("", []byte("\"a\nb\",c\r\n"), 1)
	f.Add("application/json", []byte(`[[[[]]]]`), 1)
	f.Fuzz(func(t *testing.T, ctype string, body []byte, rows int) {
		if rows < 0 || rows > 1000 {
			return
		}
		for _, dec := range []func() ([]any, error){
			func() ([]any, error) { return DecodePredictions(ctype, body, rows) },
			func() ([]any, error) { return KServeCodec{}.Decode(ctype, body, rows) },
			func() ([]any, error) { return OpenAICodec{}.Decode(ctype, body, rows) },
		} {
			out, err := dec()
			if err == nil && len(out) != rows {
				t.Fatalf("accepted %q as %d results for %d rows", body, len(out), rows)
			}
		}
	})
}

// FuzzSageMakerCSVRoundTrip checks that whatever text a row holds, the
// text/csv request carries it intact to a standard CSV reader.
func FuzzSageMakerCSVRoundTrip(f *testing.F) {
	f.Add("plain", "with, comma")
	f.Add(`"quoted"`, "multi\nline")
	f.Add("日本語", "\r\n")
	f.Fuzz(func(t *testing.T, a, b string) {
		body, _, err := SageMakerCodec{}.Encode(Request{Columns: []string{"a", "b"}, Rows: [][]any{{a, b}, {b, a}}})
		if err != nil {
			t.Fatal(err)
		}
		r := csv.NewReader(bytes.NewReader(body))
		recs, err := r.ReadAll()
		if err != nil {
			t.Fatalf("request %q is not valid CSV: %v", body, err)
		}
		if len(recs) != 2 {
			t.Fatalf("%d records for 2 rows in %q", len(recs), body)
		}
		// Readers fold CRLF inside quoted fields to LF; everything else is kept.
		norm := func(s string) string { return string(bytes.ReplaceAll([]byte(s), []byte("\r\n"), []byte("\n"))) }
		if recs[0][0] != norm(a) && recs[0][0] != a || recs[0][1] != norm(b) && recs[0][1] != b {
			t.Fatalf("round trip of %q, %q gave %q", a, b, recs[0])
		}
	})
}

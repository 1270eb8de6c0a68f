// Package sentdata reads the sentiment datasets of /work/shared/datasets
// (see its README.md and each folder's SOURCE.md) for the trainer
// (cmd/train-sentiment), the evaluation (bench/sentimenteval) and the
// accuracy tests of package sentiment.
package sentdata

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// Labels.
const (
	Negative = 0
	Neutral  = 1
	Positive = 2
	Mixed    = 3
)

// LabelNames maps a label to its Comprehend name.
var LabelNames = [4]string{"NEGATIVE", "NEUTRAL", "POSITIVE", "MIXED"}

// Example is one labelled text.
type Example struct {
	Text  string
	Label int
}

// FindDir returns the datasets directory: dir if non-empty, else
// ../shared/datasets relative to the repository root, else /work/shared/datasets.
func FindDir(dir string) (string, error) {
	if dir != "" {
		if _, err := os.Stat(dir); err != nil {
			return "", err
		}
		return dir, nil
	}
	var cands []string
	if _, file, _, ok := runtime.Caller(0); ok {
		// file = <repo>/internal/ml/nlp/sentiment/sentdata/sentdata.go
		repo := filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "..")
		cands = append(cands, filepath.Join(repo, "..", "shared", "datasets"))
	}
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
				cands = append(cands, filepath.Join(d, "..", "shared", "datasets"))
				break
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	cands = append(cands, "/work/shared/datasets")
	for _, c := range cands {
		if st, err := os.Stat(filepath.Join(c, "sentiment_sst")); err == nil && st.IsDir() {
			return filepath.Clean(c), nil
		}
	}
	return "", errors.New("sentiment datasets not found (use --datasets)")
}

func readLines(path string, skipHeader bool) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	var out []string
	first := true
	for sc.Scan() {
		if first && skipHeader {
			first = false
			continue
		}
		first = false
		out = append(out, strings.TrimRight(sc.Text(), "\r"))
	}
	return out, sc.Err()
}

// SST2 reads sentiment_sst/<file> (sentence<TAB>label, header; 0 neg 1 pos),
// e.g. "sst2_test.tsv" or "glue_SST-2_train.tsv".
func SST2(dir, file string) ([]Example, error) {
	lines, err := readLines(filepath.Join(dir, "sentiment_sst", file), true)
	if err != nil {
		return nil, err
	}
	out := make([]Example, 0, len(lines))
	for i, l := range lines {
		t := strings.LastIndexByte(l, '\t')
		if t < 0 {
			return nil, fmt.Errorf("%s:%d: no tab", file, i+2)
		}
		lab := Negative
		switch strings.TrimSpace(l[t+1:]) {
		case "1":
			lab = Positive
		case "0":
		default:
			return nil, fmt.Errorf("%s:%d: bad label", file, i+2)
		}
		out = append(out, Example{strings.TrimSpace(l[:t]), lab})
	}
	return out, nil
}

// Tweets reads a label_id<TAB>label<TAB>text file with header (0 neg, 1 neu, 2 pos):
// sentiment_tweeteval/{val,test}.tsv and sentiment_semeval2017_4a_tweets/train.tsv.
func Tweets(dir, rel string) ([]Example, error) {
	lines, err := readLines(filepath.Join(dir, rel), true)
	if err != nil {
		return nil, err
	}
	out := make([]Example, 0, len(lines))
	for i, l := range lines {
		parts := strings.SplitN(l, "\t", 3)
		if len(parts) != 3 {
			return nil, fmt.Errorf("%s:%d: want 3 columns", rel, i+2)
		}
		id, err := strconv.Atoi(parts[0])
		if err != nil || id < 0 || id > 2 {
			return nil, fmt.Errorf("%s:%d: bad label", rel, i+2)
		}
		out = append(out, Example{strings.TrimSpace(parts[2]), id})
	}
	return out, nil
}

func readCSV(path string) ([][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReader(f))
	r.FieldsPerRecord = -1
	var rows [][]string
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		rows = append(rows, rec)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s: empty", path)
	}
	return rows[1:], nil
}

// IMDb reads sentiment_imdb_maas_subset/imdb_{train,test}_subset.csv.
func IMDb(dir, split string) ([]Example, error) {
	rows, err := readCSV(filepath.Join(dir, "sentiment_imdb_maas_subset", "imdb_"+split+"_subset.csv"))
	if err != nil {
		return nil, err
	}
	out := make([]Example, 0, len(rows))
	for _, r := range rows {
		if len(r) != 5 {
			return nil, errors.New("imdb: want 5 columns")
		}
		lab := Negative
		if r[2] == "1" {
			lab = Positive
		}
		out = append(out, Example{r[4], lab})
	}
	return out, nil
}

// UCI reads sentiment_uci_labelled_sentences/all_labelled.csv (test only).
func UCI(dir string) ([]Example, error) {
	rows, err := readCSV(filepath.Join(dir, "sentiment_uci_labelled_sentences", "all_labelled.csv"))
	if err != nil {
		return nil, err
	}
	out := make([]Example, 0, len(rows))
	for _, r := range rows {
		if len(r) != 3 {
			return nil, errors.New("uci: want 3 columns")
		}
		lab := Negative
		if r[1] == "1" {
			lab = Positive
		}
		out = append(out, Example{r[2], lab})
	}
	return out, nil
}

// UCISources returns the source column (amazon, imdb or yelp) of
// sentiment_uci_labelled_sentences/all_labelled.csv, aligned with UCI.
func UCISources(dir string) ([]string, error) {
	rows, err := readCSV(filepath.Join(dir, "sentiment_uci_labelled_sentences", "all_labelled.csv"))
	if err != nil {
		return nil, err
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r[0]
	}
	return out, nil
}

// MAMSExample is a MAMS sentence with its sentence-level label: Mixed when
// it has both a positive and a negative aspect, else Positive/Negative when
// it has an aspect of that polarity, else Neutral.
type MAMSExample struct {
	Example
	HasPosAndNeg bool
}

// MAMS reads sentiment_mams_mixed/MAMS-<version>_<split>_sentences.csv
// (version ATSA or ACSA; split train, val or test).
func MAMS(dir, version, split string) ([]MAMSExample, error) {
	rows, err := readCSV(filepath.Join(dir, "sentiment_mams_mixed", "MAMS-"+version+"_"+split+"_sentences.csv"))
	if err != nil {
		return nil, err
	}
	out := make([]MAMSExample, 0, len(rows))
	for _, r := range rows {
		if len(r) != 4 {
			return nil, errors.New("mams: want 4 columns")
		}
		pos := strings.Contains(r[2], "=positive")
		neg := strings.Contains(r[2], "=negative")
		lab := Neutral
		switch {
		case r[3] == "1" || (pos && neg):
			lab = Mixed
		case pos:
			lab = Positive
		case neg:
			lab = Negative
		}
		out = append(out, MAMSExample{Example{r[1], lab}, lab == Mixed})
	}
	return out, nil
}

// CR reads sentiment_customer_reviews_cr/cr.tsv (label<TAB>sentence, header;
// 1 positive, 0 negative): Hu and Liu's customer-review sentences, labelled by
// overall tone. A development set only (it has no test split).
func CR(dir string) ([]Example, error) {
	const rel = "sentiment_customer_reviews_cr/cr.tsv"
	lines, err := readLines(filepath.Join(dir, rel), true)
	if err != nil {
		return nil, err
	}
	out := make([]Example, 0, len(lines))
	for i, l := range lines {
		lab, text, ok := strings.Cut(l, "\t")
		if !ok {
			return nil, fmt.Errorf("%s:%d: no tab", rel, i+2)
		}
		y := Negative
		switch strings.TrimSpace(lab) {
		case "1":
			y = Positive
		case "0":
		default:
			return nil, fmt.Errorf("%s:%d: bad label", rel, i+2)
		}
		if text = strings.TrimSpace(text); text != "" {
			out = append(out, Example{text, y})
		}
	}
	return out, nil
}

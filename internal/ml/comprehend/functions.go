package comprehend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/mysql"

	"github.com/sibyldb/sibyldb/internal/builtins"
	"github.com/sibyldb/sibyldb/internal/exec"
	"github.com/sibyldb/sibyldb/internal/ml/mlfunc"
	"github.com/sibyldb/sibyldb/internal/ml/nlp/pii"
)

// Qualifier and Prefix: aws_comprehend.detect_sentiment(...) (Aurora
// PostgreSQL's spelling) calls aws_comprehend_detect_sentiment(...).
const (
	Qualifier = "aws_comprehend"
	Prefix    = "aws_comprehend_"
)

// DefaultMaxBatch is Aurora's default max_batch_size for the Comprehend
// functions, and Comprehend's batch limit.
const DefaultMaxBatch = 25

// localBatch is how many documents one Invoke analyses in-process.
const localBatch = 512

// function describes one SQL function.
type function struct {
	name string
	op   Op
	// lang: the second argument is the language code.
	lang bool
	// extra is the number of optional trailing arguments.
	extra int
	typ   sql.Type
	// result turns the analysis of args[0] into the SQL value.
	result func(v any, args []any) (any, error)
}

var functions = []function{
	{name: "aws_comprehend_detect_sentiment", op: OpSentiment, lang: true, extra: 1, typ: types.LongText,
		result: func(v any, _ []any) (any, error) { return v.(Sentiment).Sentiment, nil }},
	{name: "aws_comprehend_detect_sentiment_confidence", op: OpSentiment, lang: true, extra: 1, typ: types.Float64,
		result: func(v any, _ []any) (any, error) { return v.(Sentiment).Confidence(), nil }},
	{name: "aws_comprehend_detect_sentiment_scores", op: OpSentiment, lang: true, extra: 1, typ: types.JSON,
		result: func(v any, _ []any) (any, error) { return jsonValue(v) }},
	{name: "aws_comprehend_detect_dominant_language", op: OpLanguage, typ: types.JSON,
		result: func(v any, _ []any) (any, error) { return jsonValue(map[string]any{"Languages": v}) }},
	{name: "aws_comprehend_detect_entities", op: OpEntities, lang: true, typ: types.JSON,
		result: func(v any, _ []any) (any, error) { return jsonValue(map[string]any{"Entities": v}) }},
	{name: "aws_comprehend_detect_key_phrases", op: OpKeyPhrases, lang: true, typ: types.JSON,
		result: func(v any, _ []any) (any, error) { return jsonValue(map[string]any{"KeyPhrases": v}) }},
	{name: "aws_comprehend_detect_pii_entities", op: OpPII, lang: true, typ: types.JSON,
		result: func(v any, _ []any) (any, error) { return jsonValue(map[string]any{"Entities": v}) }},
	{name: "aws_comprehend_contains_pii_entities", op: OpPII, lang: true, typ: types.JSON,
		result: func(v any, _ []any) (any, error) { return jsonValue(map[string]any{"Labels": piiLabels(v.([]Entity))}) }},
	{name: "sibyl_redact_pii", op: OpPII, lang: true, extra: 1, typ: types.LongText,
		result: func(v any, args []any) (any, error) {
			mask := ""
			if len(args) > 2 && args[2] != nil {
				mask = fmt.Sprint(args[2])
			}
			text, err := asText(sql.NewEmptyContext(), args[0])
			if err != nil {
				return nil, err
			}
			es := v.([]Entity)
			pes := make([]pii.Entity, len(es))
			for k, e := range es {
				pes[k] = pii.Entity{Type: e.Type, Score: e.Score, BeginOffset: e.BeginOffset, EndOffset: e.EndOffset}
			}
			return pii.RedactEntities(text, pes, mask), nil
		}},
}

// Functions are the SQL functions, for the server's function registry.
func (s *Service) Functions() []sql.Function {
	out := make([]sql.Function, len(functions))
	for i := range functions {
		f := functions[i]
		out[i] = sql.FunctionN{Name: f.name, Fn: func(args ...sql.Expression) (sql.Expression, error) {
			min := 1
			if f.lang {
				min = 2
			}
			if len(args) < min || len(args) > min+f.extra {
				return nil, sql.ErrInvalidArgumentNumber.New(f.name, argCount(min, f.extra), len(args))
			}
			inv := &invoker{s: s, f: f, maxBatch: DefaultMaxBatch}
			if len(args) > min && f.op == OpSentiment {
				// max_batch_size is a constant of the call site.
				n, err := constInt(args[min])
				if err != nil || n <= 0 {
					return nil, mysql.NewSQLError(mysql.ERWrongArguments, "HY000", "Incorrect arguments to %s: max_batch_size must be a positive integer constant", f.name)
				}
				inv.maxBatch = n
			}
			return exec.NewFuncCall(inv, args, f.typ, exec.FuncCallOptions{
				Convert: func(ctx *sql.Context, v any, argsOf func() ([]any, error)) (any, error) {
					var args []any
					if f.extra > 0 && f.op == OpPII {
						var err error
						if args, err = argsOf(); err != nil {
							return nil, err
						}
						// Every entity gets the mask: bounded as
						// MySQL bounds string results.
						if builtins.Overflows(ctx, f.name, redactedSize(ctx, v, args)) {
							return nil, nil
						}
					}
					return f.result(v, args)
				},
				NonDeterministic: inv.Remote,
			}), nil
		}}
	}
	return out
}

// redactedSize is the length in bytes of sibyl_redact_pii's result.
func redactedSize(ctx *sql.Context, v any, args []any) uint64 {
	es, _ := v.([]Entity)
	text, _ := asText(ctx, args[0])
	mask := ""
	if len(args) > 2 && args[2] != nil {
		mask = fmt.Sprint(args[2])
	}
	single := utf8.RuneCountInString(mask) == 1
	n := uint64(len(text))
	for _, e := range es {
		switch {
		case mask == "":
			n += uint64(len(e.Type) + 2)
		case single && e.EndOffset > e.BeginOffset:
			n += uint64(e.EndOffset-e.BeginOffset) * uint64(len(mask))
		default:
			n += uint64(len(mask))
		}
	}
	return n
}

func argCount(min, extra int) string {
	if extra == 0 {
		return fmt.Sprint(min)
	}
	return fmt.Sprintf("%d or %d", min, min+extra)
}

func constInt(e sql.Expression) (int, error) {
	v, err := e.Eval(sql.NewEmptyContext(), nil)
	if err != nil {
		return 0, err
	}
	n, _, err := types.Int64.Convert(sql.NewEmptyContext(), v)
	if err != nil {
		return 0, err
	}
	return int(n.(int64)), nil
}

// invoker evaluates one function's operation on batches of documents.
type invoker struct {
	s        *Service
	f        function
	maxBatch int
}

var (
	_ exec.Invoker       = (*invoker)(nil)
	_ exec.Authorizer    = (*invoker)(nil)
	_ exec.RemoteInvoker = (*invoker)(nil)
)

// Key shares results between the functions of one operation: a query
// asking for the sentiment and its confidence analyses each text once.
func (i *invoker) Key() string  { return "comprehend:" + string(i.f.op) }
func (i *invoker) Name() string { return i.f.name }

func (i *invoker) MaxBatch() int {
	b, err := i.s.backend(sql.NewEmptyContext())
	if err != nil {
		return 1
	}
	if !b.Remote() {
		return localBatch
	}
	return min(i.maxBatch, b.MaxBatch(i.f.op))
}

func (i *invoker) Concurrency() int {
	if i.Remote() {
		return 4
	}
	return runtime.GOMAXPROCS(0)
}

// Remote implements exec.RemoteInvoker: columns marked no-egress may not
// be analysed by a backend that sends them off the server.
func (i *invoker) Remote() bool {
	b, err := i.s.backend(sql.NewEmptyContext())
	return err != nil || b.Remote()
}

// Authorize implements exec.Authorizer: INVOKE COMPREHEND governs every
// backend, the in-process one included.
func (i *invoker) Authorize(ctx *sql.Context) error {
	if i.s.ML != nil {
		i.s.ML.StartStatement(ctx)
	}
	if i.s.Authorize != nil {
		return i.s.Authorize(ctx)
	}
	return nil
}

// Invoke implements exec.Invoker. Rows are argument tuples (text[, lang,
// extra]); NULL text or language gives NULL.
func (i *invoker) Invoke(ctx *sql.Context, rows [][]any) ([]any, error) {
	b, err := i.s.backend(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(rows))
	byLang := map[string][]int{}
	texts := make([]string, len(rows))
	for r, args := range rows {
		text, lang, ok, err := i.check(ctx, b, args)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		texts[r] = text
		byLang[lang] = append(byLang[lang], r)
	}
	langs := make([]string, 0, len(byLang))
	for l := range byLang {
		langs = append(langs, l)
	}
	sort.Strings(langs)
	for _, lang := range langs {
		idx := byLang[lang]
		batch := make([]string, len(idx))
		bytes := int64(0)
		for k, r := range idx {
			batch[k] = texts[r]
			bytes += int64(len(texts[r]))
		}
		var record func(int, int64, error)
		if b.Remote() && i.s.ML != nil {
			if record, err = i.s.ML.Reserve(ctx, i.f.name, b.Name(), len(batch)); err != nil {
				record(0, 0, err)
				return nil, err
			}
		}
		res, err := i.analyze(ctx, b, lang, batch)
		if err == nil && len(res) != len(batch) {
			err = fmt.Errorf("%s: %d results for %d documents", b.Name(), len(res), len(batch))
		}
		if record != nil {
			record(len(batch), bytes, err)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", i.f.name, err)
		}
		for k, r := range idx {
			out[r] = res[k]
		}
	}
	return out, nil
}

// asText converts an argument to a string; lazily loaded TEXT arrives
// already loaded (exec evaluates arguments that way).
func asText(ctx *sql.Context, v any) (string, error) {
	if b, ok := v.([]byte); ok {
		v = string(b)
	}
	if s, ok := v.(string); ok {
		if !utf8.ValidString(s) {
			return "", errors.New("text is not valid UTF-8")
		}
		return s, nil
	}
	v, _, err := types.LongText.Convert(ctx, v)
	if err != nil {
		return "", err
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%T is not text", v)
	}
	return s, nil
}

// analyze runs one batch, bounding remote calls by
// aurora_ml_inference_timeout as endpoint calls are.
func (i *invoker) analyze(ctx *sql.Context, b Backend, lang string, batch []string) ([]any, error) {
	if !b.Remote() {
		return b.Analyze(ctx, i.f.op, lang, batch)
	}
	tctx, cancel := context.WithTimeout(ctx, mlfunc.Timeout(ctx))
	defer cancel()
	return b.Analyze(ctx.WithContext(tctx), i.f.op, lang, batch)
}

// check validates one argument tuple as Comprehend would; ok is false for
// NULL input.
func (i *invoker) check(ctx *sql.Context, b Backend, args []any) (text, lang string, ok bool, err error) {
	if args[0] == nil || (i.f.lang && args[1] == nil) {
		return "", "", false, nil
	}
	bad := func(format string, a ...any) error {
		return mysql.NewSQLError(mysql.ERWrongArguments, "HY000", "Incorrect arguments to %s: "+format, append([]any{i.f.name}, a...)...)
	}
	if text, err = asText(ctx, args[0]); err != nil {
		return "", "", false, bad("%v", err)
	}
	switch {
	case strings.TrimSpace(text) == "":
		return "", "", false, bad("text must have length greater than or equal to 1 (Comprehend rejects empty documents)")
	case len(text) > i.f.op.maxBytes():
		return "", "", false, bad("text is %d bytes; %s accepts at most %d bytes of UTF-8 (analyse LEFT(text, n) or split it)", len(text), i.f.op, i.f.op.maxBytes())
	}
	if !i.f.lang {
		return text, "", true, nil
	}
	lang = strings.TrimSpace(fmt.Sprint(args[1]))
	for _, l := range b.Languages(i.f.op) {
		if strings.EqualFold(l, lang) {
			return text, l, true, nil
		}
	}
	return "", "", false, bad("unsupported language code '%s' for %s with backend %s; supported: %s", lang, i.f.op, b.Name(), strings.Join(b.Languages(i.f.op), ", "))
}

// jsonValue makes a SQL JSON value of v (Comprehend's response shape).
func jsonValue(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	return types.JSONDocument{Val: doc}, nil
}

// piiLabels is ContainsPiiEntities' answer: each PII type present, with
// its best score.
func piiLabels(es []Entity) []map[string]any {
	best := map[string]float64{}
	for _, e := range es {
		if e.Score > best[e.Type] {
			best[e.Type] = e.Score
		}
	}
	names := make([]string, 0, len(best))
	for n := range best {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]map[string]any, len(names))
	for k, n := range names {
		out[k] = map[string]any{"Name": n, "Score": best[n]}
	}
	return out
}

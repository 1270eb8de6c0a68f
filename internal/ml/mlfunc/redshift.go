package mlfunc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sync/atomic"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/sibyldb/sibyldb/internal/remote/bedrock"
)

// redshiftCall prepares the call of a Redshift external model on one
// input: RAW sends the input as InvokeModel's body (the model's own
// request); UNIFIED sends PROMPT, the input and SUFFIX as one user message
// through Converse, with the inference configuration and additional model
// fields given as the function's second and third arguments.
//
// The call is admitted under the statement's token limit before it is
// returned, and settles its reservation with the usage the model reports.
func (i *invoker) redshiftCall(ctx *sql.Context, client *bedrock.Client, input string, rest []any) (call func(context.Context) (any, error), release func(), err error) {
	d := i.def
	var cfgText, addText string
	if len(rest) > 0 && rest[0] != nil {
		b, err := requestBody(rest[0])
		if err != nil {
			return nil, nil, err
		}
		cfgText = string(b)
	}
	if len(rest) > 1 && rest[1] != nil {
		b, err := requestBody(rest[1])
		if err != nil {
			return nil, nil, err
		}
		addText = string(b)
	}
	super := d.Response == "SUPER"
	if d.Request == RequestRaw {
		if cfgText != "" || addText != "" {
			return nil, nil, errors.New("REQUEST_TYPE RAW takes the model's request body only: put inference settings in the input")
		}
		return func(cctx context.Context) (any, error) {
			// As Aurora's InvokeModel (invokeBedrock): checked, not reserved.
			settle, err := i.m.reserveTokens(ctx, d.DB+"."+d.Name, 0)
			if err != nil {
				return nil, err
			}
			b, u, err := client.InvokeModelUsage(cctx, d.ModelID, "application/json", "application/json", []byte(input))
			if err != nil {
				return nil, err
			}
			if u.Known {
				settle(u.InputTokens + u.OutputTokens)
				i.m.recordTokens(d, u.InputTokens, u.OutputTokens)
			}
			if super && !json.Valid(b) {
				return nil, fmt.Errorf("model '%s' answered with a body that is not JSON, which RESPONSE_TYPE SUPER needs", d.ModelID)
			}
			return string(b), nil
		}, func() {}, nil
	}
	inf, err := parseInference(cfgText)
	if err != nil {
		return nil, nil, err
	}
	var additional map[string]any
	if addText != "" {
		if err := json.Unmarshal([]byte(addText), &additional); err != nil || additional == nil {
			return nil, nil, errors.New("additional model request fields must be a JSON object")
		}
	}
	text := input
	if d.Prompt != "" {
		text = d.Prompt + " " + text
	}
	if d.Suffix != "" {
		text = text + " " + d.Suffix
	}
	var reserve int64
	if inf.MaxTokens != nil {
		reserve = int64(*inf.MaxTokens)
	}
	settle, err := i.m.reserveTokens(ctx, d.DB+"."+d.Name, reserve)
	if err != nil {
		return nil, nil, err
	}
	// A call refused before it runs (open circuit, statement cancelled
	// while waiting for a slot) gives its reservation back in release.
	var started atomic.Bool
	release = func() {
		if started.CompareAndSwap(false, true) {
			settle(0)
		}
	}
	return func(ctx context.Context) (any, error) {
		started.Store(true)
		r, err := client.Converse(ctx, d.ModelID, text, inf, additional)
		if err != nil {
			settle(0)
			return nil, err
		}
		settle(r.InputTokens + r.OutputTokens)
		i.m.recordTokens(i.def, r.InputTokens, r.OutputTokens)
		if !super {
			return r.Text, nil
		}
		b, err := json.Marshal(map[string]any{
			"output":     map[string]any{"message": map[string]any{"role": "assistant", "content": []map[string]string{{"text": r.Text}}}},
			"stopReason": r.StopReason,
			"usage":      map[string]int64{"inputTokens": r.InputTokens, "outputTokens": r.OutputTokens, "totalTokens": r.InputTokens + r.OutputTokens},
		})
		return string(b), err
	}, release, nil
}

// parseInference reads Redshift's inference configuration: a JSON object
// with maxTokens, temperature, topP and stopSequences, names matched case
// sensitively, as Redshift does.
func parseInference(text string) (bedrock.Inference, error) {
	var inf bedrock.Inference
	if text == "" {
		return inf, nil
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(text)))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return inf, errors.New("the inference configuration must be a JSON object")
	}
	for k, v := range m {
		num, isNum := v.(json.Number)
		switch k {
		case "maxTokens":
			n, err := num.Int64()
			if !isNum || err != nil || n <= 0 || n > math.MaxInt32 {
				return inf, errors.New("inference configuration: maxTokens must be a positive integer")
			}
			v := int32(n)
			inf.MaxTokens = &v
		case "temperature", "topP":
			f, err := num.Float64()
			if !isNum || err != nil || f < 0 || f > 1 {
				return inf, fmt.Errorf("inference configuration: %s must be a number from 0 to 1", k)
			}
			v := float32(f)
			if k == "temperature" {
				inf.Temperature = &v
			} else {
				inf.TopP = &v
			}
		case "stopSequences":
			list, ok := v.([]any)
			if !ok {
				return inf, errors.New("inference configuration: stopSequences must be an array of strings")
			}
			inf.StopSequences = []string{}
			for _, e := range list {
				s, ok := e.(string)
				if !ok {
					return inf, errors.New("inference configuration: stopSequences must be an array of strings")
				}
				inf.StopSequences = append(inf.StopSequences, s)
			}
		default:
			return inf, fmt.Errorf("inference configuration: unknown key '%s' (maxTokens, temperature, topP, stopSequences; names are case-sensitive)", k)
		}
	}
	return inf, nil
}

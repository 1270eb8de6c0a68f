package models

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/sibyldb/sibyldb/internal/ml/mlfunc"
)

// ErrBadExternal is a CREATE EXTERNAL MODEL the SQL layer refuses.
var ErrBadExternal = errors.New("invalid CREATE EXTERNAL MODEL")

// externalSettings are Redshift ML's SETTINGS of MODEL_TYPE BEDROCK.
// on_error is SibylDB's ON ERROR NULL clause.
var externalSettings = map[string]bool{"model_id": true, "prompt": true, "suffix": true, "request_type": true, "response_type": true, "on_error": true}

// createExternal binds Redshift ML's CREATE EXTERNAL MODEL ... MODEL_TYPE
// BEDROCK: its function f(input [, inference_config [, additional_fields]])
// is a Bedrock function of package mlfunc, batched, governed and audited
// like every model call.
func (m *Manager) createExternal(ctx *sql.Context, md *Model) error {
	if m.Endpoints == nil {
		return errors.New("external models are not available")
	}
	if !strings.EqualFold(md.ModelType, "BEDROCK") {
		return fmt.Errorf("%w: MODEL_TYPE must be BEDROCK", ErrBadExternal)
	}
	for k := range md.Settings {
		if !externalSettings[k] {
			return fmt.Errorf("%w: unknown setting %s (MODEL_ID, PROMPT, SUFFIX, REQUEST_TYPE, RESPONSE_TYPE)", ErrBadExternal, strings.ToUpper(k))
		}
	}
	s := md.Settings
	if s["model_id"] == "" {
		return fmt.Errorf("%w: SETTINGS needs MODEL_ID", ErrBadExternal)
	}
	req := strings.ToUpper(s["request_type"])
	if req == "" {
		req = mlfunc.RequestUnified
	}
	if req != mlfunc.RequestRaw && req != mlfunc.RequestUnified {
		return fmt.Errorf("%w: REQUEST_TYPE must be RAW or UNIFIED", ErrBadExternal)
	}
	if req == mlfunc.RequestRaw && (s["prompt"] != "" || s["suffix"] != "") {
		return fmt.Errorf("%w: PROMPT and SUFFIX apply to REQUEST_TYPE UNIFIED only", ErrBadExternal)
	}
	onError := strings.ToUpper(s["on_error"])
	if onError != "" && onError != mlfunc.OnErrorNull {
		return fmt.Errorf("%w: ON ERROR takes NULL", ErrBadExternal)
	}
	resp := strings.ToUpper(s["response_type"])
	if resp == "" {
		resp = "VARCHAR"
	}
	returns := "LONGTEXT"
	switch resp {
	case "VARCHAR":
	case "SUPER":
		returns = "JSON"
	default:
		return fmt.Errorf("%w: RESPONSE_TYPE must be VARCHAR or SUPER", ErrBadExternal)
	}
	md.Params = []mlfunc.Param{{Name: "input", Type: "LONGTEXT"}, {Name: "inference_config", Type: "LONGTEXT"}, {Name: "additional_fields", Type: "LONGTEXT"}}
	md.TargetType = returns
	md.Returns = returns
	md.State, md.Finished = Ready, time.Now().UTC()
	def := &mlfunc.FunctionDef{DB: md.DB, Name: md.Function, Params: md.Params, OptionalParams: 2, Returns: returns,
		Definer: md.Owner, Security: "DEFINER", Alias: mlfunc.AliasBedrock, ModelID: s["model_id"],
		Request: req, Prompt: s["prompt"], Suffix: s["suffix"], Response: resp, OnError: onError}
	if err := m.Endpoints.CreateFunction(ctx, def); err != nil {
		return err
	}
	if err := m.put(ctx, md); err != nil {
		_, _ = m.Endpoints.DropFunction(ctx, md.DB, md.Function)
		return err
	}
	return nil
}

// describeExternal is SHOW MODEL of an external model.
func describeExternal(md *Model) [][2]string {
	s := md.Settings
	req, resp := strings.ToUpper(s["request_type"]), strings.ToUpper(s["response_type"])
	if req == "" {
		req = mlfunc.RequestUnified
	}
	if resp == "" {
		resp = "VARCHAR"
	}
	rows := [][2]string{
		{"Model Name", md.Name},
		{"Schema Name", md.DB},
		{"Owner", md.Owner},
		{"Creation Time", md.Created.Format("Mon, 02.01.2006 15:04:05")},
		{"Model State", md.State},
		{"", ""},
		{"PARAMETERS:", ""},
		{"Model Type", "bedrock"},
		{"Model ID", s["model_id"]},
		{"Request Type", req},
		{"Response Type", resp},
		{"Function Name", md.Function},
		{"Function Parameters", "input inference_config additional_fields"},
		{"Function Parameter Types", "varchar super super"},
	}
	if s["prompt"] != "" {
		rows = append(rows, [2]string{"Prompt", s["prompt"]})
	}
	if s["suffix"] != "" {
		rows = append(rows, [2]string{"Suffix", s["suffix"]})
	}
	if md.IAMRole != "" {
		rows = append(rows, [2]string{"IAM Role", md.IAMRole + " (SibylDB uses the AWS credential chain)"})
	}
	return rows
}

package sqlext

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/ml/models"
)

func parseModel(stmt string) (*models.Spec, error) {
	toks, err := Tokens(stmt)
	if err != nil {
		return nil, err
	}
	c := &cursor{toks: toks}
	if !c.accept("CREATE", "MODEL") {
		return nil, SyntaxError(stmt)
	}
	return parseCreateModel(c, stmt)
}

func TestParseCreateModel(t *testing.T) {
	cases := []struct {
		stmt string
		want models.Spec
	}{{
		// Redshift ML's documentation example, as written.
		stmt: `CREATE MODEL customer_churn_auto_model
			FROM (SELECT state, account_length, area_code, total_charge/account_length AS average_daily_spend,
			             cust_serv_calls/account_length AS average_daily_cases, churn
			      FROM customer_activity WHERE record_date < '2020-01-01')
			TARGET churn FUNCTION ml_fn_customer_churn_auto
			IAM_ROLE default SETTINGS (S3_BUCKET 'your-bucket')`,
		want: models.Spec{Name: "customer_churn_auto_model", Target: "churn", Function: "ml_fn_customer_churn_auto", IAMRole: "default", Auto: true,
			FromQuery: `SELECT state, account_length, area_code, total_charge/account_length AS average_daily_spend,
			             cust_serv_calls/account_length AS average_daily_cases, churn
			      FROM customer_activity WHERE record_date < '2020-01-01'`,
			Hyperparameters: map[string]string{}, Settings: map[string]string{"s3_bucket": "your-bucket"}},
	}, {
		stmt: `create model if not exists db.m from db.t target y function f auto off model_type xgboost problem_type regression
			objective 'reg:squarederror' preprocessors 'none' hyperparameters default except (NUM_ROUND '100', eta '0.1')
			settings (MAX_RUNTIME 600, max_cells 5000, s3_garbage_collect off)`,
		want: models.Spec{DB: "db", Name: "m", IfNotExists: true, FromTable: "`db`.`t`", Target: "y", Function: "f", ModelType: "XGBOOST",
			ProblemType: "REGRESSION", Objective: "reg:squarederror", Ignored: []string{"PREPROCESSORS"},
			Hyperparameters: map[string]string{"num_round": "100", "eta": "0.1"},
			Settings:        map[string]string{"max_runtime": "600", "max_cells": "5000", "s3_garbage_collect": "off"}},
	}, {
		stmt: "CREATE MODEL k FROM t FUNCTION seg AUTO OFF MODEL_TYPE KMEANS HYPERPARAMETERS DEFAULT EXCEPT (K '5')",
		want: models.Spec{Name: "k", FromTable: "`t`", Function: "seg", ModelType: "KMEANS", Hyperparameters: map[string]string{"k": "5"}, Settings: map[string]string{}},
	}, {
		stmt: "CREATE MODEL b FROM 'file:///models/x.json' FUNCTION f (INT, DECIMAL(10,2)) RETURNS FLOAT IAM_ROLE 'arn:aws:iam::1:role/r'",
		want: models.Spec{Name: "b", FromURI: "file:///models/x.json", Function: "f", ParamTypes: []string{"INT", "DECIMAL ( 10 , 2 )"}, Returns: "FLOAT",
			IAMRole: "arn:aws:iam::1:role/r", Auto: true, Hyperparameters: map[string]string{}, Settings: map[string]string{}},
	}, {
		stmt: "CREATE MODEL r FUNCTION f (REAL, VARCHAR(8)) RETURNS VARCHAR(3) SAGEMAKER 'ep':'variant' IAM_ROLE default",
		want: models.Spec{Name: "r", SageMaker: "ep", Function: "f", ParamTypes: []string{"REAL", "VARCHAR ( 8 )"}, Returns: "VARCHAR ( 3 )",
			IAMRole: "default", Auto: true, Hyperparameters: map[string]string{}, Settings: map[string]string{}},
	}}
	for _, c := range cases {
		got, err := parseModel(c.stmt)
		require.NoError(t, err, c.stmt)
		if c.want.ModelType == "KMEANS" || c.want.ModelType == "XGBOOST" {
			c.want.Auto = false
		}
		require.Equal(t, c.want, *got, c.stmt)
	}
}

func TestParseCreateModelRejects(t *testing.T) {
	for stmt, msg := range map[string]string{
		"CREATE MODEL m FROM t TARGET y":                                      "needs FUNCTION",
		"CREATE MODEL m FROM t FUNCTION f":                                    "needs TARGET",
		"CREATE MODEL m TARGET y FUNCTION f":                                  "needs FROM",
		"CREATE MODEL m FROM t TARGET y FUNCTION f MODEL_TYPE KMEANS":         "takes no TARGET",
		"CREATE MODEL m FROM t TARGET y FUNCTION f AUTO OFF":                  "AUTO OFF needs MODEL_TYPE",
		"CREATE MODEL m FROM t TARGET y FUNCTION f MODEL_TYPE FOREST":         "unknown MODEL_TYPE",
		"CREATE MODEL m FROM t TARGET y FUNCTION f PROBLEM_TYPE RANKING":      "unknown PROBLEM_TYPE",
		"CREATE MODEL m FROM 'file:///x' FUNCTION f":                          "needs FUNCTION f (types) RETURNS type",
		"CREATE MODEL m FROM t FUNCTION f (INT) RETURNS INT SAGEMAKER 'e'":    "takes no FROM",
		"CREATE MODEL m FROM t TARGET y FUNCTION f TARGET z":                  "given twice",
		"CREATE MODEL m FROM (SELECT 1 TARGET y FUNCTION f":                   "syntax",
		"CREATE MODEL m FROM t TARGET y FUNCTION f SETTINGS (MAX_RUNTIME)":    "syntax",
		"CREATE MODEL m FROM t TARGET y FUNCTION f HYPERPARAMETERS (K '1')":   "syntax",
		"CREATE MODEL m FROM t TARGET y FUNCTION f AUTO MAYBE":                "syntax",
		"CREATE MODEL m FROM t TARGET y FUNCTION f IAM_ROLE default WHATEVER": "syntax",
	} {
		_, err := parseModel(stmt)
		require.ErrorContains(t, err, msg, stmt)
	}
}

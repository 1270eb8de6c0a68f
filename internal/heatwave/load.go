package heatwave

import (
	"errors"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/sibyldb/sibyldb/internal/ml/model"
	"github.com/sibyldb/sibyldb/internal/ml/models"
)

// model finds a ready model the session may use by its handle.
func (r *Routines) model(ctx *sql.Context, v any) (*models.Model, *model.Predictor, error) {
	handle, err := stringArg(v, "model_handle")
	if err != nil {
		return nil, nil, err
	}
	return lookup(ctx, r.Models, handle)
}

// lookup resolves a handle. A model the session may not use is reported
// as missing, as HeatWave only sees the models of catalogs the user can
// read.
func lookup(ctx *sql.Context, m *models.Manager, handle string) (*models.Model, *model.Predictor, error) {
	if handle == "" {
		return nil, nil, mlError("ML003015: The model handle is NULL or empty.")
	}
	md, ok := m.ByHandle(handle)
	if !ok {
		return nil, nil, mlError("ML003000: Model %s does not exist.", handle)
	}
	if md.IsForecast() {
		if _, err := m.Forecasts(ctx, md); err != nil {
			return nil, nil, modelError(err)
		}
		return md, nil, nil
	}
	if md.IsRecommender() {
		if _, err := m.Recommender(ctx, md); err != nil {
			return nil, nil, modelError(err)
		}
		return md, nil, nil
	}
	p, err := m.Predictor(ctx, md)
	if err != nil {
		return nil, nil, err
	}
	return md, p, nil
}

// load is CALL sys.ML_MODEL_LOAD(handle, user). SibylDB keeps every
// ready model compiled in memory, so loading checks that the model exists
// and may be used.
func (r *Routines) load(ctx *sql.Context, args []any, _ []string) error {
	_, _, err := r.model(ctx, args[0])
	return err
}

// unload is CALL sys.ML_MODEL_UNLOAD(handle): a check, as for load.
func (r *Routines) unload(ctx *sql.Context, args []any, _ []string) error {
	_, _, err := r.model(ctx, args[0])
	return err
}

// modelError maps the model store's errors to MySQL ones.
func modelError(err error) error {
	if errors.Is(err, models.ErrNotReady) {
		return mlError("%v", err)
	}
	return err
}

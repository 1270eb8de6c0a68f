package server

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/dolthub/dolt/go/cmd/dolt/commands/engine"
	"github.com/dolthub/dolt/go/libraries/doltcore/dconfig"
	"github.com/dolthub/dolt/go/libraries/doltcore/doltdb"
	"github.com/dolthub/dolt/go/libraries/doltcore/env"
	"github.com/dolthub/dolt/go/libraries/doltcore/sqle"
	"github.com/dolthub/dolt/go/libraries/doltcore/sqle/dsess"
	"github.com/dolthub/dolt/go/libraries/utils/config"
	"github.com/dolthub/dolt/go/libraries/utils/filesys"
	"github.com/dolthub/go-mysql-server/eventscheduler"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/sirupsen/logrus"

	"github.com/sibyldb/sibyldb/internal/status"
)

// stateDirName is the directory inside --data-dir that holds SibylDB's own
// state (Dolt's global config, users and grants). Every other directory in
// --data-dir is one database, exactly as with `dolt sql-server`.
const stateDirName = ".sibyldb"

// storage is the embedded Dolt engine rooted at the data directory.
type storage struct {
	sqlEngine *engine.SqlEngine
	gc        *gcScheduler
	dataDir   string
	// config is what Dolt's sessions read user.name and the globals from.
	config config.ReadWriteConfig
	// freshPrivileges is true when no users/grants file existed at open: the
	// server then creates the root account.
	freshPrivileges bool
}

// storageOptions are the parts of Config that shape the storage engine.
type storageOptions struct {
	dataDir   string
	overrides sql.EngineOverrides
	logger    *logrus.Logger
	status    *status.Registry
}

// openStorage opens (creating on first start) the Dolt databases under
// dataDir and builds the SQL engine over them.
func openStorage(ctx context.Context, opts storageOptions) (*storage, error) {
	dataDir, err := filepath.Abs(opts.dataDir)
	if err != nil {
		return nil, fmt.Errorf("resolve data dir %q: %w", opts.dataDir, err)
	}
	stateDir := filepath.Join(dataDir, stateDirName)
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir %q: %w", dataDir, err)
	}
	// Dolt reads its global config from $DOLT_ROOT_PATH/.dolt. Point it into
	// the data dir so that a server never reads or writes the user's home.
	if err := os.Setenv(dconfig.EnvDoltRootPath, stateDir); err != nil {
		return nil, fmt.Errorf("set %s: %w", dconfig.EnvDoltRootPath, err)
	}

	fs, err := filesys.LocalFS.WithWorkingDir(dataDir)
	if err != nil {
		return nil, fmt.Errorf("open data dir %q: %w", dataDir, err)
	}
	homeDir := func() (string, error) { return stateDir, nil }
	dEnv := env.LoadWithoutDB(ctx, homeDir, fs, doltdb.LocalDirDoltDB, Version)
	if dEnv.CfgLoadErr != nil {
		return nil, fmt.Errorf("load storage config: %w", dEnv.CfgLoadErr)
	}
	// Commits made by the storage layer need an author; these are the values
	// used when the user has configured none.
	dEnv.Config.SetFailsafes(map[string]string{
		"user.name":  "SibylDB",
		"user.email": "sibyldb@localhost",
	})
	mrEnv, err := env.MultiEnvForDirectory(ctx, dEnv.Config.WriteableConfig(), fs, dEnv.Version, dEnv)
	if err != nil {
		return nil, fmt.Errorf("load databases in %q: %w", dataDir, err)
	}

	// Dolt keeps per-database system variables and the values of SET
	// PERSIST in its config; load them as `dolt sql-server` does.
	_ = mrEnv.Iter(func(name string, _ *env.DoltEnv) (bool, error) {
		dsess.DefineSystemVariablesForDB(name)
		return false, nil
	})
	if err := dsess.InitPersistedSystemVars(dEnv); err != nil {
		return nil, fmt.Errorf("load persisted system variables: %w", err)
	}
	if err := dsess.PersistSystemVarDefaults(dEnv); err != nil {
		return nil, fmt.Errorf("persist server_uuid: %w", err)
	}
	if err := privateState(stateDir); err != nil {
		return nil, err
	}

	privFile := filepath.Join(stateDir, "privileges.db")
	_, statErr := os.Stat(privFile)
	fresh := os.IsNotExist(statErr)

	cfg := &engine.SqlEngineConfig{
		PrivFilePath:               privFile,
		BranchCtrlFilePath:         filepath.Join(stateDir, "branch_control.db"),
		DoltCfgDirPath:             stateDir,
		ServerUser:                 "root",
		ServerHost:                 "localhost",
		SkipRootUserInitialization: true,
		Autocommit:                 true,
		// No AutoGCController: Dolt's races with CREATE DATABASE, so
		// SibylDB runs GC itself (see storagegc.go).
		EventSchedulerStatus: eventscheduler.SchedulerOn,
		// MySQL runs an event in the second it is due; Dolt's scheduler
		// looks every 30 s, so EVERY 1 SECOND ran every 30 s (Dolt patch 11).
		EventSchedulerPeriod: 1,
		EngineOverrides:      opts.overrides,
	}
	se, err := engine.NewSqlEngine(ctx, mrEnv, cfg)
	if err != nil {
		return nil, fmt.Errorf("start storage engine: %w", err)
	}
	provider, ok := se.GetUnderlyingEngine().Analyzer.Catalog.DbProvider.(*sqle.DoltDatabaseProvider)
	if !ok {
		_ = se.Close()
		return nil, fmt.Errorf("start storage engine: unexpected database provider %T", se.GetUnderlyingEngine().Analyzer.Catalog.DbProvider)
	}
	// Without GC the journal grows with every commit; the scheduler keeps
	// disk use proportional to live data. dolt_auto_gc_enabled tells
	// clients that it runs, as with Dolt's own.
	gc := newGCScheduler(provider, se.NewDefaultContext, opts.status, opts.logger)
	if err := sql.SystemVariables.AssignValues(map[string]interface{}{dsess.DoltAutoGCEnabled: int8(1)}); err != nil {
		_ = se.Close()
		return nil, fmt.Errorf("start storage engine: %w", err)
	}
	gc.start()
	return &storage{sqlEngine: se, gc: gc, dataDir: dataDir, config: mrEnv.Config(), freshPrivileges: fresh}, nil

}

// close flushes and releases the databases.
func (s *storage) close() error {
	s.gc.close()
	// Closing cancels Dolt's background threads, which report the
	// cancellation itself as an error.
	if err := s.sqlEngine.Close(); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// sessionFactory returns a constructor of client sessions that are Dolt's
// sessions in every respect but their write session, which ws builds
// (SibylDB's row-locking one). The engine offers no such option, so the
// shared parts are taken from a session it builds.
func (s *storage) sessionFactory(ctx context.Context, ws dsess.WriteSessFunc) (func(*sql.BaseSession) (*dsess.DoltSession, error), error) {
	proto, err := s.sqlEngine.NewDoltSession(ctx, sql.NewBaseSession())
	if err != nil {
		return nil, err
	}
	return func(base *sql.BaseSession) (*dsess.DoltSession, error) {
		sess, err := dsess.NewDoltSession(base, proto.Provider(), s.config, proto.GetController(), proto.StatsProvider(),
			ws, proto.GCSafepointController(), proto.GetBranchActivityTracker())
		if err != nil {
			return nil, err
		}
		// As the engine's own factory: client sessions start in autocommit.
		if err := sess.SetSessionVariable(nil, sql.AutoCommitSessionVar, true); err != nil {
			return nil, err
		}
		return sess, nil
	}, nil
}

package server

import (
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
)

// installSystemVariables replaces the GMS/Dolt defaults that would mislead
// MySQL clients or leave the server open.
func installSystemVariables(cfg Config) error {
	sql.SystemVariables.AddSystemVariables([]sql.SystemVariable{
		// GMS pins innodb_lock_wait_timeout to 1..1. SibylDB's write lock
		// honours it, so it gets MySQL's range and default (50 s).
		&sql.MysqlSystemVariable{
			Name:    "innodb_lock_wait_timeout",
			Scope:   sql.GetMysqlScope(sql.SystemVariableScope_Both),
			Dynamic: true,
			Type:    types.NewSystemIntType("innodb_lock_wait_timeout", 1, 1073741824, false),
			Default: int64(50),
		},
		// GMS defaults max_allowed_packet to 1 GB; MySQL 8's 64 MB is
		// also the bound on string results (see package builtins).
		&sql.MysqlSystemVariable{
			Name:    "max_allowed_packet",
			Scope:   sql.GetMysqlScope(sql.SystemVariableScope_Both),
			Dynamic: true,
			Type:    types.NewSystemUintType("max_allowed_packet", 1024, 1073741824),
			Default: int64(64 << 20),
		},
		// The memory limit the process runs with (--memory-limit or
		// GOMEMLIMIT; 0 when none), read-only.
		&sql.MysqlSystemVariable{
			Name:    "sibyl_memory_limit",
			Scope:   sql.GetMysqlScope(sql.SystemVariableScope_Global),
			Dynamic: false,
			Type:    types.NewSystemUintType("sibyl_memory_limit", 0, math.MaxUint64),
			Default: cfg.MemoryLimit,
		},
		&sql.MysqlSystemVariable{
			Name:    "version_comment",
			Scope:   sql.GetMysqlScope(sql.SystemVariableScope_Global),
			Dynamic: false,
			Type:    types.NewSystemStringType("version_comment"),
			Default: "SibylDB " + Version + " (MySQL-compatible, machine learning in SQL)",
		},
	})
	// GMS defaults secure_file_priv to "", letting any user with FILE read
	// every file the server can. MySQL confines file I/O to one directory;
	// so does SibylDB, inside the data dir unless configured.
	dir := cfg.SecureFilePriv
	if dir == "" {
		dir = filepath.Join(cfg.DataDir, stateDirName, "files")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("secure_file_priv %q: %w", cfg.SecureFilePriv, err)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("create secure_file_priv dir: %w", err)
	}
	secure := int8(0)
	if cfg.RequireSecureTransport {
		secure = 1
	}
	return sql.SystemVariables.AssignValues(map[string]interface{}{"secure_file_priv": dir, "require_secure_transport": secure})
}

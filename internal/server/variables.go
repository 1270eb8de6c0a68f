package server

import (
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
)

// installSystemVariables replaces the GMS/Dolt defaults that would mislead
// MySQL clients.
func installSystemVariables() {
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
		&sql.MysqlSystemVariable{
			Name:    "version_comment",
			Scope:   sql.GetMysqlScope(sql.SystemVariableScope_Global),
			Dynamic: false,
			Type:    types.NewSystemStringType("version_comment"),
			Default: "SibylDB " + Version + " (MySQL-compatible, machine learning in SQL)",
		},
	})
}

package e2e

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/testserver"
)

// TestMemoryLimitSettings: --memory-limit, and else GOMEMLIMIT, set the
// process's soft memory limit, which @@sibyl_memory_limit reports.
func TestMemoryLimitSettings(t *testing.T) {
	for _, tc := range []struct {
		name  string
		env   []string
		flags []string
		want  int64
	}{
		{"none", nil, nil, 0},
		{"flag", nil, []string{"--memory-limit", "512MiB"}, 512 << 20},
		{"GOMEMLIMIT", []string{"GOMEMLIMIT=256MiB"}, nil, 256 << 20},
		{"flag over GOMEMLIMIT", []string{"GOMEMLIMIT=256MiB"}, []string{"--memory-limit", "1GiB"}, 1 << 30},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := testserver.StartWithEnv(t, tc.env, tc.flags...)
			db := srv.DB("")
			require.EqualValues(t, tc.want, queryInt(t, db, "SELECT @@global.sibyl_memory_limit"))
			_, err := db.Exec("SET GLOBAL sibyl_memory_limit = 1")
			num, _ := mysqlErr(t, err)
			require.EqualValues(t, 1238, num, "read-only variable") // ER_INCORRECT_GLOBAL_LOCAL_VAR
		})
	}
}

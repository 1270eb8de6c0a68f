// Package limits bounds what one statement may cost the server: the
// nesting depth of its expressions (go-mysql-server's analysis is
// quadratic or worse in it, and does not check for KILL), and the memory
// it may make the heap grow by.
package limits

import (
	"bufio"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
)

const (
	// MaxExpressionDepthVar is the largest nesting depth of a statement's
	// syntax tree.
	MaxExpressionDepthVar = "sibyl_max_expression_depth"
	// MaxStatementMemoryVar is how many bytes the heap may grow by while
	// a statement runs before the statement is stopped.
	MaxStatementMemoryVar = "sibyl_max_statement_memory"
)

// DefaultExpressionDepth admits generated queries with hundreds of
// chained conditions while keeping analysis to about a second.
const DefaultExpressionDepth = 1000

// SystemVariables are the limits' global settings.
func SystemVariables() []sql.SystemVariable {
	return []sql.SystemVariable{
		&sql.MysqlSystemVariable{
			Name:    MaxExpressionDepthVar,
			Scope:   sql.GetMysqlScope(sql.SystemVariableScope_Global),
			Dynamic: true,
			Type:    types.NewSystemIntType(MaxExpressionDepthVar, 64, 100000, false),
			Default: int64(DefaultExpressionDepth),
		},
		&sql.MysqlSystemVariable{
			Name:    MaxStatementMemoryVar,
			Scope:   sql.GetMysqlScope(sql.SystemVariableScope_Global),
			Dynamic: true,
			// 0 turns the limit off.
			Type:    types.NewSystemUintType(MaxStatementMemoryVar, 0, math.MaxInt64),
			Default: int64(DefaultStatementMemory()),
		},
	}
}

func globalInt(name string, def int64) int64 {
	if _, v, ok := sql.SystemVariables.GetGlobal(name); ok {
		switch n := v.(type) {
		case int64:
			return n
		case uint64:
			if n > math.MaxInt64 {
				return math.MaxInt64
			}
			return int64(n)
		}
	}
	return def
}

// DefaultStatementMemory is a quarter of the memory the server may use:
// the cgroup's limit when it has one, else the machine's RAM; 4 GiB when
// neither can be read.
func DefaultStatementMemory() uint64 {
	total := cgroupLimit()
	if ram := memTotal(); ram > 0 && (total == 0 || ram < total) {
		total = ram
	}
	if total == 0 {
		return 4 << 30
	}
	return total / 4
}

func cgroupLimit() uint64 {
	for _, f := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
		if err == nil && n > 0 && n < 1<<60 {
			return n
		}
	}
	return 0
}

func memTotal() uint64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, err := strconv.ParseUint(fields[1], 10, 64)
			if err == nil {
				return kb * 1024
			}
		}
	}
	return 0
}

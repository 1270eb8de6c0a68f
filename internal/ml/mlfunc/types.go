package mlfunc

import (
	"fmt"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"
)

// ParseType turns a MySQL column type ("VARCHAR(2048) CHARSET utf8mb4",
// "BIGINT(20)", "DECIMAL(10,2)") into a GMS type, using the MySQL grammar
// itself rather than a second hand-written type parser.
func ParseType(text string) (sql.Type, error) {
	st, err := ast.Parse("CREATE TABLE t (c " + text + ")")
	if err != nil {
		return nil, fmt.Errorf("invalid type %q", text)
	}
	ddl, ok := st.(*ast.DDL)
	if !ok || ddl.TableSpec == nil || len(ddl.TableSpec.Columns) != 1 {
		return nil, fmt.Errorf("invalid type %q", text)
	}
	ct := ddl.TableSpec.Columns[0].Type
	t, err := types.ColumnTypeToType(&ct)
	if err != nil {
		return nil, fmt.Errorf("invalid type %q: %w", text, err)
	}
	return t, nil
}

// CheckReturnType enforces Aurora's rule: any numeric type except BIT, or
// VARCHAR. String results are utf8mb4 whatever charset was declared.
func CheckReturnType(t sql.Type) (sql.Type, error) {
	switch {
	case types.IsBit(t):
	case types.IsNumber(t) || types.IsDecimal(t):
		return t, nil
	case types.IsText(t) && !types.IsTextBlob(t) && strings.HasPrefix(strings.ToLower(t.String()), "varchar"):
		st := t.(sql.StringType)
		return types.MustCreateString(st.Type(), st.Length(), sql.Collation_utf8mb4_0900_bin), nil
	}
	return nil, fmt.Errorf("return type %s is not supported for ML functions: use a numeric type (not BIT) or VARCHAR", t.String())
}

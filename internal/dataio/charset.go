package dataio

import (
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/encodings"
	"github.com/dolthub/vitess/go/mysql"
)

// Charset returns the encoder of the character set a CHARACTER SET
// clause of LOAD DATA or SELECT ... INTO OUTFILE names, for converting
// between the file and UTF-8; nil when none is named or the file is
// UTF-8 or binary as it is. Only character sets of one byte per character
// (latin1, which is cp1252 as in MySQL, ascii, ...) are converted: their
// terminators, enclosures and escapes are the same ASCII bytes, so a file
// converts field by field or line by line exactly. Others are refused.
func Charset(name string) (encodings.Encoder, error) {
	if name == "" {
		return nil, nil
	}
	cs, err := sql.ParseCharacterSet(name)
	if err != nil {
		return nil, mysql.NewSQLError(mysql.ERUnknownCharacterSet, "42000", "Unknown character set: '%s'", name)
	}
	switch {
	case cs == sql.CharacterSet_utf8mb4 || cs == sql.CharacterSet_utf8mb3 || cs == sql.CharacterSet_binary:
		return nil, nil
	case cs.MaxLength() == 1 && cs.Encoder() != nil:
		return cs.Encoder(), nil
	}
	return nil, sql.ErrUnsupportedFeature.New("CHARACTER SET " + cs.Name() + " for data files")
}

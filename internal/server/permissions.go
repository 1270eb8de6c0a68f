package server

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// privateState makes SibylDB's state directory (DATA-DIR/.sibyldb: the
// account database, the secret key, Dolt's global config) reachable by the
// server's OS user only. Dolt writes its config_global.json (SET PERSIST
// values) with mode 0777 and replaces the file on every write, so fixing
// the file alone would not last: the 0700 directories keep every version
// of it private, and the file itself is set to 0600 at start-up.
func privateState(stateDir string) error {
	doltDir := filepath.Join(stateDir, ".dolt")
	for _, p := range []struct {
		path string
		mode fs.FileMode
	}{
		{stateDir, 0o700},
		{doltDir, 0o700},
		{filepath.Join(doltDir, "config_global.json"), 0o600},
	} {
		if err := os.Chmod(p.path, p.mode); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("make %s private: %w", p.path, err)
		}
	}
	return nil
}

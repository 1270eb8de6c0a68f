package server

import (
	"sync"

	"github.com/sirupsen/logrus"

	"github.com/sibyldb/sibyldb/internal/sqlext"
)

// redactHook removes endpoint credentials from the statement text GMS adds
// to log entries (at debug level every query is logged).
type redactHook struct{}

func (redactHook) Levels() []logrus.Level { return logrus.AllLevels }

func (redactHook) Fire(e *logrus.Entry) error {
	if q, ok := e.Data["query"].(string); ok {
		e.Data["query"] = sqlext.Redact(q)
	}
	return nil
}

var installRedaction sync.Once

// redactLogs installs the hook on the loggers statements are logged with:
// GMS logs through logrus's standard logger whatever the server's logger.
func redactLogs(l *logrus.Logger) {
	installRedaction.Do(func() { logrus.StandardLogger().AddHook(redactHook{}) })
	if l != logrus.StandardLogger() {
		l.AddHook(redactHook{})
	}
}

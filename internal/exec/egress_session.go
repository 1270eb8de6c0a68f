package exec

import (
	"strings"
	"sync"

	"github.com/dolthub/go-mysql-server/sql"
)

// sessionTaint remembers, for one session, which user variables hold data
// derived from a marked column. The marker sticks to a variable for the
// rest of the session, even once it is assigned a clean value: the
// assignment is analysed before it runs, and a statement that then fails
// would leave the marked value in place.
type sessionTaint struct {
	mu   sync.Mutex
	vars map[string]*label
}

// sessions holds the sessions that have marked user variables, by session
// (connection) id; ForgetSession drops an entry when its connection closes.
var sessions sync.Map // uint32 -> *sessionTaint

// ForgetSession drops what the analysis remembers of a closed session.
func ForgetSession(id uint32) { sessions.Delete(id) }

func sessionTaintOf(ctx *sql.Context) *sessionTaint {
	if ctx == nil || ctx.Session == nil {
		return &sessionTaint{}
	}
	if v, ok := sessions.Load(ctx.Session.ID()); ok {
		return v.(*sessionTaint)
	}
	return &sessionTaint{}
}

func (s *sessionTaint) userVar(name string) *label {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.vars[strings.ToLower(name)]
}

// any returns the taint of one marked variable, if any.
func (s *sessionTaint) any() *label {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.vars {
		return l
	}
	return nil
}

// commit records the variables a statement assigns tainted values.
func (s *sessionTaint) commit(ctx *sql.Context, assigned map[string]*label) {
	var marked map[string]*label
	for k, l := range assigned {
		if l != nil {
			if marked == nil {
				marked = map[string]*label{}
			}
			marked[k] = l
		}
	}
	if len(marked) == 0 || ctx == nil || ctx.Session == nil {
		return
	}
	v, _ := sessions.LoadOrStore(ctx.Session.ID(), s)
	st := v.(*sessionTaint)
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.vars == nil {
		st.vars = map[string]*label{}
	}
	for k, l := range marked {
		if st.vars[k] == nil {
			st.vars[k] = &label{col: l.col, implicit: l.implicit}
		}
	}
}

// executing returns a marked variable's taint when the statement is run by
// EXECUTE (its parameters, bound from user variables, and its text, which
// PREPARE may have read from one, arrive as literals) and the session
// holds marked data in a user variable.
func (s *sessionTaint) executing(ctx *sql.Context) *label {
	if ctx == nil || !isExecute(ctx.Query()) {
		return nil
	}
	return s.any()
}

// isExecute reports an EXECUTE statement, after comments and spaces.
func isExecute(q string) bool {
	for {
		q = strings.TrimLeft(q, " \t\r\n(")
		switch {
		case strings.HasPrefix(q, "/*"):
			end := strings.Index(q, "*/")
			if end < 0 {
				return false
			}
			q = q[end+2:]
		case strings.HasPrefix(q, "#"), strings.HasPrefix(q, "-- "):
			end := strings.IndexByte(q, '\n')
			if end < 0 {
				return false
			}
			q = q[end+1:]
		default:
			return len(q) >= 7 && strings.EqualFold(q[:7], "execute") && (len(q) == 7 || !isWord(q[7]))
		}
	}
}

func isWord(b byte) bool {
	return b == '_' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}

// Package recovered turns a panic in a goroutine SibylDB starts into an
// error of the statement (or job) that goroutine works for.
//
// Go ends the whole process when any goroutine panics without recovering,
// so one bad row in a batch of ML calls would otherwise disconnect every
// client. A recovered panic keeps its stack for the server log; the
// client is sent only the short message (see Split).
package recovered

import (
	"fmt"
	"runtime/debug"
	"strings"

	"golang.org/x/sync/errgroup"
)

// Prefix starts the text of every recovered panic. It is also the prefix
// go-mysql-server's errguard uses, so both are recognised the same way.
const Prefix = "panic recovered: "

// Error is a recovered panic. Its text is the panic value followed, after
// a newline, by the goroutine's stack, as go-mysql-server formats its own.
type Error struct {
	Value any
	Stack []byte
}

func (e *Error) Error() string { return fmt.Sprintf("%s%v\n%s", Prefix, e.Value, e.Stack) }

// New wraps a value returned by recover. Call it in the deferred function
// so the stack still shows where the panic happened.
func New(r any) *Error { return &Error{Value: r, Stack: debug.Stack()} }

// Capture, deferred in a function with a named error result, turns a
// panic into that error:
//
//	func work() (err error) {
//		defer recovered.Capture(&err)
//		...
//	}
func Capture(errp *error) {
	if r := recover(); r != nil {
		*errp = New(r)
	}
}

// Go runs fn in g, a panic in fn becoming the error g.Wait returns.
func Go(g *errgroup.Group, fn func() error) {
	g.Go(func() (err error) {
		defer Capture(&err)
		return fn()
	})
}

// Split separates the text of a recovered panic, wherever it appears in
// msg (errors are often wrapped), into the short message for the client
// and the stack for the log. ok is false when msg is not a panic.
func Split(msg string) (short, stack string, ok bool) {
	i := strings.Index(msg, Prefix)
	if i < 0 {
		return msg, "", false
	}
	head, rest := msg[:i], msg[i+len(Prefix):]
	value, stack, _ := strings.Cut(rest, "\n")
	return head + value, stack, true
}

package template

import "fmt"

// Error is a problem in a template: a construct latch cannot read or
// evaluate, or a reference to something that does not exist. Path names the
// place in the template ("Resources.OrderQueue.Properties.RedrivePolicy"),
// Line its line when known.
type Error struct {
	Path string
	Line int
	Msg  string
}

// Error says where in the template (path, line) the problem is, and what.
func (e *Error) Error() string {
	switch {
	case e.Path != "" && e.Line > 0:
		return fmt.Sprintf("template: %s (line %d): %s", e.Path, e.Line, e.Msg)
	case e.Path != "":
		return fmt.Sprintf("template: %s: %s", e.Path, e.Msg)
	case e.Line > 0:
		return fmt.Sprintf("template: line %d: %s", e.Line, e.Msg)
	default:
		return "template: " + e.Msg
	}
}

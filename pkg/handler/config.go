package handler

import (
	"errors"
	"fmt"
)

// ErrConfig means a trigger's config or function is unusable. Every
// constructor (NewSQS, NewEventBridge, NewSchedule, NewPoller and their
// transactional forms) returns it at construction, wrapped with the field
// at fault and the fix ("handler: invalid config: SQSConfig.Client is
// nil"), so a bad deploy fails its cold start instead of every batch. One
// sentinel for the package, as in producer, checkpoint and idempotency:
// which config is at fault is in the message, for the person reading it,
// while code only ever needs to know that it is a config error.
var ErrConfig = errors.New("handler: invalid config")

// configError returns an error matching ErrConfig whose text is format,
// which starts with the field it is about ("SQSConfig.Client is nil").
func configError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, args...))
}

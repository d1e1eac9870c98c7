package notify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/iamwatch/iamwatch"
)

// Sink delivers alerts to one destination.
//
// Send delivers alerts as one message: a single alert, or a digest listing
// several when a rate limit is reached. It returns nil only when the
// destination accepted the message. Errors should be classified with
// [Permanent] or [Retryable] (an unclassified error counts as retryable) and
// must never contain secrets (webhook URLs, tokens, passwords).
//
// Implementations are safe for concurrent use; the dispatcher calls Send for
// one sink from one goroutine at a time, but a test send may run alongside.
type Sink interface {
	Name() string
	Send(ctx context.Context, alerts []iamwatch.Alert) error
}

// ErrorKind says whether a failed send may succeed later.
type ErrorKind int

// The error kinds.
const (
	// KindRetryable: the destination is down, overloaded or unreachable
	// (network errors, 5xx, 408, 429); the dispatcher retries with backoff.
	KindRetryable ErrorKind = iota + 1
	// KindPermanent: the request itself is wrong (404 webhook, 400 payload,
	// 401/403 credentials); retrying cannot help until the configuration is
	// fixed, so the delivery is marked failed and retried only by command.
	KindPermanent
)

// Error is a classified send failure. Its message must be free of secrets.
type Error struct {
	Kind ErrorKind
	// RetryAfter is how long the destination asked us to wait (429/503
	// Retry-After), or zero.
	RetryAfter time.Duration
	Err        error
}

func (e *Error) Error() string {
	if e.Kind == KindPermanent {
		return "permanent: " + e.Err.Error()
	}
	if e.RetryAfter > 0 {
		return fmt.Sprintf("%v (retry after %s)", e.Err, e.RetryAfter)
	}
	return e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// Permanent classifies err as permanent.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &Error{Kind: KindPermanent, Err: err}
}

// Retryable classifies err as retryable, to be retried no sooner than after
// (zero: the dispatcher's backoff decides).
func Retryable(err error, after time.Duration) error {
	if err == nil {
		return nil
	}
	return &Error{Kind: KindRetryable, RetryAfter: after, Err: err}
}

// IsPermanent reports whether err was classified permanent. Cancellation and
// unclassified errors are not permanent.
func IsPermanent(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == KindPermanent
}

// RetryAfter returns the wait a retryable err asks for, or zero.
func RetryAfter(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) && e.Kind == KindRetryable {
		return e.RetryAfter
	}
	return 0
}

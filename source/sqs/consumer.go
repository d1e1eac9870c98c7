package sqs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/cloudtrail"
	"github.com/iamwatch/iamwatch/pipeline"
	"github.com/iamwatch/iamwatch/source"
)

// Name is the source name in metrics and logs.
const Name = "sqs"

// Defaults and limits.
const (
	DefaultWorkers     = 4
	DefaultVisibility  = 5 * time.Minute
	DefaultMaxReceives = 5
	DefaultWait        = 20 * time.Second // the longest long poll SQS allows.
	DefaultRetryDelay  = 30 * time.Second
	// MaxObjectBytes bounds one downloaded object; a larger one is reported
	// and skipped.
	MaxObjectBytes = 512 << 20
	// chunk is the most events handed to the Processor at once.
	chunk = 1000
)

// Options configure a Consumer. AWS, QueueURL, Processor and Now are
// required.
type Options struct {
	AWS       aws.Config
	PathStyle bool // path-style S3 addressing, for S3-compatible servers.
	QueueURL  string

	Processor source.Processor
	// Store keeps the source's checkpoint (key CheckpointKey(QueueURL)):
	// last run, events processed, newest event time, last error; a paused
	// checkpoint stops receiving. Nil: no checkpoint.
	Store    iamwatch.CheckpointStore
	Observer source.Observer // nil: source.Nop. May also be a FailureObserver.
	Logger   *slog.Logger    // nil: discard.
	Now      func() time.Time

	// Workers is how many messages are handled at once (DefaultWorkers).
	Workers int
	// Visibility is the visibility timeout requested on receive and
	// renewed every third of it while a message is handled
	// (DefaultVisibility; whole seconds, at least one).
	Visibility time.Duration
	// MaxReceives is the receive count from which a failing message is
	// reported as poison (DefaultMaxReceives). Poison is not deleted: the
	// queue's redrive policy moves it to the dead-letter queue.
	MaxReceives int
	// Wait is the long-poll wait of ReceiveMessage, at most 20 s
	// (DefaultWait).
	Wait time.Duration
	// RetryDelay is the visibility timeout given to a message that failed
	// the first time; it doubles with each receive, up to Visibility
	// (DefaultRetryDelay).
	RetryDelay time.Duration
	Decode     cloudtrail.Options
}

// FailureObserver is told of messages that failed. An Options.Observer that
// implements it is called; it must be safe for concurrent use.
type FailureObserver interface {
	// MessageFailed reports a message left on the queue after a failure;
	// poison says it reached MaxReceives and is left to the redrive policy.
	MessageFailed(source string, poison bool)
}

// queueAPI is the part of the SQS client the consumer uses.
type queueAPI interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, opts ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
}

// objectAPI is the part of the S3 client the consumer uses.
type objectAPI interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// Consumer reads the queue and feeds the pipeline. Create it with New. Its
// methods are safe for concurrent use, but one Run per Consumer is the
// intended shape.
type Consumer struct {
	o      Options
	queue  queueAPI
	s3     objectAPI
	cpKey  string
	failed FailureObserver // nil when the observer does not count failures.

	cpMu sync.Mutex // serialises the checkpoint's read-modify-write.
}

// CheckpointKey returns the checkpoint key of a queue: "sqs/ACCOUNT/NAME"
// (the queue URL's path), or "sqs/URL" when the URL has no path.
func CheckpointKey(queueURL string) string {
	if u, err := url.Parse(queueURL); err == nil && strings.Trim(u.Path, "/") != "" {
		return "sqs/" + strings.Trim(u.Path, "/")
	}
	return "sqs/" + queueURL
}

// New validates o and returns a Consumer.
func New(o Options) (*Consumer, error) {
	if o.QueueURL == "" || o.Processor == nil || o.Now == nil {
		return nil, errors.New("sqs: QueueURL, Processor and Now are required")
	}
	if o.Observer == nil {
		o.Observer = source.Nop{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
	}
	if o.Visibility <= 0 {
		o.Visibility = DefaultVisibility
	}
	if o.Visibility < time.Second || o.Visibility > 12*time.Hour {
		return nil, fmt.Errorf("sqs: Visibility %s is outside 1s–12h", o.Visibility)
	}
	if o.MaxReceives <= 0 {
		o.MaxReceives = DefaultMaxReceives
	}
	switch {
	case o.Wait == 0:
		o.Wait = DefaultWait
	case o.Wait < 0 || o.Wait > 20*time.Second:
		return nil, fmt.Errorf("sqs: Wait %s is outside 0–20s", o.Wait)
	}
	if o.RetryDelay <= 0 {
		o.RetryDelay = DefaultRetryDelay
	}
	if _, err := cloudtrail.NewDecoder(o.Decode); err != nil {
		return nil, fmt.Errorf("sqs: %w", err)
	}
	c := &Consumer{
		o:     o,
		queue: sqs.NewFromConfig(o.AWS),
		s3: s3.NewFromConfig(o.AWS, func(so *s3.Options) {
			so.UsePathStyle = o.PathStyle
			// S3-compatible servers send no checksum; the SDK would log that
			// on every object, outside the daemon's structured log.
			so.DisableLogOutputChecksumValidationSkipped = true
		}),
		cpKey: CheckpointKey(o.QueueURL),
	}
	c.failed, _ = o.Observer.(FailureObserver)
	return c, nil
}

// Run receives and handles messages, Workers at once, until ctx is done;
// then it stops receiving, lets the messages in hand finish (their events
// stored and the messages deleted, or released to the queue when a
// download was cut short) and returns nil.
func (c *Consumer) Run(ctx context.Context) error {
	sem := make(chan struct{}, c.o.Workers)
	var wg sync.WaitGroup
	defer wg.Wait()
	failures := 0
	for {
		// Wait for a free worker, then take every other free one: receive
		// only what can be handled at once, so nothing waits invisible.
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		free := 1
	grab:
		for free < min(c.o.Workers, 10) {
			select {
			case sem <- struct{}{}:
				free++
			default:
				break grab
			}
		}
		if c.paused(ctx) {
			release(sem, free)
			if source.Sleep(ctx, c.o.Wait) != nil {
				return nil
			}
			continue
		}
		msgs, err := c.receive(ctx, free)
		if err != nil {
			release(sem, free)
			if ctx.Err() != nil {
				return nil
			}
			failures++
			c.o.Logger.ErrorContext(ctx, "sqs: receive failed", "error", err.Error(), "attempt", failures)
			c.record(ctx, func(cp *iamwatch.Checkpoint) { cp.Status, cp.LastError = source.StatusError, err.Error() })
			if source.Sleep(ctx, source.Backoff(failures, time.Second, time.Minute, nil)) != nil {
				return nil
			}
			continue
		}
		failures = 0
		release(sem, free-len(msgs))
		for _, m := range msgs {
			wg.Go(func() {
				defer func() { <-sem }()
				c.handle(ctx, m)
			})
		}
	}
}

func release(sem chan struct{}, n int) {
	for range n {
		<-sem
	}
}

// PollOnce receives one batch (up to min(Workers, 10) messages, waiting at
// most Wait for the first), handles it with Workers at once and returns how
// many messages it received.
func (c *Consumer) PollOnce(ctx context.Context) (int, error) {
	msgs, err := c.receive(ctx, min(c.o.Workers, 10))
	if err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, c.o.Workers)
	for _, m := range msgs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			c.handle(ctx, m)
		})
	}
	wg.Wait()
	return len(msgs), nil
}

func (c *Consumer) receive(ctx context.Context, n int) ([]types.Message, error) {
	out, err := c.queue.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(c.o.QueueURL),
		MaxNumberOfMessages:         int32(min(n, 10)),
		WaitTimeSeconds:             int32(c.o.Wait / time.Second),
		VisibilityTimeout:           seconds(c.o.Visibility),
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameApproximateReceiveCount},
	})
	if err != nil {
		if ctx.Err() == nil {
			c.o.Observer.APIError(Name, "ReceiveMessage", isThrottle(err))
		}
		return nil, fmt.Errorf("sqs: receive from %s: %w", c.o.QueueURL, err)
	}
	return out.Messages, nil
}

// handle processes one message and deletes it, or leaves it on the queue
// with a retry delay when it failed.
func (c *Consumer) handle(ctx context.Context, m types.Message) {
	id := aws.ToString(m.MessageId)
	beatCtx, stopBeat := context.WithCancel(context.WithoutCancel(ctx))
	beatDone := make(chan struct{})
	go func() { // owner: handle; ends with stopBeat.
		defer close(beatDone)
		c.heartbeat(beatCtx, m)
	}()
	res, newest, err := c.process(ctx, m)
	stopBeat()
	<-beatDone

	// The work is durable (or failed): the rest must happen even while
	// shutting down.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err != nil {
		c.fail(wctx, m, err, ctx.Err() != nil)
		return
	}
	if _, derr := c.queue.DeleteMessage(wctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(c.o.QueueURL), ReceiptHandle: m.ReceiptHandle}); derr != nil {
		// Stored anyway: the redelivery stores nothing new.
		c.o.Observer.APIError(Name, "DeleteMessage", isThrottle(derr))
		c.o.Logger.WarnContext(ctx, "sqs: delete failed; the message will be delivered again", "message_id", id, "error", derr.Error())
	}
	c.record(wctx, func(cp *iamwatch.Checkpoint) {
		cp.Position = id
		cp.Processed += int64(res.Events)
		if newest.After(cp.EventTime) {
			cp.EventTime = newest
		}
		cp.Status, cp.LastError = source.StatusActive, ""
	})
}

// heartbeat renews the message's visibility every third of Visibility
// until ctx is done.
func (c *Consumer) heartbeat(ctx context.Context, m types.Message) {
	every := c.o.Visibility / 3
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := c.setVisibility(ctx, m, c.o.Visibility); err != nil && ctx.Err() == nil {
			c.o.Logger.WarnContext(ctx, "sqs: extend visibility failed", "message_id", aws.ToString(m.MessageId), "error", err.Error())
		}
	}
}

func (c *Consumer) setVisibility(ctx context.Context, m types.Message, d time.Duration) error {
	_, err := c.queue.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(c.o.QueueURL), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: seconds(d),
	})
	if err != nil && ctx.Err() == nil {
		c.o.Observer.APIError(Name, "ChangeMessageVisibility", isThrottle(err))
	}
	return err
}

// fail leaves a failed message on the queue. When the failure is a
// shutdown cutting the work short the message is released at once;
// otherwise it comes back after a delay growing with its receive count,
// and from MaxReceives on it is reported as poison, for the redrive policy.
func (c *Consumer) fail(ctx context.Context, m types.Message, err error, shutdown bool) {
	id := aws.ToString(m.MessageId)
	if shutdown {
		_ = c.setVisibility(ctx, m, 0)
		return
	}
	count := ReceiveCount(m.Attributes)
	poison := count >= c.o.MaxReceives
	log := c.o.Logger.With("message_id", id, "receive_count", count, "error", err.Error())
	if poison {
		log.ErrorContext(ctx, "sqs: message keeps failing; left to the queue's redrive policy", "max_receives", c.o.MaxReceives)
	} else {
		log.WarnContext(ctx, "sqs: message failed; it will be received again")
	}
	if c.failed != nil {
		c.failed.MessageFailed(Name, poison)
	}
	delay := source.Backoff(max(count, 1), c.o.RetryDelay, c.o.Visibility, nil)
	if verr := c.setVisibility(ctx, m, delay); verr != nil {
		log.WarnContext(ctx, "sqs: set retry delay failed; the message comes back after its visibility timeout", "visibility_error", verr.Error())
	}
	c.record(ctx, func(cp *iamwatch.Checkpoint) {
		cp.Status, cp.LastError = source.StatusError, fmt.Sprintf("message %s (receive %d): %v", id, count, err)
	})
}

// ReceiveCount reads ApproximateReceiveCount from a message's system
// attributes; 1 when absent or unreadable.
func ReceiveCount(attrs map[string]string) int {
	n, err := strconv.Atoi(attrs[string(types.MessageSystemAttributeNameApproximateReceiveCount)])
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// process reads what the message names and stores its events. It returns
// the pipeline totals and the newest event time.
func (c *Consumer) process(ctx context.Context, m types.Message) (pipeline.Result, time.Time, error) {
	var total pipeline.Result
	var newest time.Time
	id := aws.ToString(m.MessageId)
	msg, err := ParseMessage([]byte(aws.ToString(m.Body)))
	if err != nil {
		return total, newest, fmt.Errorf("message %s: %w", id, err)
	}
	store := func(name string, events []iamwatch.Event) error {
		if len(events) == 0 {
			return nil
		}
		res, err := source.ProcessChunks(ctx, c.o.Processor, c.o.Observer, Name, events, chunk)
		total.Add(res)
		if err != nil {
			return fmt.Errorf("sqs: %s: %w", name, err)
		}
		if t := source.Newest(events); t.After(newest) {
			newest = t
		}
		return nil
	}
	switch {
	case msg.Inline != nil:
		name := "sqs:" + id
		events, rejected, err := source.DecodeObject(ctx, name, msg.Inline, c.o.Decode)
		if rejected > 0 || err != nil {
			c.reject(ctx, name, rejected, err)
		}
		if err := store(name, events); err != nil {
			return total, newest, err
		}
	default:
		for _, o := range msg.Objects {
			name := "s3://" + o.Bucket + "/" + o.Key
			events, err := c.fetch(ctx, o, name)
			if err != nil {
				return total, newest, err
			}
			if err := store(name, events); err != nil {
				return total, newest, err
			}
		}
	}
	if len(msg.Objects) == 0 && msg.Inline == nil {
		c.o.Logger.DebugContext(ctx, "sqs: nothing to read", "message_id", id, "kind", string(msg.Kind))
	}
	return total, newest, nil
}

// fetch downloads and decodes one object. A missing object or a failed
// download is an error (the message is retried); an object that is not
// CloudTrail, or too large, is reported and yields nothing.
func (c *Consumer) fetch(ctx context.Context, o Object, name string) ([]iamwatch.Event, error) {
	if err := cloudtrail.SkipByName(name); err != nil { // not downloaded
		c.o.Logger.DebugContext(ctx, "sqs: object skipped", "object", name, "reason", err.Error())
		return nil, nil
	}
	if o.Size > MaxObjectBytes {
		c.reject(ctx, name, 1, fmt.Errorf("%d bytes: larger than %d", o.Size, MaxObjectBytes))
		return nil, nil
	}
	out, err := c.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(o.Bucket), Key: aws.String(o.Key)})
	if err != nil {
		if ctx.Err() == nil {
			c.o.Observer.APIError(Name, "GetObject", isThrottle(err))
		}
		return nil, fmt.Errorf("sqs: get %s: %w", name, err)
	}
	body, err := io.ReadAll(io.LimitReader(out.Body, MaxObjectBytes+1))
	out.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("sqs: read %s: %w", name, err)
	}
	if len(body) > MaxObjectBytes {
		c.reject(ctx, name, 1, fmt.Errorf("larger than %d bytes", MaxObjectBytes))
		return nil, nil
	}
	events, rejected, err := source.DecodeObject(ctx, name, body, c.o.Decode)
	switch {
	case errors.Is(err, cloudtrail.ErrSkipped): // a digest or Insights file by its content.
		return nil, nil
	case err != nil && ctx.Err() != nil:
		return nil, ctx.Err()
	case err != nil:
		rejected++
	}
	if rejected > 0 {
		c.reject(ctx, name, rejected, err)
	}
	return events, nil
}

// reject reports records or inputs that could not be decoded.
func (c *Consumer) reject(ctx context.Context, name string, n int, err error) {
	if n == 0 && err == nil {
		return
	}
	if n == 0 {
		n = 1
	}
	c.o.Observer.Rejected(Name, n)
	args := []any{"input", name, "rejected", n}
	if err != nil {
		args = append(args, "error", err.Error())
	}
	c.o.Logger.WarnContext(ctx, "sqs: records rejected", args...)
}

// paused reports whether the operator paused the source.
func (c *Consumer) paused(ctx context.Context) bool {
	if c.o.Store == nil {
		return false
	}
	cp, _, err := c.o.Store.Checkpoint(ctx, c.cpKey)
	return err == nil && cp.Status == source.StatusPaused
}

// record updates the checkpoint with f, unless the operator paused it.
func (c *Consumer) record(ctx context.Context, f func(*iamwatch.Checkpoint)) {
	if c.o.Store == nil {
		return
	}
	c.cpMu.Lock()
	defer c.cpMu.Unlock()
	cp, _, err := c.o.Store.Checkpoint(ctx, c.cpKey)
	if err == nil {
		paused := cp.Status == source.StatusPaused
		f(&cp)
		if paused {
			cp.Status = source.StatusPaused
		}
		cp.Key, cp.LastRun = c.cpKey, c.o.Now().UTC()
		err = c.o.Store.PutCheckpoint(ctx, cp)
	}
	if err != nil {
		c.o.Logger.WarnContext(ctx, "sqs: save checkpoint", "error", err.Error())
	}
}

// seconds converts d to whole seconds for the SQS API, rounding up.
func seconds(d time.Duration) int32 {
	return int32((d + time.Second - 1) / time.Second)
}

// isThrottle reports an SQS or S3 throttling error.
func isThrottle(err error) bool {
	var ae interface{ ErrorCode() string }
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "ThrottlingException", "Throttling", "RequestThrottled", "SlowDown", "KmsThrottled":
		return true
	}
	return false
}

package lambda

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/cloudtrail"
	"github.com/iamwatch/iamwatch/pipeline"
	srcsqs "github.com/iamwatch/iamwatch/source/sqs"
)

// SQS handles a batch of SQS messages. Each message is parsed and processed
// on its own; a message that fails (unreadable, not CloudTrail, an S3 object
// that cannot be read, a store error) is reported in batchItemFailures so
// that SQS redelivers only it (and, after the queue's maxReceiveCount, moves
// it to the dead-letter queue), while the rest of the batch is deleted.
// The event source mapping must have ReportBatchItemFailures on (the
// template sets it).
//
// The error is non-nil only when the payload is not an SQS batch at all.
func (h *Handler) SQS(ctx context.Context, payload []byte) (events.SQSEventResponse, error) {
	var batch events.SQSEvent
	if err := json.Unmarshal(payload, &batch); err != nil {
		return events.SQSEventResponse{}, fmt.Errorf("lambda: sqs batch: %w", err)
	}
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	var total pipeline.Result
	for i := range batch.Records {
		msg := &batch.Records[i]
		res, err := h.sqsMessage(ctx, msg)
		total.Add(res)
		if err != nil {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: msg.MessageId})
			h.log.LogAttrs(ctx, slog.LevelWarn, "sqs: message failed",
				slog.String("message_id", msg.MessageId), slog.String("error", err.Error()))
		}
		if ctx.Err() != nil {
			// Out of time: the rest go back to the queue untouched.
			for _, rest := range batch.Records[i+1:] {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rest.MessageId})
			}
			break
		}
	}
	attrs := append(resultAttrs(total, nil), slog.Int("messages", len(batch.Records)), slog.Int("failed", len(resp.BatchItemFailures)))
	h.log.LogAttrs(ctx, slog.LevelInfo, "sqs", attrs...)
	return resp, nil
}

// sqsMessage processes one message. Its shape is read by source/sqs (S3
// notifications direct or through SNS or EventBridge, CloudTrail's SNS
// notification, EventBridge events of CloudTrail records); a body of
// another shape that is JSON is decoded as CloudTrail data (records, a
// trail file's {"Records":[…]}), which refuses what is not CloudTrail.
func (h *Handler) sqsMessage(ctx context.Context, msg *events.SQSMessage) (pipeline.Result, error) {
	body := []byte(msg.Body)
	m, err := srcsqs.ParseMessage(body)
	switch {
	case errors.Is(err, srcsqs.ErrUnknownMessage) && json.Valid(body):
		m = srcsqs.Message{Inline: body}
	case err != nil:
		return pipeline.Result{}, fmt.Errorf("message %s: %w", msg.MessageId, err)
	case m.Kind == srcsqs.KindS3TestEvent || m.Kind == srcsqs.KindIgnored:
		return pipeline.Result{}, nil
	}
	var evs []iamwatch.Event
	if m.Inline != nil {
		var st cloudtrail.Stats
		evs, st, err = h.decode(ctx, bytes.NewReader(m.Inline), "sqs:"+msg.MessageId)
		if err != nil {
			return pipeline.Result{}, err
		}
		if len(evs) == 0 && st.Rejected > 0 {
			return pipeline.Result{}, fmt.Errorf("message %s: none of its %d records is CloudTrail", msg.MessageId, st.Records)
		}
		if st.Rejected > 0 {
			h.log.LogAttrs(ctx, slog.LevelWarn, "sqs: records rejected",
				slog.String("message_id", msg.MessageId), slog.Int("rejected", st.Rejected), slog.Int("records", st.Records))
		}
	}
	for _, o := range m.Objects {
		oe, err := h.readObject(ctx, o.Bucket, o.Key)
		if err != nil {
			return pipeline.Result{}, fmt.Errorf("message %s: %w", msg.MessageId, err)
		}
		evs = append(evs, oe...)
	}
	if len(evs) == 0 {
		return pipeline.Result{}, nil
	}
	return h.process(ctx, evs)
}

// readObject reads and decodes one trail file. Digest and Insights files
// and other services' logs yield nothing; those that say so by their key
// (a bucket notification covering a whole log archive) are not downloaded.
func (h *Handler) readObject(ctx context.Context, bucket, key string) ([]iamwatch.Event, error) {
	if h.d.Objects == nil {
		return nil, errNotConfigured("S3 notifications (no object reader)")
	}
	name := "s3://" + bucket + "/" + key
	if err := cloudtrail.SkipByName(name); err != nil {
		h.log.LogAttrs(ctx, slog.LevelDebug, "sqs: object skipped", slog.String("object", name), slog.String("reason", err.Error()))
		return nil, nil
	}
	rc, err := h.d.Objects.Open(ctx, bucket, key)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	defer rc.Close()
	evs, _, err := h.decode(ctx, rc, name)
	if errors.Is(err, cloudtrail.ErrSkipped) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return evs, nil
}

package lambda

import (
	"context"
	"fmt"
	"time"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/pipeline"
	"github.com/iamwatch/iamwatch/source"
)

// Task runs a scheduled task: poll, export or flush.
func (h *Handler) Task(ctx context.Context, task string) error {
	switch task {
	case TaskPoll:
		if h.d.Poller == nil {
			return errNotConfigured("polling")
		}
		if err := h.d.Poller.PollOnce(ctx); err != nil {
			return fmt.Errorf("lambda: poll: %w", err)
		}
		return nil
	case TaskExport:
		if h.d.Exporter == nil {
			return errNotConfigured("exports")
		}
		if err := h.d.Exporter.Export(ctx, h.now()); err != nil {
			return fmt.Errorf("lambda: export: %w", err)
		}
		return nil
	case TaskFlush:
		if h.d.Flush == nil {
			return errNotConfigured("flushing the outbox")
		}
		if err := h.d.Flush(ctx); err != nil {
			return fmt.Errorf("lambda: flush: %w", err)
		}
		return nil
	}
	return fmt.Errorf("lambda: unknown task %q (want %s, %s or %s)", task, TaskPoll, TaskExport, TaskFlush)
}

func (h *Handler) now() time.Time {
	if h.d.Now != nil {
		return h.d.Now()
	}
	return time.Now()
}

// Processor is the handler's pipeline (store, detect, publish) as a live
// source sees it: the poller feeds it, so polled events alert like
// real-time ones.
func (h *Handler) Processor() source.Processor {
	return processorFunc(h.process)
}

type processorFunc func(ctx context.Context, events []iamwatch.Event) (pipeline.Result, error)

func (f processorFunc) Process(ctx context.Context, events []iamwatch.Event) (pipeline.Result, error) {
	return f(ctx, events)
}

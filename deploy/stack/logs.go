package stack

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// logsAPI is the CloudWatch Logs call `iamwatch logs` makes.
type logsAPI interface {
	FilterLogEvents(ctx context.Context, in *cloudwatchlogs.FilterLogEventsInput, opts ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.FilterLogEventsOutput, error)
}

var _ logsAPI = (*cloudwatchlogs.Client)(nil)

// LogLine is one log event of one function.
type LogLine struct {
	Function string
	Time     time.Time
	Message  string
}

// Tailer reads the functions' log groups (/aws/lambda/<stack>-<function>).
type Tailer struct {
	client logsAPI
	sleep  func(ctx context.Context, d time.Duration) error
	poll   time.Duration
}

// NewTailer returns a Tailer over client.
func NewTailer(client *cloudwatchlogs.Client) *Tailer { return newTailer(client) }

func newTailer(c logsAPI) *Tailer { return &Tailer{client: c, sleep: sleep, poll: 2 * time.Second} }

// LogGroup is the log group of a function of a stack (as the template names it).
func LogGroup(stack, function string) string { return "/aws/lambda/" + stack + "-" + function }

// TailOptions select what Tail reads.
type TailOptions struct {
	Stack     string
	Functions []string
	Since     time.Time
	Filter    string // a CloudWatch Logs filter pattern, or "".
	Follow    bool   // keep polling until ctx ends.
}

// Tail calls emit with the functions' log events since o.Since, oldest
// first within each poll; with Follow it polls again every two seconds for
// newer events until ctx ends (then it returns nil). A log group that does
// not exist yet (the function never ran) is skipped.
func (t *Tailer) Tail(ctx context.Context, o TailOptions, emit func(LogLine) error) error {
	from := map[string]int64{}
	seen := map[string]bool{}
	for _, f := range o.Functions {
		from[f] = o.Since.UnixMilli()
	}
	for {
		var batch []LogLine
		for _, f := range o.Functions {
			in := &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(LogGroup(o.Stack, f)), StartTime: aws.Int64(from[f])}
			if o.Filter != "" {
				in.FilterPattern = aws.String(o.Filter)
			}
			for {
				out, err := t.client.FilterLogEvents(ctx, in)
				var nf *types.ResourceNotFoundException
				if errors.As(err, &nf) {
					break
				}
				if err != nil {
					if ctx.Err() != nil && o.Follow {
						return nil
					}
					return fmt.Errorf("stack: logs of %s: %w", f, err)
				}
				for _, e := range out.Events {
					id := aws.ToString(e.EventId)
					if seen[id] {
						continue
					}
					seen[id] = true
					ts := aws.ToInt64(e.Timestamp)
					from[f] = max(from[f], ts)
					batch = append(batch, LogLine{Function: f, Time: time.UnixMilli(ts).UTC(), Message: aws.ToString(e.Message)})
				}
				if out.NextToken == nil {
					break
				}
				in.NextToken = out.NextToken
			}
		}
		slices.SortStableFunc(batch, func(a, b LogLine) int { return cmp.Compare(a.Time.UnixMilli(), b.Time.UnixMilli()) })
		for _, l := range batch {
			if err := emit(l); err != nil {
				return err
			}
		}
		if !o.Follow {
			return nil
		}
		if err := t.sleep(ctx, t.poll); err != nil {
			return nil //nolint:nilerr // Ctrl-C while following: a clean stop
		}
	}
}

package lookup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"golang.org/x/sync/errgroup"

	"github.com/iamwatch/iamwatch"
	ctdecode "github.com/iamwatch/iamwatch/cloudtrail"
	"github.com/iamwatch/iamwatch/source"
)

// Name is the source name in metrics and logs.
const Name = "lookup"

// Limits and defaults.
const (
	// MaxBackfill is how far back LookupEvents keeps events.
	MaxBackfill = 90 * 24 * time.Hour
	// DefaultDelay is how far behind now a window ends: CloudTrail delivers
	// events to LookupEvents up to about five minutes after they happen.
	DefaultDelay = 5 * time.Minute
	// DefaultOverlap is how far before its checkpoint a window starts again,
	// for events that arrive later still. The store ignores repeats.
	DefaultOverlap = 2 * time.Minute
	// DefaultInterval is the time between two polls of a stream.
	DefaultInterval = time.Minute
	// DefaultRate is the requests a second per account and region: AWS
	// allows 2.
	DefaultRate = 1.8
	// DefaultChunk is the longest window between two checkpoints, so a long
	// backfill saves its progress as it goes.
	DefaultChunk = 6 * time.Hour
	// HomeRegion is where IAM and console sign-in events are recorded.
	HomeRegion = "us-east-1"
)

// Account is an AWS account to poll. With a RoleARN the source assumes the
// role (with ExternalID when set); without, it is the base credentials' own
// account.
type Account struct {
	RoleARN    string
	ExternalID string
}

// ID returns the account ID of the role ARN, or "".
func (a Account) ID() string {
	parts := strings.Split(a.RoleARN, ":")
	if len(parts) < 6 {
		return ""
	}
	return parts[4]
}

// Options configure a Source. AWS, Store and Processor are required.
type Options struct {
	AWS       aws.Config // base configuration: credentials chain, endpoints.
	Store     iamwatch.CheckpointStore
	Processor source.Processor
	Observer  source.Observer // nil: source.Nop.
	Logger    *slog.Logger    // nil: discard.
	Now       func() time.Time

	// Accounts to poll; none means the base credentials' own account, and so
	// does an entry without a RoleARN (the own account and members: one
	// such entry, and roles). A role in the own account is skipped when the
	// own account is polled already.
	Accounts []Account
	// Regions polled for STS events; none means us-east-1, and AllRegions
	// every region enabled in each account.
	Regions []string
	// SSORegion is IAM Identity Center's region ("": no Identity Center streams).
	SSORegion string

	Backfill time.Duration // first run: how far back (0: none; at most MaxBackfill).
	Interval time.Duration // between polls (DefaultInterval).
	Delay    time.Duration // window end = now − Delay (DefaultDelay).
	Overlap  time.Duration // window start = checkpoint − Overlap (DefaultOverlap).
	Chunk    time.Duration // longest window (DefaultChunk).
	Rate     float64       // requests a second per account and region (DefaultRate).
	// MaxAttempts bounds the calls of one page when throttled or failing
	// transiently (8); Backoff is the first wait (1 s), doubling to 30 s.
	MaxAttempts int
	Backoff     time.Duration
	Workers     int // (account, region) pairs polled at once (4).
}

func (o *Options) setDefaults() error {
	if o.Store == nil || o.Processor == nil || o.Now == nil {
		return errors.New("lookup: Store, Processor and Now are required")
	}
	if o.Backfill < 0 || o.Backfill > MaxBackfill {
		return fmt.Errorf("lookup: backfill %s is outside 0–90 days", o.Backfill)
	}
	self := 0
	for _, a := range o.Accounts {
		if a.RoleARN == "" {
			self++
			continue
		}
		if a.ID() == "" {
			return fmt.Errorf("lookup: account role %q is not a role ARN", a.RoleARN)
		}
	}
	if self > 1 {
		return errors.New("lookup: the own account is listed more than once")
	}
	if o.Observer == nil {
		o.Observer = source.Nop{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if len(o.Regions) == 0 {
		o.Regions = []string{HomeRegion}
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.Interval, DefaultInterval)
	def(&o.Delay, DefaultDelay)
	def(&o.Overlap, DefaultOverlap)
	def(&o.Chunk, DefaultChunk)
	def(&o.Backoff, time.Second)
	if o.Rate <= 0 {
		o.Rate = DefaultRate
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 8
	}
	if o.Workers <= 0 {
		o.Workers = 4
	}
	return nil
}

// Stream is one (account, region, event source) polled on its own, with its
// own checkpoint.
type Stream struct {
	Account string // account ID.
	Region  string
	Source  string // eventSource, the one lookup attribute of each call.
}

// Key is the stream's checkpoint key: lookup/ACCOUNT/REGION/SOURCE.
func (s Stream) Key() string { return "lookup/" + s.Account + "/" + s.Region + "/" + s.Source }

// Streams lists what is polled in one account: IAM and sign-in events in
// us-east-1, STS in every region, and Identity Center (sso, sso-directory,
// identitystore, and its sign-ins) in ssoRegion. Sorted by region, then source.
func Streams(account string, regions []string, ssoRegion string) []Stream {
	set := map[Stream]bool{}
	add := func(region string, sources ...string) {
		for _, s := range sources {
			set[Stream{Account: account, Region: region, Source: s}] = true
		}
	}
	add(HomeRegion, "iam.amazonaws.com", "signin.amazonaws.com")
	for _, r := range regions {
		add(r, "sts.amazonaws.com")
	}
	if ssoRegion != "" {
		add(ssoRegion, "sso.amazonaws.com", "sso-directory.amazonaws.com", "identitystore.amazonaws.com", "signin.amazonaws.com")
	}
	out := make([]Stream, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b Stream) int {
		return strings.Compare(a.Region+"\x00"+a.Source, b.Region+"\x00"+b.Source)
	})
	return out
}

// api is the part of the CloudTrail client the source uses.
type api interface {
	LookupEvents(ctx context.Context, in *cloudtrail.LookupEventsInput, opts ...func(*cloudtrail.Options)) (*cloudtrail.LookupEventsOutput, error)
}

// stsAPI is the part of the STS client the source uses.
type stsAPI interface {
	GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, opts ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// assumeAPI is the STS call that reaches member accounts (Options.Accounts
// with a RoleARN), through stscreds.
type assumeAPI interface {
	AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, opts ...func(*sts.Options)) (*sts.AssumeRoleOutput, error)
}

var _ stscreds.AssumeRoleAPIClient = assumeAPI(nil)

// Source polls LookupEvents. Create it with New; Run it once.
type Source struct {
	o Options
}

// New validates o and returns a Source.
func New(o Options) (*Source, error) {
	if err := o.setDefaults(); err != nil {
		return nil, err
	}
	return &Source{o: o}, nil
}

// group is the streams of one (account, region): they share one client and
// one pacer, and are polled one after the other.
type group struct {
	account, region string
	client          api
	pacer           *source.Pacer
	streams         []Stream
}

// Run polls every stream every Interval until ctx is done; then it returns
// nil once the batch in hand is stored and its checkpoint saved. Errors of a
// stream are recorded in its checkpoint and retried at the next poll; Run
// fails only when it cannot start (the base account cannot be identified
// and ctx ends first).
func (s *Source) Run(ctx context.Context) error {
	groups, _, err := s.groups(ctx) // an account skipped here is logged, and tried again when Run is.
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	sem := make(chan struct{}, s.o.Workers)
	for _, gr := range groups {
		g.Go(func() error {
			for {
				select {
				case sem <- struct{}{}:
				case <-gctx.Done():
					return nil
				}
				_ = s.pollGroup(gctx, gr) // logged and kept in each stream's checkpoint; the next pass retries
				<-sem
				if source.Sleep(gctx, s.o.Interval) != nil {
					return nil //nolint:nilerr // the context ended: a clean stop
				}
			}
		})
	}
	return g.Wait()
}

// PollOnce polls every stream once (all windows up to now − Delay) and
// returns the errors of the streams that failed, joined.
func (s *Source) PollOnce(ctx context.Context) error {
	groups, skipped, err := s.groups(ctx)
	if err != nil {
		return err
	}
	var (
		mu   sync.Mutex
		errs = []error{skipped}
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.o.Workers)
	for _, gr := range groups {
		g.Go(func() error {
			if err := s.pollGroup(gctx, gr); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
			return nil
		})
	}
	_ = g.Wait()
	return errors.Join(errs...)
}

// groups resolves the accounts and builds one client per (account, region).
// An account whose enabled regions cannot be listed (its role not deployed
// yet, or not assumable) is left out, logged, and its error returned as
// skipped, so it does not stop the others; err is only for the own account
// that cannot be identified.
func (s *Source) groups(ctx context.Context) (out []*group, skipped error, err error) {
	type acct struct {
		id  string
		cfg aws.Config
	}
	var accts []acct
	self := ""
	if len(s.o.Accounts) == 0 || slices.ContainsFunc(s.o.Accounts, func(a Account) bool { return a.RoleARN == "" }) {
		id, err := s.callerAccount(ctx)
		if err != nil {
			return nil, nil, err
		}
		self = id
		accts = append(accts, acct{id: id, cfg: s.o.AWS})
	}
	var stsClient assumeAPI = sts.NewFromConfig(s.o.AWS)
	for _, a := range s.o.Accounts {
		if a.RoleARN == "" || a.ID() == self {
			continue // the own account, with the base credentials.
		}
		cfg := s.o.AWS.Copy()
		cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(stsClient, a.RoleARN, func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = "iamwatch"
			if a.ExternalID != "" {
				o.ExternalID = aws.String(a.ExternalID)
			}
		}))
		accts = append(accts, acct{id: a.ID(), cfg: cfg})
	}
	var skips []error
	for _, a := range accts {
		regions, err := s.regionsOf(ctx, a.cfg)
		if err != nil {
			err = fmt.Errorf("lookup: account %s skipped: %w", a.id, err)
			s.o.Logger.ErrorContext(ctx, "lookup: account skipped", "account", a.id, "error", err.Error())
			skips = append(skips, err)
			continue
		}
		byRegion := map[string]*group{}
		for _, st := range Streams(a.id, regions, s.o.SSORegion) {
			gr := byRegion[st.Region]
			if gr == nil {
				client := cloudtrail.NewFromConfig(a.cfg, func(o *cloudtrail.Options) {
					o.Region = st.Region
					o.RetryMaxAttempts = 1 // throttling and transient errors back off here, counted.
				})
				gr = &group{account: a.id, region: st.Region, client: client, pacer: source.NewPacer(s.o.Rate, s.o.Now)}
				byRegion[st.Region] = gr
				out = append(out, gr)
			}
			gr.streams = append(gr.streams, st)
		}
	}
	return out, errors.Join(skips...), nil
}

// callerAccount returns the account of the base credentials, retrying
// transient failures until ctx ends.
func (s *Source) callerAccount(ctx context.Context) (string, error) {
	var client stsAPI = sts.NewFromConfig(s.o.AWS)
	for attempt := 1; ; attempt++ {
		out, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err == nil && aws.ToString(out.Account) != "" {
			return aws.ToString(out.Account), nil
		}
		if err == nil {
			err = errors.New("no account in the answer")
		}
		s.o.Observer.APIError(Name, "GetCallerIdentity", isThrottle(err))
		if !retryable(err) || attempt >= s.o.MaxAttempts {
			return "", fmt.Errorf("lookup: identify the account of the credentials: %w", err)
		}
		s.o.Logger.WarnContext(ctx, "lookup: identify account", "error", err.Error(), "attempt", attempt)
		if err := source.Sleep(ctx, source.Backoff(attempt, s.o.Backoff, 30*time.Second, nil)); err != nil {
			return "", fmt.Errorf("lookup: identify the account of the credentials: %w", err)
		}
	}
}

// pollGroup polls each stream of gr once, returning their errors joined.
func (s *Source) pollGroup(ctx context.Context, gr *group) error {
	var errs []error
	for _, st := range gr.streams {
		if ctx.Err() != nil {
			break
		}
		if err := s.pollStream(ctx, gr, st); err != nil && ctx.Err() == nil {
			s.o.Logger.ErrorContext(ctx, "lookup: poll failed", "stream", st.Key(), "error", err.Error())
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// pollStream polls st from its checkpoint (less Overlap; or now − Backfill
// the first time) to now − Delay, in windows of at most Chunk, saving the
// checkpoint after each window is stored.
func (s *Source) pollStream(ctx context.Context, gr *group, st Stream) error {
	cp, ok, err := s.o.Store.Checkpoint(ctx, st.Key())
	if err != nil {
		return fmt.Errorf("lookup: %s: %w", st.Key(), err)
	}
	if cp.Status == source.StatusPaused {
		return nil
	}
	now := s.o.Now().UTC()
	end := now.Add(-s.o.Delay).Truncate(time.Second)
	start := now.Add(-s.o.Backfill).Truncate(time.Second)
	if ok && cp.Position != "" {
		pos, err := time.Parse(time.RFC3339Nano, cp.Position)
		if err != nil {
			return fmt.Errorf("lookup: %s: checkpoint position %q: %w", st.Key(), cp.Position, err)
		}
		start = pos.Add(-s.o.Overlap)
	}
	if floor := now.Add(-MaxBackfill).Truncate(time.Second); start.Before(floor) {
		start = floor
	}
	for start.Before(end) {
		wend := start.Add(s.o.Chunk)
		if wend.After(end) {
			wend = end
		}
		n, newest, err := s.window(ctx, gr, st, start, wend)
		// Saving the checkpoint must not be cut short by shutdown: the
		// window's events are already stored.
		sctx := context.WithoutCancel(ctx)
		cp.Key, cp.LastRun = st.Key(), s.o.Now().UTC()
		cp.Processed += int64(n)
		if newest.After(cp.EventTime) {
			cp.EventTime = newest
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err() // shutting down: the window is polled again next time.
			}
			cp.Status, cp.LastError = source.StatusError, truncate(err.Error(), 500)
			if perr := s.o.Store.PutCheckpoint(sctx, cp); perr != nil {
				return errors.Join(err, perr)
			}
			return err
		}
		cp.Position = wend.Format(time.RFC3339Nano)
		cp.Status, cp.LastError = source.StatusActive, ""
		if err := s.o.Store.PutCheckpoint(sctx, cp); err != nil {
			return fmt.Errorf("lookup: %s: %w", st.Key(), err)
		}
		start = wend
		if ctx.Err() != nil {
			return nil //nolint:nilerr // the window is stored and checkpointed: a clean stop
		}
	}
	return nil
}

// window reads every page of st between start and end (both inclusive) and
// stores each page's events. It returns the events decoded and the newest
// event time.
func (s *Source) window(ctx context.Context, gr *group, st Stream, start, end time.Time) (int, time.Time, error) {
	in := &cloudtrail.LookupEventsInput{
		LookupAttributes: []types.LookupAttribute{{AttributeKey: types.LookupAttributeKeyEventSource, AttributeValue: aws.String(st.Source)}},
		StartTime:        aws.Time(start),
		EndTime:          aws.Time(end),
		MaxResults:       aws.Int32(50),
	}
	var (
		n      int
		newest time.Time
	)
	for page := 1; ; page++ {
		out, err := s.call(ctx, gr, in)
		if err != nil {
			return n, newest, fmt.Errorf("lookup: %s: window %s–%s page %d: %w", st.Key(),
				start.Format(time.RFC3339), end.Format(time.RFC3339), page, err)
		}
		events := s.decode(ctx, st, out.Events)
		if len(events) > 0 {
			// The batch in hand is finished even when shutdown begins.
			res, err := s.o.Processor.Process(context.WithoutCancel(ctx), events)
			if err != nil {
				return n, newest, fmt.Errorf("lookup: %s: %w", st.Key(), err)
			}
			t := source.Newest(events)
			s.o.Observer.Batch(Name, res, t)
			n += len(events)
			if t.After(newest) {
				newest = t
			}
		}
		if aws.ToString(out.NextToken) == "" {
			return n, newest, nil
		}
		if ctx.Err() != nil {
			return n, newest, ctx.Err()
		}
		in.NextToken = out.NextToken
	}
}

// call makes one LookupEvents call under the pacer, backing off (exponential,
// with jitter) on throttling and transient failures.
func (s *Source) call(ctx context.Context, gr *group, in *cloudtrail.LookupEventsInput) (*cloudtrail.LookupEventsOutput, error) {
	for attempt := 1; ; attempt++ {
		if err := gr.pacer.Wait(ctx); err != nil {
			return nil, err
		}
		out, err := gr.client.LookupEvents(ctx, in)
		if err == nil {
			return out, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		throttled := isThrottle(err)
		s.o.Observer.APIError(Name, "LookupEvents", throttled)
		if !retryable(err) || attempt >= s.o.MaxAttempts {
			return nil, err
		}
		wait := source.Backoff(attempt, s.o.Backoff, 30*time.Second, nil)
		s.o.Logger.WarnContext(ctx, "lookup: retrying", "account", gr.account, "region", gr.region,
			"throttled", throttled, "attempt", attempt, "wait", wait.String(), "error", err.Error())
		if err := source.Sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// decode turns a page's events into iamwatch events; records that cannot be
// decoded are logged, counted and left out.
func (s *Source) decode(ctx context.Context, st Stream, in []types.Event) []iamwatch.Event {
	out := make([]iamwatch.Event, 0, len(in))
	rejected := 0
	for _, e := range in {
		ev, err := ctdecode.DecodeRecord([]byte(aws.ToString(e.CloudTrailEvent)))
		switch {
		case err == nil:
			out = append(out, ev)
		case errors.Is(err, ctdecode.ErrSkipped):
		default:
			rejected++
			s.o.Logger.WarnContext(ctx, "lookup: record rejected", "stream", st.Key(), "event_id", aws.ToString(e.EventId), "error", err.Error())
		}
	}
	if rejected > 0 {
		s.o.Observer.Rejected(Name, rejected)
	}
	return out
}

// throttleCodes are the error codes AWS uses for throttling.
var throttleCodes = []string{"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded", "ThrottledException"}

func isThrottle(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && slices.Contains(throttleCodes, ae.ErrorCode())
}

// retryable reports whether err may pass by itself: throttling, a server
// fault, or a network error.
func retryable(err error) bool {
	if isThrottle(err) {
		return true
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorFault() == smithy.FaultServer
	}
	var rse *smithyhttp.RequestSendError
	var ne net.Error
	return errors.As(err, &rse) || errors.As(err, &ne)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

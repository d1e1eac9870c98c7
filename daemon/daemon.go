package daemon

import (
	"cmp"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"golang.org/x/sync/errgroup"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/config"
	"github.com/iamwatch/iamwatch/notify"
	"github.com/iamwatch/iamwatch/pipeline"
	"github.com/iamwatch/iamwatch/source"
	"github.com/iamwatch/iamwatch/source/lookup"
)

// Deps is what the command hands the daemon. Config, Store and Now are
// required.
type Deps struct {
	Config   *config.Config
	AWS      aws.Config // base AWS configuration (credentials chain, endpoints).
	Store    iamwatch.Store
	Detector pipeline.Detector // nil: no detection.
	// Sinks are the built notification sinks (notify.BuildSinks); none:
	// alerts are stored but not delivered.
	Sinks   map[string]notify.Sink
	Logger  *slog.Logger // nil: discard.
	Now     func() time.Time
	OnAlert func(iamwatch.Alert) // told of each new alert; optional.
	// Drain bounds how long shutdown waits for in-flight batches and a last
	// delivery flush (30 s).
	Drain time.Duration
	// Token, when not empty, is the bearer token /healthz and /metrics
	// require (Config.Server.Token resolved).
	Token string
}

// daemonLease is the daemon's default notify.lease: twice the sinks' 30 s
// request timeout, so a daemon killed mid-send sends again within a minute
// of its restart. (The Lambda notifier keeps the dispatcher's 5 minutes: a
// function's timeout.)
const daemonLease = time.Minute

// runner is a live source.
type runner interface {
	Run(ctx context.Context) error
}

// Daemon runs the configured sources, the notification dispatcher,
// retention pruning and the health and metrics server. Create it with New,
// Run it once.
type Daemon struct {
	d          Deps
	metrics    *Metrics
	proc       *serial
	sources    map[string]runner
	dispatcher *notify.Dispatcher

	mu     sync.Mutex
	status map[string]string // source → "running", "stopped" or the error it ended with.
	ln     net.Listener
}

// New builds every source from the configuration.
func New(d Deps) (*Daemon, error) {
	if d.Config == nil || d.Store == nil || d.Now == nil {
		return nil, errors.New("daemon: Config, Store and Now are required")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Drain <= 0 {
		d.Drain = 30 * time.Second
	}
	cfg := d.Config
	metrics := NewMetrics(d.Now)
	d.AWS = d.AWS.Copy()
	d.AWS.APIOptions = append(d.AWS.APIOptions, metrics.AWSMiddleware) // every source's AWS calls are timed
	dm := &Daemon{d: d, metrics: metrics, sources: map[string]runner{}, status: map[string]string{}}

	opt := pipeline.Options{
		Filter: pipeline.Filter{
			Keep:              pipeline.Keep(cfg.Keep),
			DropServiceEvents: !cfg.Filter.KeepServiceEvents,
			IgnoreRoles:       cfg.Filter.IgnoreRoles,
		},
		Detector: d.Detector,
		OnNew: func(a iamwatch.Alert) {
			dm.metrics.Alert(a)
			d.Logger.Info("alert", "rule", a.Rule, "severity", a.Severity.String(), "dedup_key", a.DedupKey,
				"account_id", a.AccountID, "user_name", a.UserName, "event_name", a.EventName)
			if d.OnAlert != nil {
				d.OnAlert(a)
			}
		},
	}
	if len(d.Sinks) > 0 {
		disp, err := notify.NewDispatcher(notify.DispatcherOptions{
			Outbox: d.Store, Sinks: dm.metrics.WrapSinks(d.Sinks), RateLimits: cfg.Notify.RateLimits(),
			Retry: cfg.Notify.Retry, Lease: cmp.Or(cfg.Notify.Lease, daemonLease), Digest: cfg.Notify.Digest, Now: d.Now, Logger: d.Logger,
		})
		if err != nil {
			return nil, fmt.Errorf("daemon: %w", err)
		}
		router, err := notify.NewRouter(cfg.Notify, d.Store, d.Now, disp.Wake)
		if err != nil {
			return nil, fmt.Errorf("daemon: %w", err)
		}
		dm.dispatcher = disp
		opt.Enqueue = func(ctx context.Context, a iamwatch.Alert) error {
			_, err := router.Enqueue(ctx, a)
			return err
		}
	}
	p, err := pipeline.New(d.Store, opt)
	if err != nil {
		return nil, fmt.Errorf("daemon: %w", err)
	}
	dm.proc = &serial{p: p, store: d.Store, now: d.Now, log: d.Logger, took: dm.metrics.batchTook}

	if l := cfg.Sources.Lookup; l != nil {
		accts := make([]lookup.Account, len(l.Accounts))
		for i, a := range l.Accounts {
			accts[i] = lookup.Account{RoleARN: a.RoleARN, ExternalID: a.ExternalID}
		}
		src, err := lookup.New(lookup.Options{
			AWS: d.AWS, Store: d.Store, Processor: dm.proc, Observer: dm.metrics,
			Logger: d.Logger.With("source", lookup.Name), Now: d.Now,
			Accounts: accts, Regions: l.Regions, SSORegion: l.SSORegion,
			Backfill: time.Duration(l.BackfillDays) * 24 * time.Hour, Interval: l.Interval.D(), Delay: l.Delay.D(),
		})
		if err != nil {
			return nil, fmt.Errorf("daemon: %w", err)
		}
		dm.sources[lookup.Name] = src
	}
	if err := dm.addBucketSources(); err != nil {
		return nil, err
	}
	if len(dm.sources) == 0 {
		return nil, errors.New("daemon: no source configured: set sources.lookup, sources.s3 or sources.sqs in the configuration file")
	}
	return dm, nil
}

// Metrics returns the daemon's metrics.
func (dm *Daemon) Metrics() *Metrics { return dm.metrics }

// Addr returns the health server's address once Run listens, or "".
func (dm *Daemon) Addr() string {
	dm.mu.Lock()
	defer dm.mu.Unlock()
	if dm.ln == nil {
		return ""
	}
	return dm.ln.Addr().String()
}

// Run runs until ctx is done, then shuts down: sources stop taking new work
// and finish the batch in hand (saving its checkpoint), the dispatcher makes
// a last flush, and the server closes, all within Drain. A source that ends
// with an error is logged, marked down in /healthz and /metrics, and does
// not stop the others. Run fails only when the server cannot listen.
func (dm *Daemon) Run(ctx context.Context) error {
	log := dm.d.Logger
	var srv *http.Server
	if addr := dm.d.Config.Server.Listen; addr != "" {
		ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
		if err != nil {
			return fmt.Errorf("daemon: listen %s: %w", addr, err)
		}
		// Warned before serving, so a client that got an answer can see it.
		if !isLoopback(addr) {
			msg := "daemon: /healthz and /metrics are served beyond this host (listen on 127.0.0.1 to keep them local)"
			if dm.d.Token == "" {
				msg += " without authentication (set server.token)"
			}
			log.Warn(msg, "listen", addr)
		}
		dm.mu.Lock()
		dm.ln = ln
		dm.mu.Unlock()
		srv = &http.Server{Handler: requireToken(dm.d.Token, dm.Handler()), ReadHeaderTimeout: 10 * time.Second}
		go func() { // owner: Run; ends when srv is shut down below.
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("daemon: server", "error", err.Error())
			}
		}()
		log.Info("daemon: listening", "addr", ln.Addr().String(), "token", dm.d.Token != "")
	}

	g, gctx := errgroup.WithContext(ctx)
	for name, src := range dm.sources {
		dm.setStatus(name, "running")
		dm.metrics.setDown(name, false)
		g.Go(func() error {
			log.Info("daemon: source started", "source", name)
			err := src.Run(gctx)
			if err != nil && ctx.Err() == nil {
				log.Error("daemon: source stopped", "source", name, "error", err.Error())
				dm.setStatus(name, err.Error())
				dm.metrics.setDown(name, true)
				return nil // the others go on.
			}
			dm.setStatus(name, "stopped")
			log.Info("daemon: source stopped", "source", name)
			return nil
		})
	}
	var bg sync.WaitGroup // the dispatcher and the pruner; they stop with ctx.
	if dm.dispatcher != nil {
		bg.Go(func() { _ = dm.dispatcher.Run(ctx) })
	}
	if r := dm.d.Config.Retention; r.Events > 0 || r.Alerts > 0 {
		bg.Go(func() { dm.pruneLoop(ctx) })
	}
	_ = g.Wait()
	<-ctx.Done() // every source ended on its own: keep serving health until told to stop.
	bg.Wait()
	log.Info("daemon: shutting down")

	drain, cancel := context.WithTimeout(context.WithoutCancel(ctx), dm.d.Drain)
	defer cancel()
	if n, err := dm.proc.p.RemoveSuperseded(drain); err != nil {
		log.Warn("daemon: remove superseded events", "error", err.Error())
	} else if n > 0 {
		log.Info("daemon: removed superseded events", "events", n)
	}
	if dm.dispatcher != nil {
		if st, err := dm.dispatcher.Flush(drain); err != nil {
			log.Warn("daemon: last flush", "error", err.Error())
		} else if st.Messages > 0 {
			log.Info("daemon: last flush", "sent", st.Sent)
		}
	}
	if srv != nil {
		_ = srv.Shutdown(drain)
	}
	return nil
}

func (dm *Daemon) setStatus(name, s string) {
	dm.mu.Lock()
	dm.status[name] = s
	dm.mu.Unlock()
}

// pruneLoop deletes history past the retention at once and then every
// Retention.Every.
func (dm *Daemon) pruneLoop(ctx context.Context) {
	r := dm.d.Config.Retention
	for {
		now := dm.d.Now()
		var evBefore, alBefore time.Time
		if r.Events > 0 {
			evBefore = now.Add(-r.Events.D())
		}
		if r.Alerts > 0 {
			alBefore = now.Add(-r.Alerts.D())
		}
		ev, al, err := dm.d.Store.Prune(ctx, evBefore, alBefore)
		switch {
		case err != nil && ctx.Err() == nil:
			dm.d.Logger.Error("daemon: prune", "error", err.Error())
		case err == nil:
			dm.metrics.prunedRows(ev, al)
			if ev+al > 0 {
				dm.d.Logger.Info("daemon: pruned", "events", ev, "alerts", al)
			}
		}
		if source.Sleep(ctx, r.Every.D()) != nil {
			return
		}
	}
}

// isLoopback reports whether the listen address host:port binds only this
// host: localhost or a loopback IP. An empty host binds every interface.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// requireToken serves h only to requests bearing token (compared in
// constant time); an empty token lets every request through.
func requireToken(token string, h http.Handler) http.Handler {
	if token == "" {
		return h
	}
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="iamwatch"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// Handler serves /healthz (200 with each source's state, 503 when a source
// stopped with an error or the store does not answer) and /metrics.
func (dm *Daemon) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		body := struct {
			Status  string            `json:"status"`
			Sources map[string]string `json:"sources"`
			Store   string            `json:"store"`
		}{Status: "ok", Sources: map[string]string{}, Store: "ok"}
		dm.mu.Lock()
		for k, v := range dm.status {
			body.Sources[k] = v
			if v != "running" && v != "stopped" {
				body.Status = "degraded"
			}
		}
		dm.mu.Unlock()
		if _, err := dm.d.Store.Checkpoints(ctx); err != nil {
			body.Store, body.Status = err.Error(), "degraded"
		}
		w.Header().Set("Content-Type", "application/json")
		if body.Status != "ok" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(body)
	})
	mux.Handle("GET /metrics", dm.metrics.Handler())
	return mux
}

// serial runs one batch at a time through the pipeline: sources run
// concurrently, but SQLite has one writer and threshold rules count best
// in order, so batches are committed one after the other.
// It also records rules that failed to evaluate in the store's checkpoints,
// where `iamwatch status` shows them.
type serial struct {
	mu    sync.Mutex
	p     *pipeline.Pipeline
	store iamwatch.CheckpointStore
	now   func() time.Time
	log   *slog.Logger
	took  func(time.Duration)
}

func (s *serial) Process(ctx context.Context, events []iamwatch.Event) (pipeline.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	start := time.Now()
	res, err := s.p.Process(ctx, events)
	s.took(time.Since(start))
	if err == nil && len(res.RuleErrors) > 0 {
		for _, e := range res.RuleErrors {
			s.log.Warn("rule failed to evaluate", "rule", e.Rule, "events", e.Events, "first", e.First)
		}
		if rerr := pipeline.RecordRuleErrors(ctx, s.store, res.RuleErrors, s.now()); rerr != nil {
			s.log.Error("record rule errors", "error", rerr.Error())
		}
	}
	return res, err
}

package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/spf13/cobra"

	"github.com/iamwatch/iamwatch/web"
)

type serveFlags struct {
	db     string
	listen string
	rules  []string
}

func newServeCmd(e *env) *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the web console: alerts and their triage, events, an overview",
		Long: `Serve runs the web console over the SQLite database until interrupted.

The first run, while no account exists, prints a one-time link: open it to
choose the password of the admin account. Afterwards sign in as admin.

It listens on 127.0.0.1:8080 unless told otherwise; an address other than
loopback makes the console reachable from the network (a warning says so).`,
		Example: `  iamwatch serve
  iamwatch serve --db ./iamwatch.db --listen 127.0.0.1:9000`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return e.serve(cmd.Context(), f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.db, "db", "", "SQLite database file (default $IAMWATCH_DB or ~/.local/share/iamwatch/iamwatch.db)")
	fl.StringVar(&f.listen, "listen", "127.0.0.1:8080", "address to listen on (host:port)")
	fl.StringArrayVar(&f.rules, "rules", nil, "folder of rule files laid over the built-in catalog, for rule descriptions (repeatable)")
	return cmd
}

// loopback reports whether the listen address host is a loopback address
// or localhost.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

func (e *env) serve(ctx context.Context, f serveFlags) error {
	host, _, err := net.SplitHostPort(f.listen)
	if err != nil {
		return usageErrorf("--listen %q: %v", f.listen, err)
	}
	if !loopback(host) {
		fmt.Fprintf(e.stderr, "iamwatch: warning: --listen %s is not a loopback address: the console is reachable from the network, over plain HTTP\n", f.listen)
	}
	rs, err := loadRules(f.rules)
	if err != nil {
		return err
	}
	st, err := e.openHistory(ctx, f.db)
	if err != nil {
		return err
	}
	defer st.Close()
	has, err := st.HasUsers(ctx)
	if err != nil {
		return err
	}
	cfg := web.Config{Store: st, Rules: rs, Now: e.now, Log: e.log}
	if !has {
		cfg.SetupToken = web.NewSetupToken()
	}
	srv, err := web.New(cfg)
	if err != nil {
		return err
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", f.listen)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(e.stderr, "iamwatch: serving %s on %s\n", st.Path(), base)
	if cfg.SetupToken != "" {
		fmt.Fprintf(e.stderr, "iamwatch: no account yet: open this one-time link to set the admin password:\n    %s/setup?token=%s\n", base, cfg.SetupToken)
	} else {
		fmt.Fprintf(e.stderr, "iamwatch: sign in as %s\n", web.AdminUser)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: time.Minute}
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

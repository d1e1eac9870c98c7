package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/iamwatch/iamwatch/untrusted"
)

// Exit codes.
const (
	exitOK      = 0
	exitError   = 1 // the command failed.
	exitUsage   = 2 // bad flags or arguments.
	exitAlerted = 3 // --fail-on: an alert at or above the given severity was raised.
)

// env is everything a command may take from the process: the tests build
// one of their own. Nothing below cmd reads the environment.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	now    func() time.Time
	log    *slog.Logger
}

// exitCodeError carries an exit code other than exitError out of a command.
type exitCodeError struct {
	code int
	err  error
}

func (e *exitCodeError) Error() string { return e.err.Error() }
func (e *exitCodeError) Unwrap() error { return e.err }

// usageErrorf is a mistake in the command line: exit 2.
func usageErrorf(format string, a ...any) error {
	return &exitCodeError{code: exitUsage, err: fmt.Errorf(format, a...)}
}

// run is the whole program; main only supplies the process's context,
// arguments, environment and standard streams.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{
		getenv: getenv,
		stdin:  stdin,
		stdout: stdout,
		stderr: stderr,
		now:    time.Now,
		log:    slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	return e.main(ctx, args)
}

// main runs one command line in e and returns the exit code. Tests that need
// a clock of their own build the env and call it.
func (e *env) main(ctx context.Context, args []string) int {
	root := newRootCmd(e)
	root.SetArgs(args)
	root.SetIn(e.stdin)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ce *exitCodeError
	if errors.As(err, &ce) {
		if ce.err != nil && ce.code != exitAlerted {
			fmt.Fprintf(e.stderr, "iamwatch: %s\n", untrusted.TerminalLines(ce.err.Error())) // errors name files and records: untrusted
		}
		return ce.code
	}
	fmt.Fprintf(e.stderr, "iamwatch: %s\n", untrusted.TerminalLines(err.Error()))
	if isUsageError(err) {
		return exitUsage
	}
	return exitError
}

func newRootCmd(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:           "iamwatch",
		Short:         "Watch CloudTrail for sign-ins and identity changes, keep the history, raise alerts",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErrorf("%v", err) })
	root.AddCommand(
		newScanCmd(e),
		newVersionCmd(e),
		newRunCmd(e),
		newInitCmd(e),
		newConfigCmd(e),
		newStatusCmd(e),
		newNotifyCmd(e),
		newRulesCmd(e),
		newQueryCmd(e), newEventsCmd(e), newShowCmd(e), newAlertsCmd(e), newPruneCmd(e),
		newExportCmd(e), newAthenaCmd(e), newServeCmd(e),
		newDeployCmd(e), newDestroyCmd(e), newLogsCmd(e),
	)
	usageArgs(root)
	return root
}

// usageArgs makes every argument check of c's tree fail as a usage error
// (exit 2), whatever its message: cobra's own (NoArgs, ExactArgs, …) and
// ours alike.
func usageArgs(c *cobra.Command) {
	if check := c.Args; check != nil {
		c.Args = func(cmd *cobra.Command, args []string) error {
			err := check(cmd, args)
			if err == nil || errors.As(err, new(*exitCodeError)) {
				return err
			}
			return usageErrorf("%v", err)
		}
	}
	for _, sub := range c.Commands() {
		usageArgs(sub)
	}
}

// isUsageError reports whether cobra refused the command line before any
// check of ours ran: an unknown command, which cobra reports only by its
// message (flag errors arrive as exitCodeError through SetFlagErrorFunc,
// argument errors through usageArgs).
func isUsageError(err error) bool {
	return strings.HasPrefix(err.Error(), "unknown command")
}

// signalContext is cancelled by SIGINT or SIGTERM, so commands finish the
// batch in hand and leave a usable database. A second signal ends the
// process at once (the default action is restored after the first).
func signalContext() context.Context {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(ctx, stop)
	return ctx
}

// version is set by the build (-ldflags "-X main.version=…").
var version = "dev"

func newVersionCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintf(e.stdout, "iamwatch %s\n", version)
			return err
		},
	}
}

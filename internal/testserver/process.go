package testserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// startTimeout bounds how long a server may take to accept connections.
const startTimeout = 30 * time.Second

// unavailable stops the test when a server cannot be provided: a skip under
// -short, a failure otherwise (a missing server is a broken test setup, not a
// reason to pass).
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if testing.Short() {
		t.Skip("testserver (skipped in -short): " + msg)
	}
	t.Fatal("testserver: " + msg)
}

var toolCache sync.Map // tool name → path; builds are cached by go anyway.

// ToolBinary returns the path of the module's tool dependency name (as listed
// in go.mod's tool block), building it if needed with `go tool -n name` run
// from the module root.
func ToolBinary(t testing.TB, name string) string {
	t.Helper()
	if p, ok := toolCache.Load(name); ok {
		return p.(string)
	}
	root, err := moduleRoot()
	if err != nil {
		unavailable(t, "find module root for tool %s: %v", name, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "tool", "-n", name)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		unavailable(t, "build tool %s (go tool -n %s in %s): %v: %s", name, name, root, err, strings.TrimSpace(stderr.String()))
	}
	p := strings.TrimSpace(string(out))
	if _, err := os.Stat(p); err != nil {
		unavailable(t, "tool %s: %v", name, err)
	}
	toolCache.Store(name, p)
	return p
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside a Go module")
	}
	return filepath.Dir(gomod), nil
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago. A
// server started on it may still lose a race with another process; the
// starters retry once.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testserver: free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// process is a started server process and its combined output log.
type process struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
}

// startProcess runs bin with args, its output in a log file under
// t.TempDir, and kills it (the whole process group) in t.Cleanup, or, on
// Linux, when the test binary dies first.
func startProcess(t testing.TB, bin string, args ...string) *process {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), filepath.Base(bin)+".log")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatalf("testserver: %v", err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	dieWithParent(cmd.SysProcAttr)
	p := &process{cmd: cmd, log: logPath, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		// The parent-death signal comes when the thread that started the
		// server ends, not the process (go.dev/issue/27505): this goroutine
		// keeps that thread, locked to it, until the server has exited.
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	if err := <-started; err != nil {
		f.Close()
		unavailable(t, "start %s: %v", bin, err)
	}
	t.Cleanup(func() {
		exited := false
		select {
		case <-p.done:
			exited = true
		default:
		}
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
		// A failed test shows what its server said, and whether the server
		// had already gone (a lost port race leaves the test talking to
		// whatever else answered on its port).
		if t.Failed() {
			state := "running at the end"
			if exited {
				state = fmt.Sprintf("exited before the end (%v)", p.err)
			}
			t.Logf("testserver: %s was %s; the end of its log:\n%s", filepath.Base(bin), state, p.tail())
		}
	})
	return p
}

// waitTCP waits until addr accepts a connection, the process exits or the
// start timeout passes.
func (p *process) waitTCP(addr string) error {
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return fmt.Errorf("exited before listening on %s (%w); log:\n%s", addr, p.err, p.tail())
		default:
		}
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("not listening on %s after %s; log:\n%s", addr, startTimeout, p.tail())
}

// tail returns the end of the process log, for failure messages.
func (p *process) tail() string {
	b, _ := os.ReadFile(p.log)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

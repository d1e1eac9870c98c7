// Command goawsloopback runs the goaws SNS/SQS emulator
// (github.com/Admiral-Piett/goaws) bound to 127.0.0.1. goaws's own command
// listens on 0.0.0.0 with no way to change it; tests must not open ports to
// the network, so this wrapper serves goaws's router on loopback instead.
//
// Usage: goawsloopback -config FILE [ENV]
//
// It is a tool dependency of the module, started by testserver.StartGoAWS.
package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/Admiral-Piett/goaws/app/conf"
	"github.com/Admiral-Piett/goaws/app/gosqs"
	"github.com/Admiral-Piett/goaws/app/router"
)

func main() {
	config := flag.String("config", "", "goaws config file (YAML or JSON)")
	flag.Parse()
	env := "Local"
	if flag.NArg() > 0 {
		env = flag.Arg(0)
	}
	if *config == "" {
		fmt.Fprintln(os.Stderr, "goawsloopback: -config is required")
		os.Exit(2)
	}
	ports := conf.LoadYamlConfig(*config, env)
	if len(ports) != 1 {
		fmt.Fprintf(os.Stderr, "goawsloopback: want one Port in the config, have %v\n", ports)
		os.Exit(2)
	}
	quit := make(chan bool)
	go gosqs.PeriodicTasks(time.Second, quit)
	srv := &http.Server{Addr: "127.0.0.1:" + ports[0], Handler: router.New(), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(os.Stderr, "goawsloopback: listening on %s\n", srv.Addr)
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintf(os.Stderr, "goawsloopback: %v\n", err)
		os.Exit(1)
	}
}

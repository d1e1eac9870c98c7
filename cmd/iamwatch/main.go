// Command iamwatch watches CloudTrail for identity events: it decodes every
// shape of CloudTrail record, keeps the history in SQLite and raises alerts
// from a catalog of rules. `iamwatch --help` lists the commands.
package main

import "os"

func main() { os.Exit(run(signalContext(), os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)) }

// Command gensample writes iamwatch's sample data (internal/sample.Build)
// into a directory, replacing the files it generated before:
//
//	go run ./internal/sample/cmd/gensample -out sample
//
// It is what `go generate ./sample` runs.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/iamwatch/iamwatch/internal/sample"
)

func main() { os.Exit(run(os.Args[1:], os.Stderr)) }

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("gensample", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", ".", "sample root: the data/ directory and MANIFEST.md are written here")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	files, err := sample.Build(sample.Options{})
	if err != nil {
		fmt.Fprintln(stderr, "gensample:", err)
		return 1
	}
	// Remove the previous data so renamed files do not linger.
	if err := os.RemoveAll(filepath.Join(*out, sample.DataDir)); err != nil {
		fmt.Fprintln(stderr, "gensample:", err)
		return 1
	}
	total := 0
	for _, f := range files {
		p := filepath.Join(*out, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			fmt.Fprintln(stderr, "gensample:", err)
			return 1
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			fmt.Fprintln(stderr, "gensample:", err)
			return 1
		}
		total += len(f.Data)
	}
	fmt.Fprintf(stderr, "gensample: %d files, %d bytes in %s\n", len(files), total, *out)
	return 0
}

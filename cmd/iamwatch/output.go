package main

import (
	"encoding/json"
	"fmt"
	"io"
)

// Output helpers shared by the commands.

// writeJSONLine writes v as one line of JSON.
func writeJSONLine(w io.Writer, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		fmt.Fprintf(w, "{\"error\":%q}\n", err.Error())
		return
	}
	_, _ = w.Write(append(b, '\n')) // stdout: a failed write is the reader gone
}

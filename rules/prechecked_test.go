package rules_test

import (
	"bytes"
	"flag"
	"io/fs"
	"os"
	"testing"

	"github.com/iamwatch/iamwatch/detect"
	"github.com/iamwatch/iamwatch/rules"
)

var update = flag.Bool("update", false, "write rules/"+detect.PrecheckedFile+" from the catalog")

// TestPrecheckedCurrent: the catalog's expressions checked in advance
// (rules/prechecked.binpb, which New takes them from) are those of its rule
// files, checked in today's CEL environment. After changing a rule's
// expression or a CEL declaration: go test ./rules -run TestPrecheckedCurrent -update
func TestPrecheckedCurrent(t *testing.T) {
	rs, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	want, err := detect.Precheck(rs)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(detect.PrecheckedFile, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := fs.ReadFile(rules.Builtin(), detect.PrecheckedFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("rules/%s (%d bytes) is not the catalog's expressions checked now (%d bytes): go test ./rules -run TestPrecheckedCurrent -update",
			detect.PrecheckedFile, len(got), len(want))
	}
}

package query_test

import (
	"strings"
	"testing"

	"github.com/iamwatch/iamwatch/query"
)

// A CSV cell a spreadsheet would run as a formula (a user agent reading
// =HYPERLINK(…)) is written as text; numbers stay numbers.
func TestCSVFormulasAreText(t *testing.T) {
	r := &query.Result{Columns: []string{"user_agent", "n"}, Rows: [][]any{
		{`=HYPERLINK("https://evil.example","x")`, int64(-3)},
		{"+1+1", float64(-0.5)},
		{"-2+3", int64(4)},
		{"@SUM(A1)", int64(5)},
		{"\tcmd", int64(6)},
		{"aws-cli/2.15", int64(7)},
	}}
	var b strings.Builder
	if err := query.Write(&b, r, query.Options{Format: query.CSV}); err != nil {
		t.Fatal(err)
	}
	want := "user_agent,n\r\n" +
		`"'=HYPERLINK(""https://evil.example"",""x"")",-3` + "\r\n" +
		"'+1+1,-0.5\r\n" +
		"'-2+3,4\r\n" +
		"'@SUM(A1),5\r\n" +
		"'\tcmd,6\r\n" +
		"aws-cli/2.15,7\r\n"
	if b.String() != want {
		t.Errorf("CSV:\n%q\nwant:\n%q", b.String(), want)
	}
}

package cloudtrail_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/cloudtrail"
)

func ExampleDecode() {
	// Two JSON lines: a root console sign-in, then a line cut short.
	in := `{"eventVersion":"1.09","userIdentity":{"type":"Root","accountId":"210987654321"},"eventTime":"2025-03-04T08:15:02Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"MFAUsed":"No"},"eventID":"ex-1","recipientAccountId":"210987654321"}
{"eventID":"ex-2","eventTime":"2025-03-04T08:16:00Z","userIdentity":{"type":
`
	st, err := cloudtrail.Decode(context.Background(), strings.NewReader(in), "example.jsonl", cloudtrail.Options{
		OnError: func(e *cloudtrail.RecordError) { fmt.Println("skipped:", e) },
	}, func(ev *iamwatch.Event) error {
		fmt.Println(ev.Time.Format(iamwatch.TimeFormat), ev.Type, ev.Name, ev.UserName, "mfa:", ev.MFAUsed)
		return nil
	})
	fmt.Println(st.Format, st.Events, st.Rejected, err)
	// Output:
	// 2025-03-04T08:15:02Z signin ConsoleLogin root mfa: no
	// skipped: cloudtrail: example.jsonl: record 1 (event "ex-2"): invalid JSON: line ends inside the record
	// lines 1 1 <nil>
}

func ExampleParseKey() {
	k, ok := cloudtrail.ParseKey("AWSLogs/o-a1b2c3d4e5/210987654321/CloudTrail/eu-west-1/2025/03/04/210987654321_CloudTrail_eu-west-1_20250304T0815Z_a1B2c3D4.json.gz")
	fmt.Println(ok, k.OrgID, k.Account, k.Region, k.Date.Format("2006-01-02"), k.Kind)
	// Output: true o-a1b2c3d4e5 210987654321 eu-west-1 2025-03-04 log
}

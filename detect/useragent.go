package detect

import (
	"strings"

	"github.com/iamwatch/iamwatch/untrusted"
)

// maxToolRunes bounds the tool field: a user agent is the caller's to
// write, and a threshold's group holds it.
const maxToolRunes = 64

// Tool returns the program a user agent names: the name of its first
// product token ("aws-cli" of "aws-cli/2.15.30 Python/3.11.8 …", "Boto3",
// "aws-sdk-go-v2", "Mozilla" for a browser), past an AWS Partner Network
// prefix and the partner's own token ("APN/1.0 HashiCorp/1.0
// Terraform/1.1.2 …" is "Terraform"), without the brackets S3 puts around
// a user agent. A user agent without a product token ("AWS Internal", a
// service's name, a tool's own label) is its own tool. At most
// maxToolRunes runes; "" for "".
//
// Versions, platforms and options drop out, so the calls one program makes
// from one machine, or from a fleet on different releases, share a tool,
// while a principal's credentials used from another program do not:
// credential-harvest rules count by principal and tool, so a tool that
// reads secrets as part of its routine (Terraform refreshing its state)
// does not fold someone else's sweep with the same credentials into its
// own, already notified, incident.
func Tool(ua string) string {
	ua = strings.TrimSpace(ua)
	if inner, ok := strings.CutPrefix(ua, "["); ok {
		ua = strings.TrimSuffix(inner, "]")
	}
	skip := 0 // tokens still to skip: the partner after an APN prefix
	for tok := range strings.FieldsFuncSeq(ua, func(r rune) bool { return r == ' ' || r == ',' }) {
		name, _, product := strings.Cut(tok, "/")
		if !product || name == "" || strings.HasPrefix(tok, "(") {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		if name == "APN" {
			skip = 1
			continue
		}
		return untrusted.Truncate(name, maxToolRunes)
	}
	return untrusted.Truncate(ua, maxToolRunes)
}

package sample

import (
	"time"
)

// The accounts of the sample organisation. All of them are documentation
// account ids; none belongs to anyone.
const (
	// AccountMain is the management account: a single-account trail layout.
	AccountMain = "111122223333"
	// AccountDev is a member account whose logs arrive through the
	// organisation trail layout (AWSLogs/<org-id>/<account>/…).
	AccountDev = "444455556666"
	// AccountExternal is an account outside the organisation (a vendor's,
	// or an attacker's): trusting it is "external".
	AccountExternal = "777788889999"
	// OrgID is the organisation id in organisation trail keys.
	OrgID = "o-exampleorgid"
	// TrailName is the organisation/management trail's name.
	TrailName = "management-events"

	ssoInstanceID   = "ssoins-7223a1b2c3d4e5f6"
	identityStoreID = "d-9067e1a2b3"
	ssoHomeRegion   = "eu-west-1"
)

// Addresses. Documentation ranges (RFC 5737) for most; a few public-looking
// addresses from the ranges GeoIP test databases use, so location lookups
// have something to show.
var (
	officeIPs   = []string{"203.0.113.10", "203.0.113.11", "203.0.113.12"}
	vpnIPs      = []string{"198.51.100.40", "198.51.100.41", "198.51.100.44", "198.51.100.47"}
	homeIPs     = []string{"81.2.69.142", "2.125.160.216", "175.16.199.37", "89.160.20.112"}
	ciIPs       = []string{"216.160.83.56", "216.160.83.61", "67.43.156.14"}
	privateIPs  = []string{"10.20.1.37", "10.20.2.118", "10.20.3.91", "10.40.1.12"}
	scannerIPs  = []string{"192.0.2.200", "192.0.2.201"}
	burstIP     = "203.0.113.77"  // failed sign-ins for carol.
	hiddenIP    = "198.51.100.23" // failed sign-ins with unknown user names.
	attackerIP  = "192.0.2.146"   // the bob session on day 2.
	rootDevIP   = "89.160.20.128" // root sign-in to the dev account.
	keyAbuseIP  = "192.0.2.66"    // leaked access key enumerating.
	sprayIP     = "192.0.2.90"    // a password spray on day 3.
	vpcEndpoint = "vpce-0a1b2c3d4e5f67890"
)

// User agents, current in early 2025.
const (
	uaChromeMac   = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.0.0 Safari/537.36"
	uaFirefoxWin  = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:135.0) Gecko/20100101 Firefox/135.0"
	uaEdgeWin     = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.0.0 Safari/537.36 Edg/133.0.0.0"
	uaSafariMac   = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.3 Safari/605.1.15"
	uaCLI         = "aws-cli/2.24.10 md/awscrt#0.23.8 ua/2.0 os/macos#24.3.0 md/arch#arm64 lang/python#3.12.9 md/pyimpl#CPython cfg/retry-mode#standard md/installer#source md/prompt#off md/command#"
	uaCLILinux    = "aws-cli/2.23.6 md/awscrt#0.23.4 ua/2.0 os/linux#6.8.0-1021-aws md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.24 md/prompt#off md/command#"
	uaBoto3       = "Boto3/1.37.4 md/Botocore#1.37.4 ua/2.0 os/linux#6.1.127-135.201.amzn2023.x86_64 md/arch#x86_64 lang/python#3.12.8 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.37.4"
	uaTerraform   = "APN/1.0 HashiCorp/1.0 Terraform/1.10.5 (+https://www.terraform.io) terraform-provider-aws/5.88.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.36.1 ua/2.1 os/linux lang/go#1.23.6 md/GOOS#linux md/GOARCH#amd64 api/"
	uaGoSDK       = "aws-sdk-go-v2/1.36.1 ua/2.1 os/linux lang/go#1.23.6 md/GOOS#linux md/GOARCH#amd64 api/"
	uaSSMAgent    = "aws-sdk-go/1.55.5 (go1.22.7; linux; amd64) amazon-ssm-agent/3.3.1611.0"
	uaJava        = "aws-sdk-java/2.30.22 Linux/5.10.234-225.895.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/21.0.6+7-LTS Java/21.0.6 vendor/Amazon.com_Inc. md/internal exec-env/AWS_ECS_FARGATE io/sync http/Apache cfg/retry-mode/legacy"
	uaKali        = "aws-cli/1.29.0 Python/3.11.4 Linux/6.5.0-kali3-amd64 botocore/1.31.0"
	uaS3Browser   = "S3 Browser 9.5.5 <https://s3browser.com>"
	uaHostile     = "aws-cli/1.29.0 <img src=x onerror=alert(1)> *pwned* \x1b[2J"
	uaConsole     = "AWS Internal"
	uaGitHubOIDC  = "aws-sdk-js/3.749.0 ua/2.1 os/linux#6.8.0-1021-azure lang/js md/nodejs#20.18.3 api/sts#3.749.0 m/E,e GitHubActions"
	uaCloudShell  = "aws-cli/2.24.10 md/awscrt#0.23.8 ua/2.0 os/linux#6.1.127-135.201.amzn2023.x86_64 md/arch#x86_64 lang/python#3.12.9 md/pyimpl#CPython exec-env/CloudShell cfg/retry-mode#standard md/installer#exe md/distrib#amzn.2023 md/prompt#off md/command#"
	uaSecurityHub = "Prowler/5.3.0 Boto3/1.37.4 md/Botocore#1.37.4 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.12.8 md/pyimpl#CPython cfg/retry-mode#standard Botocore/1.37.4"
)

var browserUAs = []string{uaChromeMac, uaFirefoxWin, uaEdgeWin, uaSafariMac}

// Identity kinds: the values of userIdentity.type.
const (
	kindRoot               = "Root"
	kindIAMUser            = "IAMUser"
	kindAssumedRole        = "AssumedRole"
	kindFederatedUser      = "FederatedUser"
	kindAWSService         = "AWSService"
	kindAWSAccount         = "AWSAccount"
	kindIdentityCenterUser = "IdentityCenterUser"
	kindSAMLUser           = "SAMLUser"
	kindWebIdentityUser    = "WebIdentityUser"
)

// actor is whoever makes a call: its identity and where it calls from.
type actor struct {
	kind     string
	account  string
	name     string // IAM user, role, federated user, service principal, SAML/OIDC subject.
	session  string // role session name.
	id       string // AIDA…/AROA… unique id.
	key      string // access key id of the credentials in use ("" for none).
	ip, ua   string
	console  bool      // calls made from the console (sessionCredentialFromConsole).
	mfa      bool      // session authenticated with MFA.
	since    time.Time // creation date of the session.
	rolePath string    // role path, "/" unless set.
	issuer   *actor    // FederatedUser: the IAM user that called GetFederationToken.
	provider string    // SAMLUser/WebIdentityUser: identityProvider.
	userID   string    // IdentityCenterUser: identity store user id.
	ec2Role  bool      // instance profile credentials (ec2RoleDelivery).
	vpce     string    // calls through a VPC endpoint.
	source   string    // sourceIdentity on the session, if any.
}

func (a *actor) arn() string {
	switch a.kind {
	case kindRoot:
		return "arn:aws:iam::" + a.account + ":root"
	case kindIAMUser:
		return "arn:aws:iam::" + a.account + ":user/" + a.name
	case kindAssumedRole:
		return "arn:aws:sts::" + a.account + ":assumed-role/" + a.name + "/" + a.session
	case kindFederatedUser:
		return "arn:aws:sts::" + a.account + ":federated-user/" + a.name
	}
	return ""
}

func (a *actor) roleARN() string {
	p := a.rolePath
	if p == "" {
		p = "/"
	}
	return "arn:aws:iam::" + a.account + ":role" + p + a.name
}

// identity returns the userIdentity element.
func (a *actor) identity() Object {
	attrs := func() Object {
		return Object{
			{"creationDate", a.since.UTC().Format(timeFormat)},
			{"mfaAuthenticated", boolString(a.mfa)},
		}
	}
	switch a.kind {
	case kindRoot:
		o := Object{{"type", kindRoot}, {"principalId", a.account}, {"arn", a.arn()}, {"accountId", a.account}, {"accessKeyId", a.key}}
		if a.console {
			o = append(o, Field{"sessionContext", Object{{"attributes", attrs()}}})
		}
		return o
	case kindIAMUser:
		o := Object{{"type", kindIAMUser}, {"principalId", a.id}, {"arn", a.arn()}, {"accountId", a.account}, {"accessKeyId", a.key}, {"userName", a.name}}
		if a.console || a.mfa {
			o = append(o, Field{"sessionContext", Object{{"sessionIssuer", Object{}}, {"webIdFederationData", Object{}}, {"attributes", attrs()}}})
		}
		return o
	case kindAssumedRole:
		sc := Object{
			{"sessionIssuer", Object{{"type", "Role"}, {"principalId", a.id}, {"arn", a.roleARN()}, {"accountId", a.account}, {"userName", a.name}}},
			{"webIdFederationData", Object{}},
			{"attributes", attrs()},
		}
		if a.source != "" {
			sc = append(sc, Field{"sourceIdentity", a.source})
		}
		if a.ec2Role {
			sc = append(sc, Field{"ec2RoleDelivery", "2.0"})
		}
		return Object{{"type", kindAssumedRole}, {"principalId", a.id + ":" + a.session}, {"arn", a.arn()}, {"accountId", a.account}, {"accessKeyId", a.key}, {"sessionContext", sc}}
	case kindFederatedUser:
		is := a.issuer
		return Object{{"type", kindFederatedUser}, {"principalId", a.account + ":" + a.name}, {"arn", a.arn()}, {"accountId", a.account}, {"accessKeyId", a.key},
			{"sessionContext", Object{
				{"sessionIssuer", Object{{"type", "IAMUser"}, {"principalId", is.id}, {"arn", is.arn()}, {"accountId", is.account}, {"userName", is.name}}},
				{"webIdFederationData", Object{}},
				{"attributes", attrs()},
			}}}
	case kindAWSService:
		return Object{{"type", kindAWSService}, {"invokedBy", a.name}}
	case kindAWSAccount:
		return Object{{"type", kindAWSAccount}, {"principalId", a.id + ":" + a.session}, {"accountId", a.account}}
	case kindIdentityCenterUser:
		return Object{{"type", kindIdentityCenterUser}, {"accountId", a.account},
			{"onBehalfOf", Object{{"userId", a.userID}, {"identityStoreArn", "arn:aws:identitystore::" + a.account + ":identitystore/" + identityStoreID}}},
			{"credentialId", a.key}}
	case kindSAMLUser:
		return Object{{"type", kindSAMLUser}, {"principalId", a.provider + ":" + a.name}, {"userName", a.name}, {"identityProvider", a.provider}}
	case kindWebIdentityUser:
		return Object{{"type", kindWebIdentityUser}, {"principalId", a.provider + ":sts.amazonaws.com:" + a.name}, {"userName", a.name}, {"identityProvider", a.provider}}
	}
	panic("sample: unknown identity kind " + a.kind)
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// world holds the fixed cast: the unique ids of users and roles are drawn
// once from their own source, so they do not depend on how much noise was
// generated before a scenario asks for them.
type world struct {
	ids   ids
	users map[string]string // account/name → AIDA…
	roles map[string]string // account/name → AROA…
	keys  map[string]string // account/name → AKIA… (long-term key)
	sso   map[string]string // person → identity store user id
}

func newWorld(seed uint64) *world {
	return &world{
		ids:   newIDs(seed, 1),
		users: map[string]string{},
		roles: map[string]string{},
		keys:  map[string]string{},
		sso:   map[string]string{},
	}
}

func (w *world) stable(m map[string]string, k string, mk func() string) string {
	if v, ok := m[k]; ok {
		return v
	}
	v := mk()
	m[k] = v
	return v
}

// user returns an IAM user calling with its long-term access key.
func (w *world) user(acct, name string) *actor {
	return &actor{
		kind: kindIAMUser, account: acct, name: name,
		id:  w.stable(w.users, acct+"/"+name, func() string { return w.ids.iamID("AIDA") }),
		key: w.stable(w.keys, acct+"/"+name, func() string { return w.ids.iamID("AKIA") }),
	}
}

// role returns a role session of roleName (with path) in acct.
func (w *world) role(acct, roleName, path, session string) *actor {
	return &actor{
		kind: kindAssumedRole, account: acct, name: roleName, session: session, rolePath: path,
		id: w.stable(w.roles, acct+"/"+roleName, func() string { return w.ids.iamID("AROA") }),
	}
}

// ssoRole returns the AWSReservedSSO_ role session of person for a permission set.
func (w *world) ssoRole(acct, permissionSet, person string) *actor {
	suffix := w.stable(w.roles, acct+"/sso-suffix/"+permissionSet, func() string { return w.ids.hex(16) })
	return w.role(acct, "AWSReservedSSO_"+permissionSet+"_"+suffix, "/aws-reserved/sso.amazonaws.com/"+ssoHomeRegion+"/", person)
}

func (w *world) ssoUserID(person string) string {
	return w.stable(w.sso, person, func() string {
		u := w.ids.uuid()
		return u[:8] + "-" + w.ids.hex(4) + u[13:]
	})
}

func service(name string) *actor { return &actor{kind: kindAWSService, name: name, ip: name, ua: name} }

// People and roles of the sample organisation.
var (
	mainUsers = []string{"alice", "bob", "carol", "dave"} // people with IAM users in the main account.
	ssoPeople = []string{"erin@example.com", "frank@example.com", "grace@example.com", "heidi@example.com"}
	devPeople = []string{"ivan@example.com", "judy@example.com", "mallory.contractor@example.com"}
)

const (
	psAdmin    = "AdministratorAccess"
	psReadOnly = "ReadOnlyAccess"
	psDev      = "DeveloperAccess"
)

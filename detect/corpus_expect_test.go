package detect_test

import (
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/notify"
)

// The expectations below are our own reading of
// ../shared/reviews/detection-coverage.md (sections 1-3): for each attack
// technique or step, which calls it is made of, the lowest severity that fits
// it, and the generic rules that do not count as catching it. They name no
// rule that should catch a technique, only what a responder must be told, so
// a new rule counts as soon as it alerts on the right call at the right
// severity. No corpus event is copied here; only event names.

// expect is one technique (or Invictus step): caught when an alert is raised
// on one of its calls at min or above by a rule not in generic.
type expect struct {
	name    string
	calls   []string // eventName; Lambda's versioned names (AddPermission20150331v2) match their base name
	min     iamwatch.Severity
	generic []string // rules whose alert is only a partial catch (a generic denial counter)
}

var (
	medium, high, critical = iamwatch.SeverityMedium, iamwatch.SeverityHigh, iamwatch.SeverityCritical
	genericDenials         = []string{"unauthorized-api-calls"}
)

// stratusExpect: the 35 Stratus Red Team techniques, keyed by the capture's
// file name without "aws." and ".json".
var stratusExpect = []expect{
	{"credential-access.ec2-get-password-data", []string{"GetPasswordData"}, high, genericDenials},
	{"credential-access.ec2-steal-instance-credentials", []string{"GetCallerIdentity", "DescribeInstances"}, high, genericDenials},
	{"credential-access.secretsmanager-batch-retrieve-secrets", []string{"BatchGetSecretValue"}, medium, nil},
	{"credential-access.secretsmanager-retrieve-secrets", []string{"GetSecretValue"}, medium, nil},
	{"credential-access.ssm-retrieve-securestring-parameters", []string{"GetParameters", "GetParameter"}, medium, nil},
	{"defense-evasion.cloudtrail-delete", []string{"DeleteTrail"}, critical, nil},
	{"defense-evasion.cloudtrail-event-selectors", []string{"PutEventSelectors"}, critical, nil},
	{"defense-evasion.cloudtrail-stop", []string{"StopLogging"}, critical, nil},
	{"defense-evasion.dns-delete-logs", []string{"DeleteResolverQueryLogConfig"}, high, nil},
	{"defense-evasion.organizations-leave", []string{"LeaveOrganization"}, high, nil},
	{"defense-evasion.vpc-remove-flow-logs", []string{"DeleteFlowLogs"}, high, nil},
	{"discovery.ec2-download-user-data", []string{"DescribeInstanceAttribute"}, medium, genericDenials},
	{"execution.ec2-launch-unusual-instances", []string{"RunInstances"}, medium, nil},
	{"execution.ec2-user-data", []string{"ModifyInstanceAttribute"}, high, nil},
	{"execution.ssm-send-command", []string{"SendCommand"}, medium, nil},
	{"execution.ssm-start-session", []string{"StartSession"}, medium, nil},
	{"exfiltration.ec2-security-group-open-port-22-ingress", []string{"AuthorizeSecurityGroupIngress"}, high, nil},
	{"exfiltration.ec2-share-ami", []string{"ModifyImageAttribute"}, high, nil},
	{"exfiltration.ec2-share-ebs-snapshot", []string{"ModifySnapshotAttribute"}, high, nil},
	{"exfiltration.rds-share-snapshot", []string{"ModifyDBSnapshotAttribute"}, high, nil},
	{"impact.bedrock-invoke-model", []string{"PutUseCaseForModelAccess", "CreateFoundationModelAgreement", "PutFoundationModelEntitlement", "InvokeModel"}, medium, nil},
	{"initial-access.console-login-without-mfa", []string{"ConsoleLogin"}, high, nil},
	{"lateral-movement.ec2-instance-connect", []string{"SendSSHPublicKey"}, medium, nil},
	{"lateral-movement.ec2-serial-console-send-ssh-public-key", []string{"EnableSerialConsoleAccess", "SendSerialConsoleSSHPublicKey"}, high, nil},
	{"persistence.iam-backdoor-role", []string{"UpdateAssumeRolePolicy"}, critical, nil},
	{"persistence.iam-backdoor-user", []string{"CreateAccessKey"}, high, nil},
	{"persistence.iam-create-admin-user", []string{"CreateUser", "AttachUserPolicy", "CreateAccessKey"}, high, nil},
	{"persistence.iam-create-backdoor-role", []string{"CreateRole", "AttachRolePolicy"}, critical, nil},
	{"persistence.iam-create-user-login-profile", []string{"CreateLoginProfile"}, high, nil},
	{"persistence.lambda-backdoor-function", []string{"AddPermission"}, high, nil},
	{"persistence.lambda-layer-extension", []string{"UpdateFunctionConfiguration"}, medium, nil},
	{"persistence.lambda-overwrite-code", []string{"UpdateFunctionCode"}, medium, nil},
	{"persistence.rolesanywhere-create-trust-anchor", []string{"CreateTrustAnchor", "CreateProfile"}, high, nil},
	{"persistence.sts-federation-token", []string{"GetFederationToken"}, high, nil},
	{"privilege-escalation.iam-update-user-login-profile", []string{"UpdateLoginProfile"}, high, nil},
}

// invictusSteps: the 25 attack steps detonated in the Invictus run (one
// account, one day). A step's calls count only when the attacker made them:
// Stratus's user agent, or a principal Stratus created (see attacker); the
// same calls by Terraform building or tearing down the lab are not steps.
var invictusSteps = []expect{
	{"ec2-get-password-data", []string{"GetPasswordData"}, high, genericDenials},
	// Stratus reads the instance's credentials with SendCommand before it
	// uses them elsewhere (GetCallerIdentity, DescribeInstances).
	{"ec2-steal-instance-credentials", []string{"SendCommand", "GetCallerIdentity", "DescribeInstances"}, high, genericDenials},
	{"secretsmanager-retrieve-secrets", []string{"GetSecretValue"}, medium, nil},
	{"ssm-retrieve-securestring-parameters", []string{"GetParameters", "GetParameter"}, medium, nil},
	{"cloudtrail-delete", []string{"DeleteTrail"}, critical, nil},
	{"cloudtrail-event-selectors", []string{"PutEventSelectors"}, critical, nil},
	{"cloudtrail-lifecycle-rule", []string{"PutBucketLifecycle"}, high, nil},
	{"cloudtrail-stop", []string{"StopLogging"}, critical, nil},
	{"organizations-leave", []string{"LeaveOrganization"}, high, nil},
	{"vpc-remove-flow-logs", []string{"DeleteFlowLogs"}, high, nil},
	{"ec2-download-user-data", []string{"DescribeInstanceAttribute"}, medium, genericDenials},
	{"ec2-launch-unusual-instances", []string{"RunInstances"}, medium, nil},
	{"ec2-security-group-open-port-22-ingress", []string{"AuthorizeSecurityGroupIngress"}, high, nil},
	{"ec2-share-ami", []string{"ModifyImageAttribute"}, high, nil},
	{"ec2-share-ebs-snapshot", []string{"ModifySnapshotAttribute"}, high, nil},
	{"rds-share-snapshot", []string{"ModifyDBSnapshotAttribute"}, high, nil},
	{"s3-backdoor-bucket-policy", []string{"PutBucketPolicy"}, high, nil},
	{"console-login-without-mfa", []string{"ConsoleLogin"}, high, nil},
	{"iam-backdoor-role", []string{"UpdateAssumeRolePolicy"}, critical, nil},
	{"iam-backdoor-user", []string{"CreateAccessKey"}, high, nil},
	{"iam-create-admin-user", []string{"CreateUser", "AttachUserPolicy"}, high, nil},
	{"iam-create-user-login-profile", []string{"CreateLoginProfile"}, high, nil},
	{"lambda-backdoor-function", []string{"AddPermission"}, high, nil},
	{"lambda-overwrite-code", []string{"UpdateFunctionCode"}, medium, nil},
	{"rolesanywhere-create-trust-anchor", []string{"CreateTrustAnchor", "CreateProfile"}, high, nil},
}

// trailDiscoverWorthy: the 57 TrailDiscover calls (eventSource prefix,
// eventName) a responder wants an alert for as single events, most of them
// captured as denied attempts.
var trailDiscoverWorthy = []string{
	"cloudtrail DeleteTrail", "cloudtrail StopLogging", "cloudtrail UpdateTrail",
	"monitoring DeleteAlarms", "logs DeleteLogGroup", "logs DeleteLogStream",
	"config DeleteConfigRule", "config DeleteConfigurationRecorder", "config DeleteDeliveryChannel", "config StopConfigurationRecorder",
	"ec2 DeleteFlowLogs",
	"guardduty CreateIPSet", "guardduty DeleteDetector", "guardduty DeleteInvitations", "guardduty DeleteMembers",
	"guardduty DeletePublishingDestination", "guardduty DisassociateFromMasterAccount", "guardduty DisassociateMembers",
	"guardduty StopMonitoringMembers", "guardduty UpdateDetector",
	"iam AddRoleToInstanceProfile", "iam AddUserToGroup", "iam AttachGroupPolicy", "iam AttachRolePolicy", "iam AttachUserPolicy",
	"iam CreateAccessKey", "iam CreateGroup", "iam CreateLoginProfile", "iam CreatePolicy", "iam CreatePolicyVersion", "iam CreateRole",
	"iam CreateUser", "iam DeactivateMFADevice", "iam DeleteRolePermissionsBoundary", "iam DeleteUserPermissionsBoundary",
	"iam PutGroupPolicy", "iam PutRolePermissionsBoundary", "iam PutRolePolicy", "iam PutUserPermissionsBoundary", "iam PutUserPolicy",
	"iam SetDefaultPolicyVersion", "iam UpdateAccessKey", "iam UpdateAssumeRolePolicy", "iam UpdateLoginProfile", "iam UpdateSAMLProvider",
	"organizations LeaveOrganization",
	"sso CreateAccountAssignment", "sso UpdateSsoConfiguration",
	"sso-directory AddMemberToGroup", "sso-directory CreateGroup", "sso-directory CreateUser",
	"sts GetFederationToken", "securityhub DeleteMembers", "signin GetSigninToken",
	"events DeleteRule", "events DisableRule", "events RemoveTargets",
}

// hit is one fresh alert and the event that raised it.
type hit struct {
	file                 string // path relative to the corpus
	source, name         string
	userAgent, principal string
	rule                 string
	severity             iamwatch.Severity
	alert                iamwatch.Alert // as first raised
	// grown: the later events the alert's incident grew by (same
	// rule and severity as the hit; file, call and actor their own).
	grown []hit
}

var lambdaVersion = regexp.MustCompile(`^\d{8}(v\d+)?$`)

func callIs(name, want string) bool {
	rest, ok := strings.CutPrefix(name, want)
	return ok && (rest == "" || lambdaVersion.MatchString(rest))
}

// catches reports whether h is one of e's calls (flagged) and whether it is
// at a fitting severity by a specific rule (caught).
func (e expect) catches(h hit) (flagged, caught bool) {
	if !slices.ContainsFunc(e.calls, func(c string) bool { return callIs(h.name, c) }) {
		return false, false
	}
	return true, h.severity >= e.min && !slices.Contains(e.generic, h.rule)
}

// attacker tells the Invictus attack's calls from the lab's own: Stratus's
// own calls begin their user agent with its name (S3 wraps it in brackets),
// and the principals it creates carry it. Its Terraform warm-up names
// Stratus later in the user agent; those are the lab being built.
func attacker(h hit) bool {
	ua := strings.TrimPrefix(h.userAgent, "[")
	return strings.HasPrefix(ua, "stratus-red-team") || strings.Contains(h.principal, "stratus-red-team")
}

// printAttackScores writes the three scores the detection issue sets targets
// for, with the techniques, steps and calls still missed.
func printAttackScores(w io.Writer, hits map[string][]hit) {
	fmt.Fprintln(w, "\nattack scores (expectations: detect/corpus_expect_test.go)")
	if hs, ok := hits["stratus"]; ok {
		caught, flagged := 0, 0
		var missed []string
		for _, e := range stratusExpect {
			f, c := false, false
			for _, h := range hs {
				if strings.TrimSuffix(strings.TrimPrefix(filepath.Base(h.file), "aws."), ".json") != e.name {
					continue
				}
				hf, hc := e.catches(h)
				f, c = f || hf, c || hc
			}
			if c {
				caught++
			} else {
				missed = append(missed, e.name)
			}
			if f {
				flagged++
			}
		}
		fmt.Fprintf(w, "stratus: %d of %d techniques caught at a fitting severity (%d flagged at all)\n", caught, len(stratusExpect), flagged)
		fmt.Fprintf(w, "  not caught: %s\n", strings.Join(missed, ", "))
	}
	if hs, ok := hits["traildiscover"]; ok {
		alerted := 0
		var missed []string
		for _, call := range trailDiscoverWorthy {
			src, name, _ := strings.Cut(call, " ")
			if slices.ContainsFunc(hs, func(h hit) bool { return h.name == name && h.source == src+".amazonaws.com" }) {
				alerted++
			} else {
				missed = append(missed, call)
			}
		}
		fmt.Fprintf(w, "traildiscover: %d of %d alert-worthy calls alerted\n", alerted, len(trailDiscoverWorthy))
		fmt.Fprintf(w, "  not alerted: %s\n", strings.Join(missed, ", "))
	}
	if hs, ok := hits["invictus"]; ok {
		caught, flagged := 0, 0
		var missed []string
		for _, e := range invictusSteps {
			f, c := false, false
			for _, h := range hs {
				if !attacker(h) {
					continue
				}
				hf, hc := e.catches(h)
				f, c = f || hf, c || hc
			}
			if c {
				caught++
			} else {
				missed = append(missed, e.name)
			}
			if f {
				flagged++
			}
		}
		noise := 0
		stepAlerts := map[string]int{}
		isStep := func(h hit) bool {
			return attacker(h) && slices.ContainsFunc(invictusSteps, func(e expect) bool { f, _ := e.catches(h); return f })
		}
		// steps: the alert as first raised is an attack step (what a
		// realtime message says); grownSteps: any event of the incident as
		// stored at the end is one (what a message sent after reading the
		// whole trail says).
		steps, grownSteps := make([]bool, len(hs)), make([]bool, len(hs))
		for i, h := range hs {
			steps[i] = isStep(h)
			grownSteps[i] = steps[i] || slices.ContainsFunc(h.grown, isStep)
			if !steps[i] {
				noise++
			} else {
				stepAlerts[h.rule+" on "+h.name]++
			}
		}
		share := 0.0
		if len(hs) > 0 {
			share = 100 * float64(noise) / float64(len(hs))
		}
		fmt.Fprintf(w, "invictus: %d of %d attack steps caught at a fitting severity (%d flagged at all); %d of %d alerts (%.0f%%) are not an attack step\n",
			caught, len(invictusSteps), flagged, noise, len(hs), share)
		medium := iamwatch.SeverityMedium
		for _, mode := range []delivery{oneGo, perFile, realtime} {
			st := grownSteps // sent after the whole trail: the incidents as they end
			if mode != oneGo {
				st = steps // sent as each incident opens
			}
			notes, noisyNotes, digests := notifications(hs, st, &notify.ActorDigest{}, mode)
			notesM, noisyM, digestsM := notifications(hs, st, &notify.ActorDigest{MaxSeverity: &medium}, mode)
			fmt.Fprintf(w, "invictus: %d of %d notifications (%.0f%%) are not an attack step, %s, default digest (%d digests)\n",
				noisyNotes, notes, 100*float64(noisyNotes)/float64(max(notes, 1)), mode, digests)
			fmt.Fprintf(w, "  with notify.digest.max_severity: medium, %d of %d notifications (%.0f%%) (%d digests)\n",
				noisyM, notesM, 100*float64(noisyM)/float64(max(notesM, 1)), digestsM)
		}
		fmt.Fprintf(w, "  not caught: %s\n", strings.Join(missed, ", "))
		var on []string
		for k, n := range stepAlerts {
			on = append(on, fmt.Sprintf("%s ×%d", k, n))
		}
		slices.Sort(on)
		fmt.Fprintf(w, "  alerts on attack steps: %s\n", strings.Join(on, ", "))
	}
}

// delivery is how the trail reaches iamwatch, which decides which alerts
// are due together.
type delivery int

const (
	// oneGo: the whole trail read at once (scan --notify): its one flush
	// finds every alert due.
	oneGo delivery = iota
	// perFile: trail files as S3 delivers them (SQS, the daemon): a flush
	// after each file.
	perFile
	// realtime: EventBridge, one event a Lambda invocation and a flush.
	realtime
)

func (m delivery) String() string {
	return [...]string{
		"the trail read in one go (scan --notify)",
		"trail files as delivered (S3 notifications through SQS)",
		"realtime (EventBridge, one event a Lambda invocation)",
	}[m]
}

// notifications counts the messages one sink sends for hs under digest
// (the default notify configuration: &notify.ActorDigest{}), delivered as
// mode says. The dispatcher puts the alerts due in one flush that share a
// notify.MessageKey into one message (an actor's held alerts; one rule and
// actor's others), at most notify.MaxDigest a message. Held alerts fall
// due at the end of their actor's hour, so in realtime and per file each
// actor and hour is one digest; read in one go, every hour is due at once.
// An alert not held is due at once: alone in realtime, with the alerts of
// its file per file. A message is an attack step when any
// alert it carries is one (steps[i] for hs[i]). Escalations
// are not counted: each alert is counted at the severity it was raised at.
func notifications(hs []hit, steps []bool, digest *notify.ActorDigest, mode delivery) (messages, noisy, digests int) {
	type group struct {
		alerts, steps int
		digest        bool
	}
	byKey := map[string]*group{}
	var keys []string
	for i := range hs {
		k, held := digest.Holds(&hs[i].alert)
		switch {
		case mode == oneGo:
			k = notify.MessageKey(digest, &hs[i].alert)
		case mode == perFile && !held:
			k = notify.MessageKey(digest, &hs[i].alert) + " " + hs[i].file
		case !held:
			messages++
			if !steps[i] {
				noisy++
			}
			continue
		}
		if byKey[k] == nil {
			byKey[k] = &group{digest: held}
			keys = append(keys, k)
		}
		byKey[k].alerts++
		if steps[i] {
			byKey[k].steps++
		}
	}
	for _, k := range keys {
		g := byKey[k]
		n := (g.alerts + notify.MaxDigest - 1) / notify.MaxDigest
		messages += n
		if g.digest {
			digests += n
		}
		// The dispatcher orders a message by event time; count the
		// messages without a step as if steps came first (a lower bound
		// on the noise only when a group is split, above MaxDigest).
		noisy += n - min(n, g.steps)
	}
	return messages, noisy, digests
}

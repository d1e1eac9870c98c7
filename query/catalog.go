package query

// The catalog of named queries. Each has its SQLite text and its Athena
// (Trino) text; both return the same columns in the same order, sorted the
// same way (ties broken down to a unique order, so results are stable).
//
// Conventions of the texts: {{filter}} is the common WHERE conditions over
// events (time range, user, account; partitions for Athena), {{limit}} the
// LIMIT clause, {{req:a.b}} / {{resp:a.b}} one field of request_parameters /
// response_elements as text. See statement.go.

// authErrorCodes are the error codes of a failed authentication or
// authorisation of an API call (the caller's credentials or permissions were
// refused), as opposed to errors about the request itself.
const authErrorCodes = `'AccessDenied', 'AccessDeniedException', 'Client.UnauthorizedOperation',
		'UnauthorizedOperation', 'UnauthorizedAccess', 'NotAuthorized', 'NotAuthorizedException',
		'InvalidClientTokenId', 'SignatureDoesNotMatch', 'IncompleteSignature', 'AuthFailure',
		'ExpiredToken', 'ExpiredTokenException', 'InvalidToken', 'MissingAuthenticationToken',
		'InvalidIdentityToken', 'IDPRejectedClaim', 'Failed authentication', 'Failure'`

// failedAuth is the condition "this event is a failed authentication": any
// failed sign-in step (console, Identity Center), or an API call refused for
// its credentials or permissions.
const failedAuth = `error_code <> '' AND (event_type = 'signin' OR error_code IN (` + authErrorCodes + `))`

const errorCount = `sum(CASE WHEN error_code <> '' THEN 1 ELSE 0 END)`

// Identity Center permission-set changes.
const ssoPermissionSetEvents = `'CreatePermissionSet', 'UpdatePermissionSet', 'DeletePermissionSet',
		'AttachManagedPolicyToPermissionSet', 'DetachManagedPolicyFromPermissionSet',
		'AttachCustomerManagedPolicyReferenceToPermissionSet', 'DetachCustomerManagedPolicyReferenceFromPermissionSet',
		'PutInlinePolicyToPermissionSet', 'DeleteInlinePolicyFromPermissionSet',
		'PutPermissionsBoundaryToPermissionSet', 'DeletePermissionsBoundaryFromPermissionSet',
		'ProvisionPermissionSet'`

const ssoPolicyExpr = `COALESCE({{req:managedPolicyArn}}, {{req:customerManagedPolicyReference.name}},
		{{req:permissionsBoundary.managedPolicyArn}}, {{req:permissionsBoundary.customerManagedPolicyReference.name}},
		CASE WHEN event_name LIKE '%InlinePolicy%' THEN '(inline policy)' END)`

const ssoPermissionSetExpr = `COALESCE({{req:permissionSetArn}}, {{resp:permissionSet.permissionSetArn}}, {{req:name}})`

// ssoAdminPolicy is the condition "an administrator policy was attached to
// a permission set": the AWS managed AdministratorAccess or IAMFullAccess, or
// an inline policy allowing every action ("Action": "*", spaces ignored).
const ssoAdminPolicy = `event_source = 'sso.amazonaws.com' AND (
		(event_name = 'AttachManagedPolicyToPermissionSet' AND {{req:managedPolicyArn}} IN
			('arn:aws:iam::aws:policy/AdministratorAccess', 'arn:aws:iam::aws:policy/IAMFullAccess'))
		OR (event_name = 'PutInlinePolicyToPermissionSet' AND (
			replace({{req:inlinePolicy}}, ' ', '') LIKE '%"Action":"*"%'
			OR replace({{req:inlinePolicy}}, ' ', '') LIKE '%"Action":["*"%')))`

const ssoApplicationEvents = `'CreateApplication', 'UpdateApplication', 'DeleteApplication',
		'CreateApplicationInstance', 'DeleteApplicationInstance',
		'CreateManagedApplicationInstance', 'DeleteManagedApplicationInstance'`

// ssoAdmin is the condition "an Identity Center administration call": a
// write to sso, sso-directory or identitystore (portal sign-ins and reads
// excluded).
const ssoAdmin = `event_source IN ('sso.amazonaws.com', 'sso-directory.amazonaws.com', 'identitystore.amazonaws.com')
		AND read_only <> 'true'
		AND event_name NOT LIKE 'Get%' AND event_name NOT LIKE 'List%' AND event_name NOT LIKE 'Describe%'
		AND event_name NOT LIKE 'Search%' AND event_name NOT LIKE 'Is%'
		AND event_name NOT IN ('Authenticate', 'Federate', 'Logout', 'CreateToken')`

// iamChange is the condition "an IAM modification": any IAM call but reads
// (names starting Get, List, Generate or Simulate, as ranges: see below).
// iamChange is also the condition of SQLite's index of IAM changes
// (store/sqlite migrate_012.sql), which permission_changes reads only while
// the two say the same, term for term; the index calls no function (LIKE
// made every multi-row INSERT of events keep a statement journal).
const iamChange = `event_source = 'iam.amazonaws.com'
		AND NOT (event_name >= 'Get' AND event_name < 'Geu') AND NOT (event_name >= 'List' AND event_name < 'Lisu')
		AND NOT (event_name >= 'Generate' AND event_name < 'Generatf') AND NOT (event_name >= 'Simulate' AND event_name < 'Simulatf')`

const iamTargetExpr = `COALESCE({{req:userName}}, {{req:roleName}}, {{req:groupName}}, {{req:instanceProfileName}},
		{{req:openIDConnectProviderArn}}, {{req:sAMLProviderArn}}, {{req:serialNumber}}, {{req:accessKeyId}})`

const iamPolicyExpr = `COALESCE({{req:policyArn}}, {{req:policyName}}, {{req:permissionsBoundary}})`

// Athena list aggregate: distinct values, sorted, joined.
func athenaList(col, sep string) string {
	return "array_join(array_sort(array_agg(DISTINCT " + col + ")), '" + sep + "')"
}

// SQLite list aggregate of values that hold no comma (IPs, codes, names).
func sqliteList(col string) string {
	return "replace(group_concat(DISTINCT " + col + " ORDER BY " + col + "), ',', ', ')"
}

func catalog() []Query {
	ev := []string{"events"}
	return []Query{
		{
			Name:        "user_lookup",
			Description: "Everything one user did: counts by event name, first and last seen, source IPs and user agents.",
			Columns:     []string{"event_name", "event_source", "events", "errors", "first_seen", "last_seen", "source_ips", "user_agents"},
			NeedsUser:   true,
			Tables:      ev,
			SQL: map[Dialect]string{
				SQLite: `WITH e AS (
	SELECT event_source, event_name, event_time, error_code, source_ip, user_agent
	FROM events WHERE {{filter}}
), c AS (
	SELECT event_source, event_name, count(*) AS events, ` + errorCount + ` AS errors,
		min(event_time) AS first_seen, max(event_time) AS last_seen, ` + sqliteList("source_ip") + ` AS source_ips
	FROM e GROUP BY event_source, event_name
), ua AS (
	SELECT event_source, event_name, group_concat(user_agent, ' | ' ORDER BY user_agent) AS user_agents
	FROM (SELECT DISTINCT event_source, event_name, user_agent FROM e)
	GROUP BY event_source, event_name
)
SELECT c.event_name, c.event_source, c.events, c.errors, c.first_seen, c.last_seen, c.source_ips, ua.user_agents
FROM c JOIN ua ON ua.event_source = c.event_source AND ua.event_name = c.event_name
ORDER BY c.events DESC, c.event_name, c.event_source
{{limit}}`,
				Athena: `SELECT event_name, event_source, count(*) AS events, ` + errorCount + ` AS errors,
	min(event_time) AS first_seen, max(event_time) AS last_seen,
	` + athenaList("source_ip", ", ") + ` AS source_ips,
	` + athenaList("user_agent", " | ") + ` AS user_agents
FROM events WHERE {{filter}}
GROUP BY event_source, event_name
ORDER BY events DESC, event_name, event_source
{{limit}}`,
			},
		},
		{
			Name:        "failed_auth",
			Description: "Failed authentications (console and Identity Center sign-ins, API calls refused for their credentials or permissions) by user and source IP; brute-force candidates first.",
			Columns:     []string{"user_name", "source_ip", "failures", "console_failures", "api_failures", "error_codes", "first_failure", "last_failure"},
			Tables:      ev,
			SQL: map[Dialect]string{
				SQLite: `SELECT user_name, source_ip, count(*) AS failures,
	sum(CASE WHEN event_type = 'signin' THEN 1 ELSE 0 END) AS console_failures,
	sum(CASE WHEN event_type = 'signin' THEN 0 ELSE 1 END) AS api_failures,
	` + sqliteList("error_code") + ` AS error_codes,
	min(event_time) AS first_failure, max(event_time) AS last_failure
FROM {{events}} WHERE {{filter}} AND ` + failedAuth + `
GROUP BY user_name, source_ip
ORDER BY failures DESC, last_failure DESC, user_name, source_ip
{{limit}}`,
				Athena: `SELECT user_name, source_ip, count(*) AS failures,
	sum(CASE WHEN event_type = 'signin' THEN 1 ELSE 0 END) AS console_failures,
	sum(CASE WHEN event_type = 'signin' THEN 0 ELSE 1 END) AS api_failures,
	` + athenaList("error_code", ", ") + ` AS error_codes,
	min(event_time) AS first_failure, max(event_time) AS last_failure
FROM {{events}} WHERE {{filter}} AND ` + failedAuth + `
GROUP BY user_name, source_ip
ORDER BY failures DESC, last_failure DESC, user_name, source_ip
{{limit}}`,
			},
			rollup: &rollupText{sql: failedAuthRollup},
		},
		{
			Name:        "root_usage",
			Description: "Every action of the root user: time, event, source IP, user agent and whether MFA was used; newest first.",
			Columns:     []string{"event_time", "event_name", "event_source", "account_id", "aws_region", "source_ip", "user_agent", "mfa_used", "error_code", "event_id"},
			Tables:      ev,
			SQL: map[Dialect]string{
				SQLite: rootUsage,
				Athena: rootUsage,
			},
		},
		{
			Name: "off_hours",
			Description: "Activity outside business hours (default 06:00–22:00 in the chosen time zone; " +
				"weekends too with --weekends); newest first.",
			Columns: []string{"event_time", "weekday", "local_time", "user_name", "event_name", "event_source", "source_ip", "error_code", "event_id"},
			Tables:  ev,
			SQL: map[Dialect]string{
				SQLite: `SELECT event_time, substr('MonTueWedThuFriSatSun', 1 + 3 * wd, 3) AS weekday,
	printf('%02d:%02d', lm / 60, lm % 60) AS local_time,
	user_name, event_name, event_source, source_ip, error_code, event_id
FROM (
	SELECT event_time, user_name, event_name, event_source, source_ip, error_code, event_id,
		({{local_epoch}} % 86400) / 60 AS lm,
		({{local_epoch}} / 86400 + 3) % 7 AS wd
	FROM events WHERE {{filter}}
)
WHERE {{off_hours}}
ORDER BY event_time DESC, event_id DESC
{{limit}}`,
				Athena: `SELECT event_time, substr('MonTueWedThuFriSatSun', 1 + 3 * wd, 3) AS weekday,
	lpad(CAST(lm / 60 AS VARCHAR), 2, '0') || ':' || lpad(CAST(lm % 60 AS VARCHAR), 2, '0') AS local_time,
	user_name, event_name, event_source, source_ip, error_code, event_id
FROM (
	SELECT event_time, user_name, event_name, event_source, source_ip, error_code, event_id,
		CAST(EXTRACT(HOUR FROM lt) * 60 + EXTRACT(MINUTE FROM lt) AS BIGINT) AS lm,
		CAST(date_diff('day', DATE '1970-01-05', CAST(lt AS DATE)) % 7 AS BIGINT) AS wd
	FROM (
		SELECT event_time, user_name, event_name, event_source, source_ip, error_code, event_id,
			{{local_time}} AS lt
		FROM events WHERE {{filter}}
	) l
) t
WHERE {{off_hours}}
ORDER BY event_time DESC, event_id DESC
{{limit}}`,
			},
		},
		{
			Name:        "active_users",
			Description: "The most active users: event counts, distinct actions, errors and error rate (percent), first and last seen.",
			Columns:     []string{"user_name", "events", "distinct_actions", "errors", "error_rate", "first_seen", "last_seen"},
			Tables:      ev,
			SQL: map[Dialect]string{
				SQLite: activeUsers,
				Athena: activeUsers,
			},
			rollup: &rollupText{sql: activeUsersRollup},
		},
		{
			Name:        "permission_changes",
			Description: "IAM policy, role, user, group and access key modifications (failed attempts included), newest first.",
			Columns:     []string{"event_time", "event_name", "user_name", "target", "policy", "account_id", "source_ip", "error_code", "event_id"},
			Tables:      ev,
			SQL: map[Dialect]string{
				SQLite: permissionChanges,
				Athena: permissionChanges,
			},
		},
		{
			Name:        "role_assumptions",
			Description: "Role assumption patterns: who assumes which role, how often, from which source IPs.",
			Columns:     []string{"user_name", "role_arn", "assumptions", "failures", "distinct_source_ips", "source_ips", "first_seen", "last_seen"},
			Tables:      ev,
			SQL: map[Dialect]string{
				SQLite: `SELECT user_name, role_arn, count(*) AS assumptions, ` + errorCount + ` AS failures,
	count(DISTINCT source_ip) AS distinct_source_ips, ` + sqliteList("source_ip") + ` AS source_ips,
	min(event_time) AS first_seen, max(event_time) AS last_seen
FROM (
	SELECT user_name, CASE WHEN target_role <> '' THEN target_role ELSE COALESCE({{req:roleArn}}, '') END AS role_arn,
		error_code, source_ip, event_time
	FROM events WHERE {{filter}} AND event_name IN ('AssumeRole', 'AssumeRoleWithSAML', 'AssumeRoleWithWebIdentity')
)
GROUP BY user_name, role_arn
ORDER BY assumptions DESC, user_name, role_arn
{{limit}}`,
				Athena: `SELECT user_name, role_arn, count(*) AS assumptions, ` + errorCount + ` AS failures,
	count(DISTINCT source_ip) AS distinct_source_ips, ` + athenaList("source_ip", ", ") + ` AS source_ips,
	min(event_time) AS first_seen, max(event_time) AS last_seen
FROM (
	SELECT user_name, COALESCE({{req:roleArn}}, '') AS role_arn, error_code, source_ip, event_time
	FROM events WHERE {{filter}} AND event_name IN ('AssumeRole', 'AssumeRoleWithSAML', 'AssumeRoleWithWebIdentity')
) t
GROUP BY user_name, role_arn
ORDER BY assumptions DESC, user_name, role_arn
{{limit}}`,
			},
			rollup: &rollupText{sql: roleAssumptionsRollup},
		},
		{
			Name:        "daily_summary",
			Description: "Per UTC day: events by type (iam, sts, signin, sso, other), errors, distinct users and alerts raised; newest day first.",
			Columns:     []string{"day", "events", "iam", "sts", "signin", "sso", "other", "errors", "distinct_users", "alerts"},
			Tables:      []string{"events", "alerts"},
			SQL: map[Dialect]string{
				SQLite: dailySummary,
				Athena: dailySummary,
			},
			rollup: &rollupText{sql: dailySummaryRollup},
		},
		{
			Name:        "hourly_activity",
			Description: "Activity by hour of the day (in the chosen time zone): events, errors, distinct users, and events per day of the week.",
			Columns:     []string{"hour", "events", "errors", "distinct_users", "mon", "tue", "wed", "thu", "fri", "sat", "sun"},
			Tables:      ev,
			SQL: map[Dialect]string{
				SQLite: `SELECT lh AS hour, ` + hourlyAggregates + `
FROM (
	SELECT error_code, user_name,
		({{local_epoch}} % 86400) / 3600 AS lh,
		({{local_epoch}} / 86400 + 3) % 7 AS wd
	FROM events WHERE {{filter}}
)
GROUP BY lh
ORDER BY lh
{{limit}}`,
				Athena: `SELECT lh AS hour, ` + hourlyAggregates + `
FROM (
	SELECT error_code, user_name,
		CAST(EXTRACT(HOUR FROM lt) AS BIGINT) AS lh,
		CAST(date_diff('day', DATE '1970-01-05', CAST(lt AS DATE)) % 7 AS BIGINT) AS wd
	FROM (SELECT error_code, user_name, {{local_time}} AS lt FROM events WHERE {{filter}}) l
) t
GROUP BY lh
ORDER BY lh
{{limit}}`,
			},
			rollup: &rollupText{sql: hourlyActivityRollup, hourly: true},
		},
		{
			Name:        "sso_permission_sets",
			Description: "IAM Identity Center permission set creations, updates, deletions, provisioning and policy attachments; newest first.",
			Columns:     []string{"event_time", "event_name", "user_name", "permission_set", "policy", "account_id", "source_ip", "error_code", "event_id"},
			Tables:      ev,
			SQL: map[Dialect]string{
				SQLite: ssoPermissionSets,
				Athena: ssoPermissionSets,
			},
		},
		{
			Name:        "sso_account_assignments",
			Description: "IAM Identity Center account assignment creations and deletions: who gave whom which permission set in which account; newest first.",
			Columns:     []string{"event_time", "event_name", "user_name", "target_account", "permission_set", "principal_type", "principal_id", "source_ip", "error_code", "event_id"},
			Tables:      ev,
			SQL: map[Dialect]string{
				SQLite: ssoAccountAssignments,
				Athena: ssoAccountAssignments,
			},
		},
		{
			Name:        "sso_admin_policies",
			Description: "Administrator policies attached to permission sets (AdministratorAccess, IAMFullAccess, inline policies allowing every action); newest first.",
			Columns:     []string{"event_time", "event_name", "user_name", "permission_set", "policy", "account_id", "source_ip", "error_code", "event_id"},
			Tables:      ev,
			SQL: map[Dialect]string{
				SQLite: ssoAdminPolicies,
				Athena: ssoAdminPolicies,
			},
		},
		{
			Name:        "sso_applications",
			Description: "IAM Identity Center application creations, updates and deletions; newest first.",
			Columns:     []string{"event_time", "event_name", "user_name", "application", "account_id", "source_ip", "error_code", "event_id"},
			Tables:      ev,
			SQL: map[Dialect]string{
				SQLite: ssoApplications,
				Athena: ssoApplications,
			},
		},
		{
			Name:        "sso_admin_users",
			Description: "Who performs IAM Identity Center administration (writes to sso, sso-directory, identitystore): actions, distinct actions, errors.",
			Columns:     []string{"user_name", "actions", "distinct_actions", "errors", "event_names", "first_seen", "last_seen"},
			Tables:      ev,
			SQL: map[Dialect]string{
				SQLite: `SELECT user_name, count(*) AS actions, count(DISTINCT event_name) AS distinct_actions, ` + errorCount + ` AS errors,
	` + sqliteList("event_name") + ` AS event_names,
	min(event_time) AS first_seen, max(event_time) AS last_seen
FROM {{events}} WHERE {{filter}} AND ` + ssoAdmin + `
GROUP BY user_name
ORDER BY actions DESC, user_name
{{limit}}`,
				Athena: `SELECT user_name, count(*) AS actions, count(DISTINCT event_name) AS distinct_actions, ` + errorCount + ` AS errors,
	` + athenaList("event_name", ", ") + ` AS event_names,
	min(event_time) AS first_seen, max(event_time) AS last_seen
FROM {{events}} WHERE {{filter}} AND ` + ssoAdmin + `
GROUP BY user_name
ORDER BY actions DESC, user_name
{{limit}}`,
			},
			rollup: &rollupText{sql: ssoAdminUsersRollup},
		},
		{
			Name:        "sso_activity_summary",
			Description: "IAM Identity Center activity (sso, sso-directory, identitystore, sign-in portal) by event name and user.",
			Columns:     []string{"event_name", "event_source", "user_name", "events", "errors", "first_seen", "last_seen"},
			Tables:      ev,
			SQL: map[Dialect]string{
				SQLite: ssoActivitySummary,
				Athena: ssoActivitySummary,
			},
			rollup: &rollupText{sql: ssoActivitySummaryRollup},
		},
	}
}

// The texts below are the same in both dialects.

// rootUsage's identity_type = 'Root' is the condition of SQLite's index of
// the root user's events (store/sqlite migrate_011.sql).
const rootUsage = `SELECT event_time, event_name, event_source, account_id, aws_region, source_ip, user_agent,
	mfa_used, error_code, event_id
FROM events WHERE {{filter}} AND identity_type = 'Root'
ORDER BY event_time DESC, event_id DESC
{{limit}}`

const activeUsers = `SELECT user_name, count(*) AS events, count(DISTINCT event_name) AS distinct_actions,
	` + errorCount + ` AS errors,
	round(CAST(` + errorCount + ` AS DOUBLE) * 100 / count(*), 1) AS error_rate,
	min(event_time) AS first_seen, max(event_time) AS last_seen
FROM {{events}} WHERE {{filter}}
GROUP BY user_name
ORDER BY events DESC, user_name
{{limit}}`

const permissionChanges = `SELECT event_time, event_name, user_name, ` + iamTargetExpr + ` AS target,
	` + iamPolicyExpr + ` AS policy, account_id, source_ip, error_code, event_id
FROM events WHERE {{filter}} AND ` + iamChange + `
ORDER BY event_time DESC, event_id DESC
{{limit}}`

const dailySummary = `WITH e AS (
	SELECT event_date AS day, count(*) AS events,
		sum(CASE WHEN event_type = 'iam' THEN 1 ELSE 0 END) AS iam,
		sum(CASE WHEN event_type = 'sts' THEN 1 ELSE 0 END) AS sts,
		sum(CASE WHEN event_type = 'signin' THEN 1 ELSE 0 END) AS signin,
		sum(CASE WHEN event_type = 'sso' THEN 1 ELSE 0 END) AS sso,
		sum(CASE WHEN event_type NOT IN ('iam', 'sts', 'signin', 'sso') THEN 1 ELSE 0 END) AS other,
		` + errorCount + ` AS errors,
		count(DISTINCT user_name) AS distinct_users
	FROM events WHERE {{filter}}
	GROUP BY event_date
), ` + dailySummaryTail

// dailySummaryTail joins the per-day event counts e with the alerts.
const dailySummaryTail = `a AS (
	SELECT substr(time, 1, 10) AS day, count(*) AS alerts
	FROM alerts WHERE {{alert_filter}}
	GROUP BY substr(time, 1, 10)
), d AS (
	SELECT day FROM e UNION SELECT day FROM a
)
SELECT d.day, COALESCE(e.events, 0) AS events, COALESCE(e.iam, 0) AS iam, COALESCE(e.sts, 0) AS sts,
	COALESCE(e.signin, 0) AS signin, COALESCE(e.sso, 0) AS sso, COALESCE(e.other, 0) AS other,
	COALESCE(e.errors, 0) AS errors, COALESCE(e.distinct_users, 0) AS distinct_users,
	COALESCE(a.alerts, 0) AS alerts
FROM d LEFT JOIN e ON e.day = d.day LEFT JOIN a ON a.day = d.day
ORDER BY d.day DESC
{{limit}}`

const hourlyAggregates = `count(*) AS events, ` + errorCount + ` AS errors, count(DISTINCT user_name) AS distinct_users,
	sum(CASE WHEN wd = 0 THEN 1 ELSE 0 END) AS mon, sum(CASE WHEN wd = 1 THEN 1 ELSE 0 END) AS tue,
	sum(CASE WHEN wd = 2 THEN 1 ELSE 0 END) AS wed, sum(CASE WHEN wd = 3 THEN 1 ELSE 0 END) AS thu,
	sum(CASE WHEN wd = 4 THEN 1 ELSE 0 END) AS fri, sum(CASE WHEN wd = 5 THEN 1 ELSE 0 END) AS sat,
	sum(CASE WHEN wd = 6 THEN 1 ELSE 0 END) AS sun`

const ssoPermissionSets = `SELECT event_time, event_name, user_name, ` + ssoPermissionSetExpr + ` AS permission_set,
	` + ssoPolicyExpr + ` AS policy, account_id, source_ip, error_code, event_id
FROM events WHERE {{filter}} AND event_source = 'sso.amazonaws.com' AND event_name IN (` + ssoPermissionSetEvents + `)
ORDER BY event_time DESC, event_id DESC
{{limit}}`

const ssoAccountAssignments = `SELECT event_time, event_name, user_name, {{req:targetId}} AS target_account,
	{{req:permissionSetArn}} AS permission_set, {{req:principalType}} AS principal_type,
	{{req:principalId}} AS principal_id, source_ip, error_code, event_id
FROM events WHERE {{filter}} AND event_source = 'sso.amazonaws.com'
	AND event_name IN ('CreateAccountAssignment', 'DeleteAccountAssignment')
ORDER BY event_time DESC, event_id DESC
{{limit}}`

const ssoAdminPolicies = `SELECT event_time, event_name, user_name, {{req:permissionSetArn}} AS permission_set,
	COALESCE({{req:managedPolicyArn}}, '(inline policy allowing *)') AS policy,
	account_id, source_ip, error_code, event_id
FROM events WHERE {{filter}} AND ` + ssoAdminPolicy + `
ORDER BY event_time DESC, event_id DESC
{{limit}}`

const ssoApplications = `SELECT event_time, event_name, user_name,
	COALESCE({{req:name}}, {{req:applicationArn}}, {{resp:applicationArn}}, {{req:applicationProviderArn}}, {{req:instanceId}}) AS application,
	account_id, source_ip, error_code, event_id
FROM events WHERE {{filter}} AND event_source = 'sso.amazonaws.com' AND event_name IN (` + ssoApplicationEvents + `)
ORDER BY event_time DESC, event_id DESC
{{limit}}`

const ssoActivitySummary = `SELECT event_name, event_source, user_name, count(*) AS events, ` + errorCount + ` AS errors,
	min(event_time) AS first_seen, max(event_time) AS last_seen
FROM {{events}} WHERE {{filter}} AND event_type = 'sso'
GROUP BY event_name, event_source, user_name
ORDER BY events DESC, event_name, event_source, user_name
{{limit}}`

// The texts over the roll-up tables (SQLite only; see rollupText). Each
// answers what the events text above it answers: counts become sums of n
// (events) and n_errors, first and last times the min and max of
// first_time and last_time, and distinct counts count the key columns.

var failedAuthRollup = `SELECT user_name, source_ip, sum(n) AS failures,
	sum(CASE WHEN event_type = 'signin' THEN n ELSE 0 END) AS console_failures,
	sum(CASE WHEN event_type = 'signin' THEN 0 ELSE n END) AS api_failures,
	` + sqliteList("error_code") + ` AS error_codes,
	min(first_time) AS first_failure, max(last_time) AS last_failure
FROM rollup_failures WHERE {{day_filter}} AND ` + failedAuth + `
GROUP BY user_name, source_ip
ORDER BY failures DESC, last_failure DESC, user_name, source_ip
{{limit}}`

const activeUsersRollup = `SELECT user_name, sum(n) AS events, count(DISTINCT event_name) AS distinct_actions,
	sum(n_errors) AS errors,
	round(CAST(sum(n_errors) AS DOUBLE) * 100 / sum(n), 1) AS error_rate,
	min(first_time) AS first_seen, max(last_time) AS last_seen
FROM rollup_actions WHERE {{day_filter}}
GROUP BY user_name
ORDER BY events DESC, user_name
{{limit}}`

var roleAssumptionsRollup = `SELECT user_name, role_arn, sum(n) AS assumptions, sum(n_errors) AS failures,
	count(DISTINCT source_ip) AS distinct_source_ips, ` + sqliteList("source_ip") + ` AS source_ips,
	min(first_time) AS first_seen, max(last_time) AS last_seen
FROM rollup_roles WHERE {{day_filter}}
GROUP BY user_name, role_arn
ORDER BY assumptions DESC, user_name, role_arn
{{limit}}`

const dailySummaryRollup = `WITH e AS (
	SELECT day, sum(n) AS events,
		sum(CASE WHEN event_type = 'iam' THEN n ELSE 0 END) AS iam,
		sum(CASE WHEN event_type = 'sts' THEN n ELSE 0 END) AS sts,
		sum(CASE WHEN event_type = 'signin' THEN n ELSE 0 END) AS signin,
		sum(CASE WHEN event_type = 'sso' THEN n ELSE 0 END) AS sso,
		sum(CASE WHEN event_type NOT IN ('iam', 'sts', 'signin', 'sso') THEN n ELSE 0 END) AS other,
		sum(n_errors) AS errors,
		count(DISTINCT user_name) AS distinct_users
	FROM rollup_actions WHERE {{day_filter}}
	GROUP BY day
), ` + dailySummaryTail

// hourlyActivityRollup computes the local time once a row: LIMIT -1 keeps
// SQLite from flattening the innermost subquery into the others, which would
// repeat the expression at each use of lh and wd (twice as slow, measured).
const hourlyActivityRollup = `SELECT lh AS hour, sum(n) AS events, sum(n_errors) AS errors, count(DISTINCT user_name) AS distinct_users,
	sum(CASE WHEN wd = 0 THEN n ELSE 0 END) AS mon, sum(CASE WHEN wd = 1 THEN n ELSE 0 END) AS tue,
	sum(CASE WHEN wd = 2 THEN n ELSE 0 END) AS wed, sum(CASE WHEN wd = 3 THEN n ELSE 0 END) AS thu,
	sum(CASE WHEN wd = 4 THEN n ELSE 0 END) AS fri, sum(CASE WHEN wd = 5 THEN n ELSE 0 END) AS sat,
	sum(CASE WHEN wd = 6 THEN n ELSE 0 END) AS sun
FROM (
	SELECT n, n_errors, user_name, (le % 86400) / 3600 AS lh, (le / 86400 + 3) % 7 AS wd
	FROM (SELECT n, n_errors, user_name, {{hour_local_epoch}} AS le FROM rollup_hours WHERE {{hour_filter}} LIMIT -1)
)
GROUP BY lh
ORDER BY lh
{{limit}}`

var ssoAdminUsersRollup = `SELECT user_name, sum(n) AS actions, count(DISTINCT event_name) AS distinct_actions, sum(n_errors) AS errors,
	` + sqliteList("event_name") + ` AS event_names,
	min(first_time) AS first_seen, max(last_time) AS last_seen
FROM rollup_actions WHERE {{day_filter}} AND ` + ssoAdmin + `
GROUP BY user_name
ORDER BY actions DESC, user_name
{{limit}}`

const ssoActivitySummaryRollup = `SELECT event_name, event_source, user_name, sum(n) AS events, sum(n_errors) AS errors,
	min(first_time) AS first_seen, max(last_time) AS last_seen
FROM rollup_actions WHERE {{day_filter}} AND event_type = 'sso'
GROUP BY event_name, event_source, user_name
ORDER BY events DESC, event_name, event_source, user_name
{{limit}}`

SELECT user_name, role_arn, count(*) AS assumptions, sum(CASE WHEN error_code <> '' THEN 1 ELSE 0 END) AS failures,
	count(DISTINCT source_ip) AS distinct_source_ips, replace(group_concat(DISTINCT source_ip ORDER BY source_ip), ',', ', ') AS source_ips,
	min(event_time) AS first_seen, max(event_time) AS last_seen
FROM (
	SELECT user_name, CASE WHEN target_role <> '' THEN target_role ELSE COALESCE((CASE WHEN json_valid(request_parameters) THEN json_extract(request_parameters, '$.roleArn') END), '') END AS role_arn,
		error_code, source_ip, event_time
	FROM events WHERE event_time >= '2026-03-09T12:00:00Z' AND event_time < '2026-03-16T12:00:00Z' AND user_name = 'alice' AND account_id = '111122223333' AND event_name IN ('AssumeRole', 'AssumeRoleWithSAML', 'AssumeRoleWithWebIdentity')
)
GROUP BY user_name, role_arn
ORDER BY assumptions DESC, user_name, role_arn
LIMIT 101

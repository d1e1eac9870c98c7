SELECT user_name, role_arn, sum(n) AS assumptions, sum(n_errors) AS failures,
	count(DISTINCT source_ip) AS distinct_source_ips, replace(group_concat(DISTINCT source_ip ORDER BY source_ip), ',', ', ') AS source_ips,
	min(first_time) AS first_seen, max(last_time) AS last_seen
FROM rollup_roles WHERE day >= '2026-03-09' AND day < '2026-03-16' AND user_name = 'alice' AND account_id = '111122223333'
GROUP BY user_name, role_arn
ORDER BY assumptions DESC, user_name, role_arn
LIMIT 101

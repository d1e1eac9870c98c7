SELECT event_name, event_source, user_name, sum(n) AS events, sum(n_errors) AS errors,
	min(first_time) AS first_seen, max(last_time) AS last_seen
FROM rollup_actions WHERE day >= '2026-03-09' AND day < '2026-03-16' AND user_name = 'alice' AND account_id = '111122223333' AND event_type = 'sso'
GROUP BY event_name, event_source, user_name
ORDER BY events DESC, event_name, event_source, user_name
LIMIT 101

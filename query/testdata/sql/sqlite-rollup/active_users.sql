SELECT user_name, sum(n) AS events, count(DISTINCT event_name) AS distinct_actions,
	sum(n_errors) AS errors,
	round(CAST(sum(n_errors) AS DOUBLE) * 100 / sum(n), 1) AS error_rate,
	min(first_time) AS first_seen, max(last_time) AS last_seen
FROM rollup_actions WHERE day >= '2026-03-09' AND day < '2026-03-16' AND user_name = 'alice' AND account_id = '111122223333'
GROUP BY user_name
ORDER BY events DESC, user_name
LIMIT 101

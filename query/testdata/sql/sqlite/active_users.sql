SELECT user_name, count(*) AS events, count(DISTINCT event_name) AS distinct_actions,
	sum(CASE WHEN error_code <> '' THEN 1 ELSE 0 END) AS errors,
	round(CAST(sum(CASE WHEN error_code <> '' THEN 1 ELSE 0 END) AS DOUBLE) * 100 / count(*), 1) AS error_rate,
	min(event_time) AS first_seen, max(event_time) AS last_seen
FROM events WHERE event_time >= '2026-03-09T12:00:00Z' AND event_time < '2026-03-16T12:00:00Z' AND user_name = 'alice' AND account_id = '111122223333'
GROUP BY user_name
ORDER BY events DESC, user_name
LIMIT 101

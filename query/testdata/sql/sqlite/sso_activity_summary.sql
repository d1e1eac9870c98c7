SELECT event_name, event_source, user_name, count(*) AS events, sum(CASE WHEN error_code <> '' THEN 1 ELSE 0 END) AS errors,
	min(event_time) AS first_seen, max(event_time) AS last_seen
FROM events WHERE event_time >= '2026-03-09T12:00:00Z' AND event_time < '2026-03-16T12:00:00Z' AND user_name = 'alice' AND account_id = '111122223333' AND event_type = 'sso'
GROUP BY event_name, event_source, user_name
ORDER BY events DESC, event_name, event_source, user_name
LIMIT 101

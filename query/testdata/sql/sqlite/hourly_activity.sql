SELECT lh AS hour, count(*) AS events, sum(CASE WHEN error_code <> '' THEN 1 ELSE 0 END) AS errors, count(DISTINCT user_name) AS distinct_users,
	sum(CASE WHEN wd = 0 THEN 1 ELSE 0 END) AS mon, sum(CASE WHEN wd = 1 THEN 1 ELSE 0 END) AS tue,
	sum(CASE WHEN wd = 2 THEN 1 ELSE 0 END) AS wed, sum(CASE WHEN wd = 3 THEN 1 ELSE 0 END) AS thu,
	sum(CASE WHEN wd = 4 THEN 1 ELSE 0 END) AS fri, sum(CASE WHEN wd = 5 THEN 1 ELSE 0 END) AS sat,
	sum(CASE WHEN wd = 6 THEN 1 ELSE 0 END) AS sun
FROM (
	SELECT error_code, user_name,
		((unixepoch(event_time) + 3600) % 86400) / 3600 AS lh,
		((unixepoch(event_time) + 3600) / 86400 + 3) % 7 AS wd
	FROM events WHERE event_time >= '2026-03-09T12:00:00Z' AND event_time < '2026-03-16T12:00:00Z' AND user_name = 'alice' AND account_id = '111122223333'
)
GROUP BY lh
ORDER BY lh
LIMIT 101

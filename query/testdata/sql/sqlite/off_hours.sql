SELECT event_time, substr('MonTueWedThuFriSatSun', 1 + 3 * wd, 3) AS weekday,
	printf('%02d:%02d', lm / 60, lm % 60) AS local_time,
	user_name, event_name, event_source, source_ip, error_code, event_id
FROM (
	SELECT event_time, user_name, event_name, event_source, source_ip, error_code, event_id,
		((unixepoch(event_time) + 3600) % 86400) / 60 AS lm,
		((unixepoch(event_time) + 3600) / 86400 + 3) % 7 AS wd
	FROM events WHERE event_time >= '2026-03-09T12:00:00Z' AND event_time < '2026-03-16T12:00:00Z' AND user_name = 'alice' AND account_id = '111122223333'
)
WHERE (lm < 360 OR lm >= 1320)
ORDER BY event_time DESC, event_id DESC
LIMIT 101

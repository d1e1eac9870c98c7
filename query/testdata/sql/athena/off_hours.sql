SELECT event_time, substr('MonTueWedThuFriSatSun', 1 + 3 * wd, 3) AS weekday,
	lpad(CAST(lm / 60 AS VARCHAR), 2, '0') || ':' || lpad(CAST(lm % 60 AS VARCHAR), 2, '0') AS local_time,
	user_name, event_name, event_source, source_ip, error_code, event_id
FROM (
	SELECT event_time, user_name, event_name, event_source, source_ip, error_code, event_id,
		CAST(EXTRACT(HOUR FROM lt) * 60 + EXTRACT(MINUTE FROM lt) AS BIGINT) AS lm,
		CAST(date_diff('day', DATE '1970-01-05', CAST(lt AS DATE)) % 7 AS BIGINT) AS wd
	FROM (
		SELECT event_time, user_name, event_name, event_source, source_ip, error_code, event_id,
			((CAST(replace(replace(event_time, 'T', ' '), 'Z', '') AS TIMESTAMP) AT TIME ZONE 'UTC') AT TIME ZONE 'Europe/Paris') AS lt
		FROM events WHERE event_time >= '2026-03-09T12:00:00Z' AND (year * 10000 + month * 100 + day) >= 20260309 AND event_time < '2026-03-16T12:00:00Z' AND (year * 10000 + month * 100 + day) <= 20260316 AND user_name = 'alice' AND account_id = '111122223333'
	) l
) t
WHERE (lm < 360 OR lm >= 1320)
ORDER BY event_time DESC, event_id DESC
LIMIT 101

SELECT lh AS hour, count(*) AS events, sum(CASE WHEN error_code <> '' THEN 1 ELSE 0 END) AS errors, count(DISTINCT user_name) AS distinct_users,
	sum(CASE WHEN wd = 0 THEN 1 ELSE 0 END) AS mon, sum(CASE WHEN wd = 1 THEN 1 ELSE 0 END) AS tue,
	sum(CASE WHEN wd = 2 THEN 1 ELSE 0 END) AS wed, sum(CASE WHEN wd = 3 THEN 1 ELSE 0 END) AS thu,
	sum(CASE WHEN wd = 4 THEN 1 ELSE 0 END) AS fri, sum(CASE WHEN wd = 5 THEN 1 ELSE 0 END) AS sat,
	sum(CASE WHEN wd = 6 THEN 1 ELSE 0 END) AS sun
FROM (
	SELECT error_code, user_name,
		CAST(EXTRACT(HOUR FROM lt) AS BIGINT) AS lh,
		CAST(date_diff('day', DATE '1970-01-05', CAST(lt AS DATE)) % 7 AS BIGINT) AS wd
	FROM (SELECT error_code, user_name, ((CAST(replace(replace(event_time, 'T', ' '), 'Z', '') AS TIMESTAMP) AT TIME ZONE 'UTC') AT TIME ZONE 'Europe/Paris') AS lt FROM events WHERE event_time >= '2026-03-09T12:00:00Z' AND (year * 10000 + month * 100 + day) >= 20260309 AND event_time < '2026-03-16T12:00:00Z' AND (year * 10000 + month * 100 + day) <= 20260316 AND user_name = 'alice' AND account_id = '111122223333') l
) t
GROUP BY lh
ORDER BY lh
LIMIT 101

SELECT lh AS hour, sum(n) AS events, sum(n_errors) AS errors, count(DISTINCT user_name) AS distinct_users,
	sum(CASE WHEN wd = 0 THEN n ELSE 0 END) AS mon, sum(CASE WHEN wd = 1 THEN n ELSE 0 END) AS tue,
	sum(CASE WHEN wd = 2 THEN n ELSE 0 END) AS wed, sum(CASE WHEN wd = 3 THEN n ELSE 0 END) AS thu,
	sum(CASE WHEN wd = 4 THEN n ELSE 0 END) AS fri, sum(CASE WHEN wd = 5 THEN n ELSE 0 END) AS sat,
	sum(CASE WHEN wd = 6 THEN n ELSE 0 END) AS sun
FROM (
	SELECT n, n_errors, user_name, (le % 86400) / 3600 AS lh, (le / 86400 + 3) % 7 AS wd
	FROM (SELECT n, n_errors, user_name, (unixepoch(hour) + 3600) AS le FROM rollup_hours WHERE hour >= '2026-03-09T00:00:00Z' AND hour < '2026-03-16T00:00:00Z' AND user_name = 'alice' AND account_id = '111122223333' LIMIT -1)
)
GROUP BY lh
ORDER BY lh
LIMIT 101

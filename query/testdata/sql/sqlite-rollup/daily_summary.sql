WITH e AS (
	SELECT day, sum(n) AS events,
		sum(CASE WHEN event_type = 'iam' THEN n ELSE 0 END) AS iam,
		sum(CASE WHEN event_type = 'sts' THEN n ELSE 0 END) AS sts,
		sum(CASE WHEN event_type = 'signin' THEN n ELSE 0 END) AS signin,
		sum(CASE WHEN event_type = 'sso' THEN n ELSE 0 END) AS sso,
		sum(CASE WHEN event_type NOT IN ('iam', 'sts', 'signin', 'sso') THEN n ELSE 0 END) AS other,
		sum(n_errors) AS errors,
		count(DISTINCT user_name) AS distinct_users
	FROM rollup_actions WHERE day >= '2026-03-09' AND day < '2026-03-16' AND user_name = 'alice' AND account_id = '111122223333'
	GROUP BY day
), a AS (
	SELECT substr(time, 1, 10) AS day, count(*) AS alerts
	FROM alerts WHERE time >= '2026-03-09T00:00:00Z' AND time < '2026-03-16T00:00:00Z' AND user_name = 'alice' AND account_id = '111122223333'
	GROUP BY substr(time, 1, 10)
), d AS (
	SELECT day FROM e UNION SELECT day FROM a
)
SELECT d.day, COALESCE(e.events, 0) AS events, COALESCE(e.iam, 0) AS iam, COALESCE(e.sts, 0) AS sts,
	COALESCE(e.signin, 0) AS signin, COALESCE(e.sso, 0) AS sso, COALESCE(e.other, 0) AS other,
	COALESCE(e.errors, 0) AS errors, COALESCE(e.distinct_users, 0) AS distinct_users,
	COALESCE(a.alerts, 0) AS alerts
FROM d LEFT JOIN e ON e.day = d.day LEFT JOIN a ON a.day = d.day
ORDER BY d.day DESC
LIMIT 101

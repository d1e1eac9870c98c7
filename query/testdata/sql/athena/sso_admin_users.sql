SELECT user_name, count(*) AS actions, count(DISTINCT event_name) AS distinct_actions, sum(CASE WHEN error_code <> '' THEN 1 ELSE 0 END) AS errors,
	array_join(array_sort(array_agg(DISTINCT event_name)), ', ') AS event_names,
	min(event_time) AS first_seen, max(event_time) AS last_seen
FROM events WHERE event_time >= '2026-03-09T12:00:00Z' AND (year * 10000 + month * 100 + day) >= 20260309 AND event_time < '2026-03-16T12:00:00Z' AND (year * 10000 + month * 100 + day) <= 20260316 AND user_name = 'alice' AND account_id = '111122223333' AND event_source IN ('sso.amazonaws.com', 'sso-directory.amazonaws.com', 'identitystore.amazonaws.com')
		AND read_only <> 'true'
		AND event_name NOT LIKE 'Get%' AND event_name NOT LIKE 'List%' AND event_name NOT LIKE 'Describe%'
		AND event_name NOT LIKE 'Search%' AND event_name NOT LIKE 'Is%'
		AND event_name NOT IN ('Authenticate', 'Federate', 'Logout', 'CreateToken')
GROUP BY user_name
ORDER BY actions DESC, user_name
LIMIT 101

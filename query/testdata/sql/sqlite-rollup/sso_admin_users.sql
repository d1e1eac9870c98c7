SELECT user_name, sum(n) AS actions, count(DISTINCT event_name) AS distinct_actions, sum(n_errors) AS errors,
	replace(group_concat(DISTINCT event_name ORDER BY event_name), ',', ', ') AS event_names,
	min(first_time) AS first_seen, max(last_time) AS last_seen
FROM rollup_actions WHERE day >= '2026-03-09' AND day < '2026-03-16' AND user_name = 'alice' AND account_id = '111122223333' AND event_source IN ('sso.amazonaws.com', 'sso-directory.amazonaws.com', 'identitystore.amazonaws.com')
		AND read_only <> 'true'
		AND event_name NOT LIKE 'Get%' AND event_name NOT LIKE 'List%' AND event_name NOT LIKE 'Describe%'
		AND event_name NOT LIKE 'Search%' AND event_name NOT LIKE 'Is%'
		AND event_name NOT IN ('Authenticate', 'Federate', 'Logout', 'CreateToken')
GROUP BY user_name
ORDER BY actions DESC, user_name
LIMIT 101

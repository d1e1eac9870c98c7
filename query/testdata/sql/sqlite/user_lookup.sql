WITH e AS (
	SELECT event_source, event_name, event_time, error_code, source_ip, user_agent
	FROM events WHERE event_time >= '2026-03-09T12:00:00Z' AND event_time < '2026-03-16T12:00:00Z' AND user_name = 'alice' AND account_id = '111122223333'
), c AS (
	SELECT event_source, event_name, count(*) AS events, sum(CASE WHEN error_code <> '' THEN 1 ELSE 0 END) AS errors,
		min(event_time) AS first_seen, max(event_time) AS last_seen, replace(group_concat(DISTINCT source_ip ORDER BY source_ip), ',', ', ') AS source_ips
	FROM e GROUP BY event_source, event_name
), ua AS (
	SELECT event_source, event_name, group_concat(user_agent, ' | ' ORDER BY user_agent) AS user_agents
	FROM (SELECT DISTINCT event_source, event_name, user_agent FROM e)
	GROUP BY event_source, event_name
)
SELECT c.event_name, c.event_source, c.events, c.errors, c.first_seen, c.last_seen, c.source_ips, ua.user_agents
FROM c JOIN ua ON ua.event_source = c.event_source AND ua.event_name = c.event_name
ORDER BY c.events DESC, c.event_name, c.event_source
LIMIT 101

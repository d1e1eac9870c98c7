SELECT event_name, event_source, count(*) AS events, sum(CASE WHEN error_code <> '' THEN 1 ELSE 0 END) AS errors,
	min(event_time) AS first_seen, max(event_time) AS last_seen,
	array_join(array_sort(array_agg(DISTINCT source_ip)), ', ') AS source_ips,
	array_join(array_sort(array_agg(DISTINCT user_agent)), ' | ') AS user_agents
FROM events WHERE event_time >= '2026-03-09T12:00:00Z' AND (year * 10000 + month * 100 + day) >= 20260309 AND event_time < '2026-03-16T12:00:00Z' AND (year * 10000 + month * 100 + day) <= 20260316 AND user_name = 'alice' AND account_id = '111122223333'
GROUP BY event_source, event_name
ORDER BY events DESC, event_name, event_source
LIMIT 101

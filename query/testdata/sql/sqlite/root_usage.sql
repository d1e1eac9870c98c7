SELECT event_time, event_name, event_source, account_id, aws_region, source_ip, user_agent,
	mfa_used, error_code, event_id
FROM events WHERE event_time >= '2026-03-09T12:00:00Z' AND event_time < '2026-03-16T12:00:00Z' AND user_name = 'alice' AND account_id = '111122223333' AND identity_type = 'Root'
ORDER BY event_time DESC, event_id DESC
LIMIT 101

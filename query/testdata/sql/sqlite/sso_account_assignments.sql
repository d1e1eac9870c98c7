SELECT event_time, event_name, user_name, (CASE WHEN json_valid(request_parameters) THEN json_extract(request_parameters, '$.targetId') END) AS target_account,
	(CASE WHEN json_valid(request_parameters) THEN json_extract(request_parameters, '$.permissionSetArn') END) AS permission_set, (CASE WHEN json_valid(request_parameters) THEN json_extract(request_parameters, '$.principalType') END) AS principal_type,
	(CASE WHEN json_valid(request_parameters) THEN json_extract(request_parameters, '$.principalId') END) AS principal_id, source_ip, error_code, event_id
FROM events WHERE event_time >= '2026-03-09T12:00:00Z' AND event_time < '2026-03-16T12:00:00Z' AND user_name = 'alice' AND account_id = '111122223333' AND event_source = 'sso.amazonaws.com'
	AND event_name IN ('CreateAccountAssignment', 'DeleteAccountAssignment')
ORDER BY event_time DESC, event_id DESC
LIMIT 101

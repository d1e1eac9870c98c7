SELECT event_time, event_name, user_name, json_extract_scalar(request_parameters, '$.targetId') AS target_account,
	json_extract_scalar(request_parameters, '$.permissionSetArn') AS permission_set, json_extract_scalar(request_parameters, '$.principalType') AS principal_type,
	json_extract_scalar(request_parameters, '$.principalId') AS principal_id, source_ip, error_code, event_id
FROM events WHERE event_time >= '2026-03-09T12:00:00Z' AND (year * 10000 + month * 100 + day) >= 20260309 AND event_time < '2026-03-16T12:00:00Z' AND (year * 10000 + month * 100 + day) <= 20260316 AND user_name = 'alice' AND account_id = '111122223333' AND event_source = 'sso.amazonaws.com'
	AND event_name IN ('CreateAccountAssignment', 'DeleteAccountAssignment')
ORDER BY event_time DESC, event_id DESC
LIMIT 101

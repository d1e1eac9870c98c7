SELECT event_time, event_name, user_name,
	COALESCE(json_extract_scalar(request_parameters, '$.name'), json_extract_scalar(request_parameters, '$.applicationArn'), json_extract_scalar(response_elements, '$.applicationArn'), json_extract_scalar(request_parameters, '$.applicationProviderArn'), json_extract_scalar(request_parameters, '$.instanceId')) AS application,
	account_id, source_ip, error_code, event_id
FROM events WHERE event_time >= '2026-03-09T12:00:00Z' AND (year * 10000 + month * 100 + day) >= 20260309 AND event_time < '2026-03-16T12:00:00Z' AND (year * 10000 + month * 100 + day) <= 20260316 AND user_name = 'alice' AND account_id = '111122223333' AND event_source = 'sso.amazonaws.com' AND event_name IN ('CreateApplication', 'UpdateApplication', 'DeleteApplication',
		'CreateApplicationInstance', 'DeleteApplicationInstance',
		'CreateManagedApplicationInstance', 'DeleteManagedApplicationInstance')
ORDER BY event_time DESC, event_id DESC
LIMIT 101

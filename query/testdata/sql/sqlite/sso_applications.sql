SELECT event_time, event_name, user_name,
	COALESCE((CASE WHEN json_valid(request_parameters) THEN json_extract(request_parameters, '$.name') END), (CASE WHEN json_valid(request_parameters) THEN json_extract(request_parameters, '$.applicationArn') END), (CASE WHEN json_valid(response_elements) THEN json_extract(response_elements, '$.applicationArn') END), (CASE WHEN json_valid(request_parameters) THEN json_extract(request_parameters, '$.applicationProviderArn') END), (CASE WHEN json_valid(request_parameters) THEN json_extract(request_parameters, '$.instanceId') END)) AS application,
	account_id, source_ip, error_code, event_id
FROM events WHERE event_time >= '2026-03-09T12:00:00Z' AND event_time < '2026-03-16T12:00:00Z' AND user_name = 'alice' AND account_id = '111122223333' AND event_source = 'sso.amazonaws.com' AND event_name IN ('CreateApplication', 'UpdateApplication', 'DeleteApplication',
		'CreateApplicationInstance', 'DeleteApplicationInstance',
		'CreateManagedApplicationInstance', 'DeleteManagedApplicationInstance')
ORDER BY event_time DESC, event_id DESC
LIMIT 101

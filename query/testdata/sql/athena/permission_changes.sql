SELECT event_time, event_name, user_name, COALESCE(json_extract_scalar(request_parameters, '$.userName'), json_extract_scalar(request_parameters, '$.roleName'), json_extract_scalar(request_parameters, '$.groupName'), json_extract_scalar(request_parameters, '$.instanceProfileName'),
		json_extract_scalar(request_parameters, '$.openIDConnectProviderArn'), json_extract_scalar(request_parameters, '$.sAMLProviderArn'), json_extract_scalar(request_parameters, '$.serialNumber'), json_extract_scalar(request_parameters, '$.accessKeyId')) AS target,
	COALESCE(json_extract_scalar(request_parameters, '$.policyArn'), json_extract_scalar(request_parameters, '$.policyName'), json_extract_scalar(request_parameters, '$.permissionsBoundary')) AS policy, account_id, source_ip, error_code, event_id
FROM events WHERE event_time >= '2026-03-09T12:00:00Z' AND (year * 10000 + month * 100 + day) >= 20260309 AND event_time < '2026-03-16T12:00:00Z' AND (year * 10000 + month * 100 + day) <= 20260316 AND user_name = 'alice' AND account_id = '111122223333' AND event_source = 'iam.amazonaws.com'
		AND NOT (event_name >= 'Get' AND event_name < 'Geu') AND NOT (event_name >= 'List' AND event_name < 'Lisu')
		AND NOT (event_name >= 'Generate' AND event_name < 'Generatf') AND NOT (event_name >= 'Simulate' AND event_name < 'Simulatf')
ORDER BY event_time DESC, event_id DESC
LIMIT 101

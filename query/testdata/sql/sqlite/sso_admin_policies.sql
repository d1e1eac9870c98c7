SELECT event_time, event_name, user_name, (CASE WHEN json_valid(request_parameters) THEN json_extract(request_parameters, '$.permissionSetArn') END) AS permission_set,
	COALESCE((CASE WHEN json_valid(request_parameters) THEN json_extract(request_parameters, '$.managedPolicyArn') END), '(inline policy allowing *)') AS policy,
	account_id, source_ip, error_code, event_id
FROM events WHERE event_time >= '2026-03-09T12:00:00Z' AND event_time < '2026-03-16T12:00:00Z' AND user_name = 'alice' AND account_id = '111122223333' AND event_source = 'sso.amazonaws.com' AND (
		(event_name = 'AttachManagedPolicyToPermissionSet' AND (CASE WHEN json_valid(request_parameters) THEN json_extract(request_parameters, '$.managedPolicyArn') END) IN
			('arn:aws:iam::aws:policy/AdministratorAccess', 'arn:aws:iam::aws:policy/IAMFullAccess'))
		OR (event_name = 'PutInlinePolicyToPermissionSet' AND (
			replace((CASE WHEN json_valid(request_parameters) THEN json_extract(request_parameters, '$.inlinePolicy') END), ' ', '') LIKE '%"Action":"*"%'
			OR replace((CASE WHEN json_valid(request_parameters) THEN json_extract(request_parameters, '$.inlinePolicy') END), ' ', '') LIKE '%"Action":["*"%')))
ORDER BY event_time DESC, event_id DESC
LIMIT 101

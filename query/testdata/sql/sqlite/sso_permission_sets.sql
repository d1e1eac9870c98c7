SELECT event_time, event_name, user_name, COALESCE((CASE WHEN json_valid(request_parameters) THEN json_extract(request_parameters, '$.permissionSetArn') END), (CASE WHEN json_valid(response_elements) THEN json_extract(response_elements, '$.permissionSet.permissionSetArn') END), (CASE WHEN json_valid(request_parameters) THEN json_extract(request_parameters, '$.name') END)) AS permission_set,
	COALESCE((CASE WHEN json_valid(request_parameters) THEN json_extract(request_parameters, '$.managedPolicyArn') END), (CASE WHEN json_valid(request_parameters) THEN json_extract(request_parameters, '$.customerManagedPolicyReference.name') END),
		(CASE WHEN json_valid(request_parameters) THEN json_extract(request_parameters, '$.permissionsBoundary.managedPolicyArn') END), (CASE WHEN json_valid(request_parameters) THEN json_extract(request_parameters, '$.permissionsBoundary.customerManagedPolicyReference.name') END),
		CASE WHEN event_name LIKE '%InlinePolicy%' THEN '(inline policy)' END) AS policy, account_id, source_ip, error_code, event_id
FROM events WHERE event_time >= '2026-03-09T12:00:00Z' AND event_time < '2026-03-16T12:00:00Z' AND user_name = 'alice' AND account_id = '111122223333' AND event_source = 'sso.amazonaws.com' AND event_name IN ('CreatePermissionSet', 'UpdatePermissionSet', 'DeletePermissionSet',
		'AttachManagedPolicyToPermissionSet', 'DetachManagedPolicyFromPermissionSet',
		'AttachCustomerManagedPolicyReferenceToPermissionSet', 'DetachCustomerManagedPolicyReferenceFromPermissionSet',
		'PutInlinePolicyToPermissionSet', 'DeleteInlinePolicyFromPermissionSet',
		'PutPermissionsBoundaryToPermissionSet', 'DeletePermissionsBoundaryFromPermissionSet',
		'ProvisionPermissionSet')
ORDER BY event_time DESC, event_id DESC
LIMIT 101

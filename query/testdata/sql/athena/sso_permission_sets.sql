SELECT event_time, event_name, user_name, COALESCE(json_extract_scalar(request_parameters, '$.permissionSetArn'), json_extract_scalar(response_elements, '$.permissionSet.permissionSetArn'), json_extract_scalar(request_parameters, '$.name')) AS permission_set,
	COALESCE(json_extract_scalar(request_parameters, '$.managedPolicyArn'), json_extract_scalar(request_parameters, '$.customerManagedPolicyReference.name'),
		json_extract_scalar(request_parameters, '$.permissionsBoundary.managedPolicyArn'), json_extract_scalar(request_parameters, '$.permissionsBoundary.customerManagedPolicyReference.name'),
		CASE WHEN event_name LIKE '%InlinePolicy%' THEN '(inline policy)' END) AS policy, account_id, source_ip, error_code, event_id
FROM events WHERE event_time >= '2026-03-09T12:00:00Z' AND (year * 10000 + month * 100 + day) >= 20260309 AND event_time < '2026-03-16T12:00:00Z' AND (year * 10000 + month * 100 + day) <= 20260316 AND user_name = 'alice' AND account_id = '111122223333' AND event_source = 'sso.amazonaws.com' AND event_name IN ('CreatePermissionSet', 'UpdatePermissionSet', 'DeletePermissionSet',
		'AttachManagedPolicyToPermissionSet', 'DetachManagedPolicyFromPermissionSet',
		'AttachCustomerManagedPolicyReferenceToPermissionSet', 'DetachCustomerManagedPolicyReferenceFromPermissionSet',
		'PutInlinePolicyToPermissionSet', 'DeleteInlinePolicyFromPermissionSet',
		'PutPermissionsBoundaryToPermissionSet', 'DeletePermissionsBoundaryFromPermissionSet',
		'ProvisionPermissionSet')
ORDER BY event_time DESC, event_id DESC
LIMIT 101

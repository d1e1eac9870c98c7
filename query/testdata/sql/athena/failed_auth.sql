SELECT user_name, source_ip, count(*) AS failures,
	sum(CASE WHEN event_type = 'signin' THEN 1 ELSE 0 END) AS console_failures,
	sum(CASE WHEN event_type = 'signin' THEN 0 ELSE 1 END) AS api_failures,
	array_join(array_sort(array_agg(DISTINCT error_code)), ', ') AS error_codes,
	min(event_time) AS first_failure, max(event_time) AS last_failure
FROM events WHERE event_time >= '2026-03-09T12:00:00Z' AND (year * 10000 + month * 100 + day) >= 20260309 AND event_time < '2026-03-16T12:00:00Z' AND (year * 10000 + month * 100 + day) <= 20260316 AND user_name = 'alice' AND account_id = '111122223333' AND error_code <> '' AND (event_type = 'signin' OR error_code IN ('AccessDenied', 'AccessDeniedException', 'Client.UnauthorizedOperation',
		'UnauthorizedOperation', 'UnauthorizedAccess', 'NotAuthorized', 'NotAuthorizedException',
		'InvalidClientTokenId', 'SignatureDoesNotMatch', 'IncompleteSignature', 'AuthFailure',
		'ExpiredToken', 'ExpiredTokenException', 'InvalidToken', 'MissingAuthenticationToken',
		'InvalidIdentityToken', 'IDPRejectedClaim', 'Failed authentication', 'Failure'))
GROUP BY user_name, source_ip
ORDER BY failures DESC, last_failure DESC, user_name, source_ip
LIMIT 101

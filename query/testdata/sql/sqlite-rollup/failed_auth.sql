SELECT user_name, source_ip, sum(n) AS failures,
	sum(CASE WHEN event_type = 'signin' THEN n ELSE 0 END) AS console_failures,
	sum(CASE WHEN event_type = 'signin' THEN 0 ELSE n END) AS api_failures,
	replace(group_concat(DISTINCT error_code ORDER BY error_code), ',', ', ') AS error_codes,
	min(first_time) AS first_failure, max(last_time) AS last_failure
FROM rollup_failures WHERE day >= '2026-03-09' AND day < '2026-03-16' AND user_name = 'alice' AND account_id = '111122223333' AND error_code <> '' AND (event_type = 'signin' OR error_code IN ('AccessDenied', 'AccessDeniedException', 'Client.UnauthorizedOperation',
		'UnauthorizedOperation', 'UnauthorizedAccess', 'NotAuthorized', 'NotAuthorizedException',
		'InvalidClientTokenId', 'SignatureDoesNotMatch', 'IncompleteSignature', 'AuthFailure',
		'ExpiredToken', 'ExpiredTokenException', 'InvalidToken', 'MissingAuthenticationToken',
		'InvalidIdentityToken', 'IDPRejectedClaim', 'Failed authentication', 'Failure'))
GROUP BY user_name, source_ip
ORDER BY failures DESC, last_failure DESC, user_name, source_ip
LIMIT 101

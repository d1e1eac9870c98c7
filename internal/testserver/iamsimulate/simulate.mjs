// Reads a JSON array of simulations from stdin, each
// {policy, action, resource, principal, account, context, resourcePolicy},
// evaluates each with @cloud-copilot/iam-simulate and
// writes a JSON array of {result, errors} to stdout.
import { runSimulation } from '@cloud-copilot/iam-simulate'

let input = ''
for await (const chunk of process.stdin) input += chunk
const cases = JSON.parse(input)
const out = []
for (const c of cases) {
  const r = await runSimulation({
    identityPolicies: [{ name: 'role', policy: c.policy }],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    ...(c.resourcePolicy ? { resourcePolicy: c.resourcePolicy } : {}),
    request: {
      action: c.action,
      principal: c.principal,
      resource: { resource: c.resource, accountId: c.account },
      contextVariables: c.context || {},
    },
  }, {})
  if (r.resultType === 'error') out.push({ result: 'error', errors: JSON.stringify(r.errors) })
  else out.push({ result: r.overallResult })
}
process.stdout.write(JSON.stringify(out))

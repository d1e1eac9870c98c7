package sample

// inventory is what exists in an account: the names and ids noise and
// scenarios refer to.
type inventory struct {
	account   string
	region    string // where the workloads run.
	buckets   []string
	functions []string
	keys      []string // KMS key ids.
	instances []string
	vpcs      []string
	groups    []string // security group ids.
	subnets   []string
	stacks    []string
	cluster   string
	services  []string
	params    []string
	tables    []string
	secrets   []string
	roles     []string // workload roles.
}

func newInventory(w *world, acct string) *inventory {
	id := w.ids
	hexID := func(prefix string) string { return prefix + id.hex(17) }
	inv := &inventory{account: acct}
	if acct == AccountMain {
		inv.region = "eu-west-1"
		inv.buckets = []string{"example-corp-prod-assets", "example-corp-invoices", "example-corp-cloudtrail-logs", "example-corp-terraform-state"}
		inv.functions = []string{"payments-webhook", "invoice-renderer", "nightly-export"}
		inv.stacks = []string{"payments-api", "network-baseline", "invoice-pipeline"}
		inv.cluster = "prod-cluster"
		inv.services = []string{"payments-api", "invoice-worker"}
		inv.params = []string{"/payments/prod/db-host", "/payments/prod/stripe-endpoint", "/invoices/prod/bucket"}
		inv.tables = []string{"payments-ledger", "invoice-jobs"}
		inv.secrets = []string{"prod/payments/db", "prod/invoices/smtp"}
		inv.roles = []string{"payments-webhook-role", "invoice-renderer-role", "nightly-export-role"}
	} else {
		inv.region = "eu-central-1"
		inv.buckets = []string{"example-corp-dev-scratch", "example-corp-dev-artifacts", "example-corp-dev-terraform-state"}
		inv.functions = []string{"dev-payments-webhook", "dev-feature-flags"}
		inv.stacks = []string{"dev-payments-api", "dev-network"}
		inv.cluster = "dev-cluster"
		inv.services = []string{"payments-api-dev"}
		inv.params = []string{"/payments/dev/db-host", "/flags/dev/config"}
		inv.tables = []string{"dev-payments-ledger"}
		inv.secrets = []string{"dev/payments/db"}
		inv.roles = []string{"dev-payments-webhook-role", "dev-feature-flags-role"}
	}
	for range 3 {
		u := id.uuid()
		inv.keys = append(inv.keys, u)
	}
	for range 6 {
		inv.instances = append(inv.instances, hexID("i-"))
	}
	for range 2 {
		inv.vpcs = append(inv.vpcs, hexID("vpc-"))
	}
	for range 4 {
		inv.groups = append(inv.groups, hexID("sg-"))
		inv.subnets = append(inv.subnets, hexID("subnet-"))
	}
	return inv
}

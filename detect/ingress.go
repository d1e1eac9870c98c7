package detect

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Ingress is one security-group permission open to the whole internet: a
// source CIDR of prefix length 0 (0.0.0.0/0, ::/0).
type Ingress struct {
	// Protocol is "tcp", "udp", "icmp", "icmpv6", "all" (-1), or the
	// protocol number or name as written for anything else.
	Protocol string
	// FromPort and ToPort bound the ports (0 and 65535 when the
	// permission covers every port: protocol "all", or no ports given).
	FromPort, ToPort int
	CIDR             string
}

// String is the permission as a responder reads it: "tcp 22 from 0.0.0.0/0".
func (i Ingress) String() string {
	ports := ""
	switch {
	case i.Protocol == "all" || (i.FromPort <= 0 && i.ToPort >= 65535):
		ports = " all ports"
	case i.FromPort == i.ToPort:
		ports = fmt.Sprintf(" %d", i.FromPort)
	default:
		ports = fmt.Sprintf(" %d-%d", i.FromPort, i.ToPort)
	}
	return i.Protocol + ports + " from " + i.CIDR
}

// InternetIngress returns the permissions of an AuthorizeSecurityGroupIngress
// request (its requestParameters, as decoded JSON or JSON text) whose source
// is the whole internet. It reads both shapes CloudTrail records: the
// permission list (ipPermissions.items[] with ipProtocol, fromPort, toPort,
// ipRanges.items[].cidrIp and ipv6Ranges.items[].cidrIpv6) and the older
// flat form (cidrIp, ipProtocol, fromPort, toPort at the top). Anything
// unreadable yields nothing.
func InternetIngress(req any) []Ingress {
	if s, ok := req.(string); ok {
		if len(s) > maxPolicyBytes {
			return nil
		}
		var v any
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			return nil
		}
		req = v
	}
	m, ok := req.(map[string]any)
	if !ok {
		return nil
	}
	var out []Ingress
	add := func(perm map[string]any, cidr any) {
		c, _ := cidr.(string)
		if !strings.HasSuffix(strings.TrimSpace(c), "/0") {
			return
		}
		in := Ingress{Protocol: protocolName(perm["ipProtocol"]), FromPort: 0, ToPort: 65535, CIDR: strings.TrimSpace(c)}
		if in.Protocol != "all" {
			from, okf := portNumber(perm["fromPort"])
			to, okt := portNumber(perm["toPort"])
			if okf && okt && from >= 0 && to >= from {
				in.FromPort, in.ToPort = from, to
			}
		}
		out = append(out, in)
	}
	add(m, m["cidrIp"])
	for _, p := range items(m["ipPermissions"]) {
		perm, ok := p.(map[string]any)
		if !ok {
			continue
		}
		for _, r := range items(perm["ipRanges"]) {
			if rm, ok := r.(map[string]any); ok {
				add(perm, rm["cidrIp"])
			}
		}
		for _, r := range items(perm["ipv6Ranges"]) {
			if rm, ok := r.(map[string]any); ok {
				add(perm, rm["cidrIpv6"])
			}
		}
	}
	return out
}

// items returns the list of an EC2 {"items": […]} wrapper, or the value
// itself when it is already a list.
func items(v any) []any {
	switch v := v.(type) {
	case []any:
		return v
	case map[string]any:
		l, _ := v["items"].([]any)
		return l
	}
	return nil
}

func protocolName(v any) string {
	s := strings.ToLower(strings.TrimSpace(textOf(v)))
	switch s {
	case "", "-1", "all":
		return "all"
	case "6":
		return "tcp"
	case "17":
		return "udp"
	case "1":
		return "icmp"
	case "58":
		return "icmpv6"
	}
	return s
}

func portNumber(v any) (int, bool) {
	switch v := v.(type) {
	case float64:
		if v != math.Trunc(v) || v < -1 || v > 65535 {
			return 0, false
		}
		return int(v), true
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(v))
		return n, err == nil && n >= -1 && n <= 65535
	}
	return 0, false
}

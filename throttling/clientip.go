package throttling

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ClientIP finds a request's client address for throttling. The zero
// value uses r.RemoteAddr only, which is right when clients connect
// directly. Behind proxies, list them with TrustProxies: X-Forwarded-For is
// then read only when RemoteAddr is a trusted proxy, from the right,
// skipping trusted addresses, and the first untrusted address is the
// client. A client cannot forge its way past this: whatever it writes into
// X-Forwarded-For lies to the left of the address the first trusted proxy
// appended.
//
// (DRF's NUM_PROXIES instead takes the N-th address from the right and,
// when unset, trusts the whole header; a count breaks when a request
// bypasses a proxy, which a list of networks does not.)
type ClientIP struct {
	// Trusted are the proxies' networks.
	Trusted []netip.Prefix
	// IPv6Prefix, when between 1 and 128, groups IPv6 clients by that
	// prefix length (64 groups a typical customer network), since one
	// client often holds a whole /64.
	IPv6Prefix int
}

// TrustProxies returns a ClientIP trusting the given CIDRs ("10.0.0.0/8",
// "fd00::/8") or single addresses. It panics on a malformed entry: proxies
// are configured by the program, never taken from requests.
func TrustProxies(cidrs ...string) ClientIP {
	var c ClientIP
	for _, s := range cidrs {
		s = strings.TrimSpace(s)
		if !strings.Contains(s, "/") {
			a, err := netip.ParseAddr(s)
			if err != nil {
				panic("cosworth/throttling: trusted proxy " + s + " is not an address or CIDR")
			}
			c.Trusted = append(c.Trusted, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			panic("cosworth/throttling: trusted proxy " + s + " is not an address or CIDR")
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		c.Trusted = append(c.Trusted, p.Masked())
	}
	return c
}

func (c ClientIP) trusted(a netip.Addr) bool {
	for _, p := range c.Trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Addr returns the client address of r as text, grouped by IPv6Prefix.
// When RemoteAddr cannot be parsed it is returned as it is.
func (c ClientIP) Addr(r *http.Request) string {
	return string(c.appendAddr(nil, r))
}

// appendAddr appends the client address of r as Addr returns it.
func (c ClientIP) appendAddr(dst []byte, r *http.Request) []byte {
	remote, ok := parseHostAddr(r.RemoteAddr)
	if !ok {
		return append(dst, r.RemoteAddr...)
	}
	client := remote
	if len(c.Trusted) > 0 && c.trusted(remote) {
		client = c.fromForwarded(r.Header.Values("X-Forwarded-For"), remote)
	}
	return c.appendFormat(dst, client)
}

// fromForwarded walks X-Forwarded-For from the right. Several header lines
// are one list, in order.
func (c ClientIP) fromForwarded(lines []string, remote netip.Addr) netip.Addr {
	last := remote // the nearest trusted hop so far
	for i := len(lines) - 1; i >= 0; i-- {
		line := lines[i]
		for line != "" {
			var part string
			if j := strings.LastIndexByte(line, ','); j >= 0 {
				part, line = line[j+1:], line[:j]
			} else {
				part, line = line, ""
			}
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			a, ok := parseHostAddr(part)
			if !ok {
				// Not written by a trusted proxy: stop at the last good hop.
				return last
			}
			if !c.trusted(a) {
				return a
			}
			last = a
		}
	}
	return last
}

func (c ClientIP) appendFormat(dst []byte, a netip.Addr) []byte {
	if a.Is6() && c.IPv6Prefix > 0 && c.IPv6Prefix < 128 {
		p, err := a.Prefix(c.IPv6Prefix)
		if err == nil {
			return p.AppendTo(dst)
		}
	}
	return a.AppendTo(dst)
}

// parseHostAddr parses "1.2.3.4", "1.2.3.4:5", "[::1]:5" or "::1",
// unmapping IPv4-in-IPv6 and dropping zones.
func parseHostAddr(s string) (netip.Addr, bool) {
	// "[v6]:port" and "v4:port" (RemoteAddr's usual forms) are never bare
	// addresses: split them first, saving the parse error of trying.
	if strings.HasPrefix(s, "[") || strings.Count(s, ":") == 1 {
		if a, ok := parseHostPort(s); ok {
			return a, true
		}
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone(""), true
	}
	return parseHostPort(s)
}

// parseHostPort parses the address of "host:port".
func parseHostPort(s string) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(s)
	if err != nil {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

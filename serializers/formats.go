package serializers

import (
	"net/netip"
	"strings"
	"unicode/utf8"
)

// Native format checks: Django's email and URL validators, validator/v10's
// numeric and number. They run on every request, so they avoid regexp and
// allocation.

// validNumeric is validator/v10's numeric: ^[-+]?[0-9]+(?:\.[0-9]+)?$.
func validNumeric(s string) bool {
	if s != "" && (s[0] == '-' || s[0] == '+') {
		s = s[1:]
	}
	intPart, frac, hasDot := strings.Cut(s, ".")
	return validNumber(intPart) && (!hasDot || validNumber(frac))
}

// validNumber is validator/v10's number: ^[0-9]+$.
func validNumber(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// validEmail is Django's EmailValidator (unquoted local parts; domain
// names, localhost or a bracketed IP literal).
func validEmail(s string) bool {
	if s == "" || len(s) > 320 {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 {
		return false
	}
	user, domain := s[:at], s[at+1:]
	if !validEmailUser(user) {
		return false
	}
	if domain == "localhost" {
		return true
	}
	if len(domain) > 2 && domain[0] == '[' && domain[len(domain)-1] == ']' {
		lit := domain[1 : len(domain)-1]
		lit = strings.TrimPrefix(strings.TrimPrefix(lit, "IPv6:"), "ipv6:")
		_, err := netip.ParseAddr(lit)
		return err == nil
	}
	return validDomain(domain, true)
}

func validEmailUser(u string) bool {
	if len(u) >= 2 && u[0] == '"' && u[len(u)-1] == '"' {
		q := u[1 : len(u)-1]
		for i := 0; i < len(q); i++ {
			c := q[i]
			if c == '\\' {
				i++
				if i >= len(q) || q[i] == '\n' || q[i] == '\r' || q[i] == 0 || q[i] > 0x7f {
					return false
				}
				continue
			}
			if c == 0 || c == '\t' || c == '\n' || c == '\r' || c == '"' || c > 0x7f {
				return false
			}
		}
		return true
	}
	for atom := range strings.SplitSeq(u, ".") {
		if atom == "" {
			return false
		}
		for i := 0; i < len(atom); i++ {
			c := atom[i]
			if !(isAlnum(c) || strings.IndexByte("-!#$%&'*+/=?^_`{}|~", c) >= 0) {
				return false
			}
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// validDomain is Django's domain check: dot-separated labels of letters,
// digits and inner hyphens (at most 63 characters), then a top-level
// domain of at least two characters not ending with a hyphen.
// Internationalized labels are accepted as their punycode would be.
func validDomain(d string, needTLD bool) bool {
	if d == "" || len(d) > 253 && needTLD {
		return false
	}
	labels := strings.Split(d, ".")
	if needTLD && len(labels) < 2 {
		return false
	}
	for i, l := range labels {
		if l == "" || utf8.RuneCountInString(l) > 63 {
			return false
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if r < utf8.RuneSelf && !isAlnum(byte(r)) && r != '-' {
				return false
			}
			if r >= utf8.RuneSelf && !(r > 0xA0) {
				return false
			}
		}
		if i == len(labels)-1 && needTLD && utf8.RuneCountInString(l) < 2 {
			return false
		}
	}
	return true
}

// validURL approximates Django's URLValidator: an http, https, ftp or ftps
// URL with a domain name, localhost or an IP address, an optional port and
// no whitespace.
func validURL(s string) bool {
	if len(s) > 2048 || strings.ContainsAny(s, " \t\r\n") {
		return false
	}
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return false
	}
	switch strings.ToLower(scheme) {
	case "http", "https", "ftp", "ftps":
	default:
		return false
	}
	end := strings.IndexAny(rest, "/?#")
	authority := rest
	if end >= 0 {
		authority = rest[:end]
	}
	if at := strings.LastIndexByte(authority, '@'); at >= 0 {
		authority = authority[at+1:]
	}
	host := authority
	if strings.HasPrefix(host, "[") {
		j := strings.IndexByte(host, ']')
		if j < 0 {
			return false
		}
		if _, err := netip.ParseAddr(host[1:j]); err != nil {
			return false
		}
		return validPort(host[j+1:])
	}
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		if !validPort(host[i:]) {
			return false
		}
		host = host[:i]
	}
	if host == "" {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return a.Is4()
	}
	host = strings.TrimSuffix(host, ".")
	if !validDomain(host, true) {
		return false
	}
	tld := host[strings.LastIndexByte(host, '.')+1:]
	if strings.HasPrefix(strings.ToLower(tld), "xn--") {
		return true
	}
	for _, r := range tld {
		if r < utf8.RuneSelf && !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

func validPort(p string) bool {
	if p == "" {
		return true
	}
	if p[0] != ':' || len(p) < 2 || len(p) > 6 {
		return false
	}
	return validNumber(p[1:])
}

// validAlpha is validator/v10's alpha: ^[a-zA-Z]+$.
func validAlpha(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// validAlnum is validator/v10's alphanum: ^[a-zA-Z0-9]+$.
func validAlnum(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isAlnum(s[i]) {
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// validHex is validator/v10's hexadecimal: ^(0[xX])?[0-9a-fA-F]+$.
func validHex(s string) bool {
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		s = s[2:]
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return false
		}
	}
	return true
}

// validUUID is validator/v10's uuid:
// ^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$.
func validUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return false
			}
		default:
			if !isHex(s[i]) {
				return false
			}
		}
	}
	return true
}

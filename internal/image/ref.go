package image

import (
	"fmt"
	"strings"
)

// DefaultDomain is the registry a short name means (Docker's rule:
// "busybox" is DefaultDomain/library/busybox:latest).
const DefaultDomain = "docker.io"

// Ref is a parsed image reference.
type Ref struct {
	Domain string // "docker.io", "localhost:5000"
	Path   string // "library/busybox"
	Tag    string // "latest" unless a digest alone was given
	Digest string // "sha256:<hex>" or ""
}

// Repo is domain/path.
func (r Ref) Repo() string { return r.Domain + "/" + r.Path }

// String is the normalised reference: repo:tag, repo@digest or
// repo:tag@digest.
func (r Ref) String() string {
	s := r.Repo()
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest
	}
	return s
}

// Short is the reference as Docker prints it: without DefaultDomain and
// "library/" ("busybox:latest").
func (r Ref) Short() string {
	return ShortRepo(r.String())
}

// ShortRepo drops DefaultDomain/ and DefaultDomain/library/ from repo.
func ShortRepo(repo string) string {
	if p, ok := strings.CutPrefix(repo, DefaultDomain+"/"); ok {
		return strings.TrimPrefix(p, "library/")
	}
	return repo
}

// ParseRef parses and normalises ref as Docker does: a domain only when
// the first component has a '.' or ':' or is "localhost", lower-case
// path components, tag "latest" when neither tag nor digest is given.
func ParseRef(ref string) (Ref, error) {
	bad := func(why string) (Ref, error) {
		return Ref{}, fmt.Errorf("invalid reference format %q: %s", ref, why)
	}
	if ref == "" {
		return bad("empty")
	}
	var r Ref
	name := ref
	if i := strings.IndexByte(name, '@'); i >= 0 {
		name, r.Digest = name[:i], name[i+1:]
		if !validDigest(r.Digest) {
			return bad("the digest must be sha256: and 64 lower-case hex digits")
		}
	}
	if i := strings.LastIndexByte(name, ':'); i >= 0 && !strings.Contains(name[i+1:], "/") {
		name, r.Tag = name[:i], name[i+1:]
		if !validTag(r.Tag) {
			return bad("a tag is 1 to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'")
		}
	}
	first, rest, found := strings.Cut(name, "/")
	if found && (strings.ContainsAny(first, ".:") || first == "localhost") {
		r.Domain, name = first, rest
		if !validDomain(first) {
			return bad("bad registry host " + first)
		}
	} else {
		r.Domain = DefaultDomain
	}
	if r.Domain == DefaultDomain && !strings.Contains(name, "/") {
		name = "library/" + name
	}
	for _, c := range strings.Split(name, "/") {
		if !validComponent(c) {
			return bad("repository name components are lower-case letters and digits, separated by '.', '_', '__' or '-'")
		}
	}
	if len(r.Domain)+1+len(name) > 255 {
		return bad("repository name longer than 255")
	}
	r.Path = name
	if r.Tag == "" && r.Digest == "" {
		r.Tag = "latest"
	}
	return r, nil
}

func isLowerAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

// validComponent: [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*
func validComponent(c string) bool {
	if c == "" || !isLowerAlnum(c[0]) || !isLowerAlnum(c[len(c)-1]) {
		return false
	}
	for i := 0; i < len(c); i++ {
		if isLowerAlnum(c[i]) {
			continue
		}
		j := i
		for j < len(c) && !isLowerAlnum(c[j]) {
			j++
		}
		sep := c[i:j]
		if sep != "." && sep != "_" && sep != "__" && strings.Trim(sep, "-") != "" {
			return false
		}
		i = j - 1
	}
	return true
}

// validTag: [\w][\w.-]{0,127}
func validTag(t string) bool {
	if t == "" || len(t) > 128 || t[0] == '.' || t[0] == '-' {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(isLowerAlnum(c) || c >= 'A' && c <= 'Z' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

func validDomain(d string) bool {
	host, port, hasPort := strings.Cut(d, ":")
	if host == "" || hasPort && (port == "" || strings.Trim(port, "0123456789") != "") {
		return false
	}
	if strings.HasPrefix(host, "[") { // an IPv6 literal
		return strings.HasSuffix(host, "]")
	}
	for _, l := range strings.Split(host, ".") {
		if l == "" || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			if !(isLowerAlnum(l[i]) || l[i] >= 'A' && l[i] <= 'Z' || l[i] == '-') {
				return false
			}
		}
	}
	return true
}

// validDigest: sha256:<64 lower-case hex>.
func validDigest(d string) bool {
	hex, ok := strings.CutPrefix(d, "sha256:")
	return ok && isHex(hex) && len(hex) == 64
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if !(s[i] >= '0' && s[i] <= '9' || s[i] >= 'a' && s[i] <= 'f') {
			return false
		}
	}
	return s != ""
}

package spec

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"hako/internal/namespaces"
)

// validator collects every problem, so one run of `hako create` shows the
// user all of them rather than one per attempt.
type validator struct {
	s    *specs.Spec
	errs []error
}

func (v *validator) fail(field, format string, args ...any) {
	v.errs = append(v.errs, &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
}

// Validate checks s before anything is created. The error joins one
// *FieldError per problem; all match errors.Is(err, ErrInvalid).
// Seccomp is left to the seccomp package.
func Validate(s *specs.Spec) error {
	if s == nil {
		return &FieldError{Field: "config", Msg: "missing"}
	}
	v := &validator{s: s}
	v.version()
	v.root()
	v.process()
	v.hostname()
	v.namespaces()
	v.idMappings()
	v.mounts()
	v.sysctl()
	v.cgroupsPath()
	v.timeOffsets()
	return errors.Join(v.errs...)
}

func (v *validator) version() {
	ver := v.s.Version
	if ver == "" {
		v.fail("ociVersion", "empty")
		return
	}
	major, _, _ := strings.Cut(ver, ".")
	if n, err := strconv.Atoi(major); err != nil || n != specs.VersionMajor {
		v.fail(fmt.Sprintf("ociVersion %q", ver), "unsupported version (hako supports %d.x)", specs.VersionMajor)
	}
}

func (v *validator) root() {
	r := v.s.Root
	switch {
	case r == nil:
		v.fail("root", "missing")
		return
	case r.Path == "":
		v.fail("root.path", "empty")
		return
	}
	field := fmt.Sprintf("root.path %q", r.Path)
	fi, err := os.Stat(r.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		v.fail(field, "no such directory")
	case err != nil:
		v.fail(field, "%v", err)
	case !fi.IsDir():
		v.fail(field, "not a directory")
	}
}

// ns returns the namespace of type t, if the config has one.
func (v *validator) ns(t specs.LinuxNamespaceType) (specs.LinuxNamespace, bool) {
	if v.s.Linux == nil {
		return specs.LinuxNamespace{}, false
	}
	p, ok := namespaces.PathOf(v.s.Linux.Namespaces, t)
	return specs.LinuxNamespace{Type: t, Path: p}, ok
}

func (v *validator) has(t specs.LinuxNamespaceType) bool {
	_, ok := v.ns(t)
	return ok
}

// newUserNS reports whether the container gets a user namespace of its own
// whose mappings hako writes (as opposed to joining one by path).
func (v *validator) newUserNS() bool {
	ns, ok := v.ns(specs.UserNamespace)
	return ok && ns.Path == ""
}

// hostname: runtime-spec says a runtime MUST error if hostname (or
// domainname) is set without a new UTS namespace: it would rename the host.
func (v *validator) hostname() {
	if v.has(specs.UTSNamespace) {
		return
	}
	if v.s.Hostname != "" {
		v.fail(fmt.Sprintf("hostname %q", v.s.Hostname), "needs a uts namespace (add {\"type\": \"uts\"} to linux.namespaces)")
	}
	if v.s.Domainname != "" {
		v.fail(fmt.Sprintf("domainname %q", v.s.Domainname), "needs a uts namespace (add {\"type\": \"uts\"} to linux.namespaces)")
	}
}

func (v *validator) namespaces() {
	if v.s.Linux == nil {
		return
	}
	seen := map[specs.LinuxNamespaceType]bool{}
	for i, ns := range v.s.Linux.Namespaces {
		field := fmt.Sprintf("linux.namespaces[%d]", i)
		switch {
		case !namespaces.Known(ns.Type):
			v.fail(field, "unknown namespace type %q", ns.Type)
		case seen[ns.Type]:
			// runtime-spec: "duplicated namespaces ... MUST generate an error".
			v.fail(field, "duplicate namespace type %q", ns.Type)
		case ns.Path != "" && !filepath.IsAbs(ns.Path):
			v.fail(field, "%s namespace path %q is not absolute", ns.Type, ns.Path)
		}
		seen[ns.Type] = true
	}
}

package cli

import (
	"encoding/json"
	"flag"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/moby/sys/capability"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"

	"hako/internal/seccomp"
	"hako/internal/spec"
)

func init() {
	register("features", "print what this hako supports (runtime-spec features.json)", featuresCmd)
}

// featuresCmd lists only what works today: no AppArmor or SELinux and no
// idmapped mounts, so those say enabled=false.
func featuresCmd(g *globals, args []string) error {
	fs := flag.NewFlagSet("features", flag.ContinueOnError)
	if _, err := parse(fs, args, 0, 0, "no arguments"); err != nil {
		return err
	}
	yes, no := true, false
	f := features.Features{
		// Not in the runtime-spec: whether hako takes itself for rootless
		// here (userns.Privilege, --rootless), and why.
		Annotations: map[string]string{
			"org.hako.rootless":     strconv.FormatBool(g.rootless),
			"org.hako.rootless.who": g.priv.String(),
		},
		OCIVersionMin: "1.0.0",
		OCIVersionMax: specs.Version,
		Hooks:         []string{"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"},
		MountOptions:  spec.KnownMountOptions(),
		Linux: &features.Linux{
			Namespaces:      []string{"cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"},
			Capabilities:    capNames(),
			Cgroup:          &features.Cgroup{V1: &yes, V2: &yes, Systemd: &yes, SystemdUser: &yes},
			Seccomp:         seccomp.Features(),
			Apparmor:        &features.Apparmor{Enabled: &no},
			Selinux:         &features.Selinux{Enabled: &no},
			MountExtensions: &features.MountExtensions{IDMap: &features.IDMap{Enabled: &no}},
		},
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "    ")
	return enc.Encode(f)
}

func capNames() []string {
	var out []string
	for _, c := range capability.ListKnown() {
		out = append(out, "CAP_"+strings.ToUpper(c.String()))
	}
	sort.Strings(out)
	return out
}

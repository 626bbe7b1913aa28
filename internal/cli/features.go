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

	"hako/internal/lsm"
	"hako/internal/seccomp"
	"hako/internal/spec"
)

func init() {
	register("features", "print what this hako supports (runtime-spec features.json)", featuresCmd)
}

// featuresCmd lists only what works today (no idmapped mounts, so that says
// enabled=false). apparmor.enabled and selinux.enabled say, as the
// runtime-spec defines them, that hako supports the module, "unrelated to
// whether the host supports" it; whether this host has it is in the
// annotations (as runc's checks decide, see internal/lsm).
func featuresCmd(g *globals, args []string) error {
	fs := flag.NewFlagSet("features", flag.ContinueOnError)
	if _, err := parse(fs, args, 0, 0, "no arguments"); err != nil {
		return err
	}
	yes := true
	f := features.Features{
		// Not in the runtime-spec: whether hako takes itself for rootless
		// here (userns.Privilege, --rootless), and why.
		// And whether this host has AppArmor and SELinux (see above).
		Annotations: map[string]string{
			"org.hako.rootless":              strconv.FormatBool(g.rootless),
			"org.hako.rootless.who":          g.priv.String(),
			"org.hako.host.apparmor.enabled": strconv.FormatBool(lsm.AppArmorEnabled()),
			"org.hako.host.selinux.enabled":  strconv.FormatBool(lsm.SELinuxEnabled()),
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
			Apparmor:        &features.Apparmor{Enabled: &yes},
			Selinux:         &features.Selinux{Enabled: &yes},
			MountExtensions: &features.MountExtensions{IDMap: &features.IDMap{Enabled: &yes}},
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

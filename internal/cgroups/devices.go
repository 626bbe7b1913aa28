package cgroups

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// deviceRule is one device cgroup rule: cgroup-v1/devices.rst syntax,
// "type major:minor access", allowed or denied.
type deviceRule struct {
	typ    byte  // 'a' (all), 'b' or 'c'
	major  int64 // -1: any
	minor  int64 // -1: any
	access string
	allow  bool
}

func (d deviceRule) String() string {
	num := func(n int64) string {
		if n < 0 {
			return "*"
		}
		return strconv.FormatInt(n, 10)
	}
	return fmt.Sprintf("%c %s:%s %s", d.typ, num(d.major), num(d.minor), d.access)
}

// defaultDevices are always allowed, after the config's rules so a config
// cannot lock the container out of them: runc's AllowedDevices, which
// covers runtime-spec's default devices (config-linux.md) plus /dev/pts,
// /dev/console and /dev/net/tun.
var defaultDevices = []deviceRule{
	{'c', -1, -1, "m", true}, // mknod of any char device; opening it is another matter
	{'b', -1, -1, "m", true},
	{'c', 1, 3, "rwm", true},    // /dev/null
	{'c', 1, 5, "rwm", true},    // /dev/zero
	{'c', 1, 7, "rwm", true},    // /dev/full
	{'c', 1, 8, "rwm", true},    // /dev/random
	{'c', 1, 9, "rwm", true},    // /dev/urandom
	{'c', 5, 0, "rwm", true},    // /dev/tty
	{'c', 5, 1, "rwm", true},    // /dev/console
	{'c', 5, 2, "rwm", true},    // /dev/ptmx
	{'c', 136, -1, "rwm", true}, // /dev/pts/*
	{'c', 10, 200, "rwm", true}, // /dev/net/tun
}

// denyAll is the first rule of every list: a container sees no device
// unless a later rule allows it.
var denyAll = deviceRule{'a', -1, -1, "rwm", false}

// deviceRules builds the full list in the order it applies: deny all, the
// config's rules, the defaults. Later rules win.
func deviceRules(cfg []specs.LinuxDeviceCgroup) ([]deviceRule, error) {
	rules := []deviceRule{denyAll}
	for i, d := range cfg {
		r, err := toRule(d)
		if err != nil {
			return nil, fmt.Errorf("linux.resources.devices[%d]: %w", i, err)
		}
		rules = append(rules, r)
	}
	return append(rules, defaultDevices...), nil
}

// toRule checks one runtime-spec entry. Type "a" means every device
// whatever major, minor and access say: that is how the v1 kernel reads
// it, and the v2 filter must not differ.
func toRule(d specs.LinuxDeviceCgroup) (deviceRule, error) {
	r := deviceRule{typ: 'a', major: -1, minor: -1, access: "rwm", allow: d.Allow}
	switch d.Type {
	case "", "a":
		return r, nil
	case "b", "c":
		r.typ = d.Type[0]
	default:
		return r, fmt.Errorf("device type %q: want a, b or c", d.Type)
	}
	var err error
	if r.major, err = devNum(d.Major); err != nil {
		return r, fmt.Errorf("major: %w", err)
	}
	if r.minor, err = devNum(d.Minor); err != nil {
		return r, fmt.Errorf("minor: %w", err)
	}
	if d.Access != "" {
		r.access = d.Access
	}
	return r, checkAccess(r.access)
}

func devNum(p *int64) (int64, error) {
	if p == nil || *p == -1 {
		return -1, nil
	}
	if *p < 0 || *p > math.MaxUint32 {
		return 0, fmt.Errorf("%d out of range", *p)
	}
	return *p, nil
}

func checkAccess(a string) error {
	for i, ch := range a {
		if !strings.ContainsRune("rwm", ch) || strings.ContainsRune(a[:i], ch) {
			return fmt.Errorf("access %q: want letters of rwm, once each", a)
		}
	}
	return nil
}

// setDevices applies the device rules: v1 devices.allow/devices.deny when
// the host mounts the devices controller, else a cgroup2 BPF filter. In a
// rootless container a failure is traced and skipped: the kernel lets only
// a privileged user change device access.
func (m *manager) setDevices(cfg []specs.LinuxDeviceCgroup) error {
	rules, err := deviceRules(cfg)
	if err != nil {
		return err
	}
	if d, ok := m.paths["devices"]; ok {
		err = cg{dir: d, log: m.log}.opened(func(c cg) error { return setDevicesV1(c, rules) })
	} else if d, ok := m.paths[""]; ok {
		err = m.attach(cg{dir: d, log: m.log}, rules)
	}
	if err != nil && m.rootless {
		m.log.Note("cgroup skip", "devices: rootless: "+err.Error())
		m.skipped = append(m.skipped, "devices")
		return nil
	}
	return err
}

// setDevicesV1 writes each rule in order; "a" to devices.deny empties the
// allow list and makes deny the default (cgroup-v1/devices.rst).
// A write that repeats the one before it is skipped (the spec's own
// deny-all after the default one).
func setDevicesV1(c cg, rules []deviceRule) error {
	var last string
	for _, r := range rules {
		file, v := "devices.deny", r.String()
		if r.allow {
			file = "devices.allow"
		}
		if r.typ == 'a' {
			v = "a"
		}
		if file+v == last {
			continue
		}
		last = file + v
		if err := c.write(file, v); err != nil {
			return err
		}
	}
	return nil
}

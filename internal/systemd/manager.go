package systemd

import (
	"fmt"
	"strings"
	"time"
)

const (
	dest        = "org.freedesktop.systemd1"
	managerPath = ObjectPath("/org/freedesktop/systemd1")
	managerIf   = "org.freedesktop.systemd1.Manager"
)

// Property is one unit property, as StartTransientUnit and
// SetUnitProperties take them.
type Property struct {
	Name  string
	Value Variant
}

// Prop makes a Property from a value and its D-Bus signature.
func Prop(name string, sig Signature, v any) Property {
	return Property{Name: name, Value: Variant{Sig: sig, Value: v}}
}

func propList(props []Property) []any {
	out := make([]any, len(props))
	for i, p := range props {
		out[i] = []any{p.Name, p.Value}
	}
	return out
}

// Subscribe makes sure the manager's signals (JobRemoved) reach this
// connection. On its private socket systemd sends every signal to every
// connection unconditionally (src/core/dbus.c, bus_foreach_bus): nothing
// to do, no round trip. On the bus, a match rule and Subscribe.
func (c *Conn) Subscribe() error {
	if !c.bus {
		return nil
	}
	rule := "type='signal',sender='org.freedesktop.systemd1',interface='org.freedesktop.systemd1.Manager',member='JobRemoved'"
	if _, err := c.Call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "AddMatch", "s", rule); err != nil {
		return err
	}
	_, err := c.Call(dest, managerPath, managerIf, "Subscribe", "")
	return err
}

// StartTransientUnit starts unit with props (mode "replace") and returns
// its job.
func (c *Conn) StartTransientUnit(unit string, props []Property) (ObjectPath, error) {
	r, err := c.Call(dest, managerPath, managerIf, "StartTransientUnit", "ssa(sv)a(sa(sv))",
		unit, "replace", propList(props), []any{})
	return job(r, err)
}

// StopUnit stops unit (mode "replace") and returns its job.
func (c *Conn) StopUnit(unit string) (ObjectPath, error) {
	r, err := c.Call(dest, managerPath, managerIf, "StopUnit", "ss", unit, "replace")
	return job(r, err)
}

// ResetFailedUnit forgets a failed unit, so that it is unloaded.
func (c *Conn) ResetFailedUnit(unit string) error {
	_, err := c.Call(dest, managerPath, managerIf, "ResetFailedUnit", "s", unit)
	return err
}

// SetUnitProperties changes a running unit's properties for this boot
// (runtime: a drop-in under /run/systemd, which daemon-reload keeps).
func (c *Conn) SetUnitProperties(unit string, props []Property) error {
	_, err := c.Call(dest, managerPath, managerIf, "SetUnitProperties", "sba(sv)", unit, true, propList(props))
	return err
}

// UnitProperty reads one property of unit from interface iface (such as
// org.freedesktop.systemd1.Scope).
func (c *Conn) UnitProperty(unit, iface, name string) (any, error) {
	r, err := c.Call(dest, UnitPath(unit), "org.freedesktop.DBus.Properties", "Get", "ss", iface, name)
	if err != nil {
		return nil, err
	}
	if len(r) != 1 {
		return nil, fmt.Errorf("get %s.%s of %s: unexpected reply", iface, name, unit)
	}
	v, _ := r[0].(Variant)
	return v.Value, nil
}

func job(r []any, err error) (ObjectPath, error) {
	if err != nil {
		return "", err
	}
	if len(r) != 1 {
		return "", fmt.Errorf("unexpected reply %v", r)
	}
	p, ok := r[0].(ObjectPath)
	if !ok {
		return "", fmt.Errorf("unexpected reply %v", r)
	}
	return p, nil
}

// WaitJob waits for job to finish and returns its result: "done" on
// success, else "canceled", "timeout", "failed", "dependency" or "skipped"
// (org.freedesktop.systemd1(5), JobRemoved).
func (c *Conn) WaitJob(job ObjectPath, timeout time.Duration) (string, error) {
	m, err := c.waitSignal(func(m *message) bool {
		return m.member == "JobRemoved" && len(m.body) == 4 && m.body[1] == job
	}, time.Now().Add(timeout))
	if err != nil {
		return "", fmt.Errorf("wait for job %s: %w", job, err)
	}
	res, _ := m.body[3].(string)
	return res, nil
}

// UnitPath is the object path of a unit: its name with every byte that is
// not a letter or a digit (a leading digit too) escaped as _xx
// (systemd's bus_label_escape).
func UnitPath(unit string) ObjectPath {
	var b strings.Builder
	b.WriteString("/org/freedesktop/systemd1/unit/")
	for i := 0; i < len(unit); i++ {
		ch := unit[i]
		if (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (i > 0 && ch >= '0' && ch <= '9') {
			b.WriteByte(ch)
			continue
		}
		fmt.Fprintf(&b, "_%02x", ch)
	}
	return ObjectPath(b.String())
}

// ManagerProperty reads one property of the manager itself (such as
// ControlGroup, the instance's own cgroup).
func (c *Conn) ManagerProperty(name string) (any, error) {
	r, err := c.Call(dest, managerPath, "org.freedesktop.DBus.Properties", "Get", "ss", managerIf, name)
	if err != nil {
		return nil, err
	}
	if len(r) != 1 {
		return nil, fmt.Errorf("get Manager.%s: unexpected reply", name)
	}
	v, _ := r[0].(Variant)
	return v.Value, nil
}

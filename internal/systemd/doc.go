// Package systemd talks to systemd's manager over D-Bus: transient units
// (StartTransientUnit), stopping and resetting them, their properties, and
// the JobRemoved signal that says a job finished. It is what the systemd
// cgroup driver (internal/cgroups, --systemd-cgroup) needs, and no more.
//
// It speaks the D-Bus wire protocol itself over one unix socket, dialled
// with plain syscalls, prefering the manager's private socket
// (/run/systemd/private, $XDG_RUNTIME_DIR/systemd/private) to the bus.
// godbus, the library the field uses, was measured first: linking it pulls
// in the net package and its own package initialisation, ~0.1 ms and
// ~600 KB on every hako process (the cgroupfs path too), where the driver
// needs five method calls and one signal. Its Conn also reads on a
// goroutine; this one reads only while a call or a job is waited for.
//
// Not for: anything beyond the manager API; big-endian peers.
package systemd

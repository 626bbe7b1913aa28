package systemd

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"hako/internal/unixsock"
)

// Message types (D-Bus specification, "Message Protocol").
const (
	msgCall   = 1
	msgReturn = 2
	msgError  = 3
	msgSignal = 4
)

// Header field codes.
const (
	fieldPath        = 1
	fieldInterface   = 2
	fieldMember      = 3
	fieldErrorName   = 4
	fieldReplySerial = 5
	fieldDestination = 6
	fieldSender      = 7
	fieldSignature   = 8
)

// message is one D-Bus message.
type message struct {
	typ         byte
	serial      uint32
	replySerial uint32
	path        ObjectPath
	iface       string
	member      string
	errName     string
	dest        string
	sig         Signature
	body        []any
}

// Error is an error reply: Name is the D-Bus error name, such as
// org.freedesktop.systemd1.NoSuchUnit.
type Error struct {
	Name    string
	Message string
}

func (e *Error) Error() string {
	if e.Message == "" {
		return e.Name
	}
	return e.Message + " (" + e.Name + ")"
}

// IsError reports whether err is a D-Bus error reply named name.
func IsError(err error, name string) bool {
	var e *Error
	return errors.As(err, &e) && e.Name == name
}

// marshal encodes m with serial.
func (m *message) marshal() ([]byte, error) {
	var body encoder
	if m.sig != "" {
		rest := string(m.sig)
		for _, v := range m.body {
			var err error
			if rest, err = body.value(rest, v); err != nil {
				return nil, err
			}
		}
		if rest != "" {
			return nil, fmt.Errorf("dbus: %d values for signature %q", len(m.body), m.sig)
		}
	}
	var fields []any
	add := func(code byte, sig Signature, v any) {
		fields = append(fields, []any{code, Variant{Sig: sig, Value: v}})
	}
	if m.path != "" {
		add(fieldPath, "o", m.path)
	}
	if m.iface != "" {
		add(fieldInterface, "s", m.iface)
	}
	if m.member != "" {
		add(fieldMember, "s", m.member)
	}
	if m.dest != "" {
		add(fieldDestination, "s", m.dest)
	}
	if m.sig != "" {
		add(fieldSignature, "g", m.sig)
	}
	h := encoder{buf: []byte{'l', m.typ, 0, 1}}
	h.u32(uint32(len(body.buf)))
	h.u32(m.serial)
	if _, err := h.value("a(yv)", fields); err != nil {
		return nil, err
	}
	h.align(8)
	return append(h.buf, body.buf...), nil
}

// unmarshal decodes one whole message.
func unmarshal(b []byte) (*message, error) {
	if len(b) < 16 {
		return nil, errShort
	}
	if b[0] != 'l' {
		return nil, fmt.Errorf("dbus: byte order %q not supported", b[0])
	}
	m := &message{typ: b[1], serial: binary.LittleEndian.Uint32(b[8:])}
	d := &decoder{buf: b, off: 12}
	f, _, err := d.value("a(yv)")
	if err != nil {
		return nil, fmt.Errorf("dbus: header: %w", err)
	}
	for _, fv := range f.([]any) {
		pair := fv.([]any)
		v := pair[1].(Variant).Value
		switch pair[0].(byte) {
		case fieldPath:
			m.path, _ = v.(ObjectPath)
		case fieldInterface:
			m.iface, _ = v.(string)
		case fieldMember:
			m.member, _ = v.(string)
		case fieldErrorName:
			m.errName, _ = v.(string)
		case fieldReplySerial:
			m.replySerial, _ = v.(uint32)
		case fieldSignature:
			m.sig, _ = v.(Signature)
		}
	}
	if err := d.align(8); err != nil {
		return nil, err
	}
	body := &decoder{buf: b[d.off:]}
	if m.body, err = body.values(string(m.sig)); err != nil {
		return nil, fmt.Errorf("dbus: body of %s: %w", m.member, err)
	}
	return m, nil
}

// frameLen returns the length of the message whose first 16 bytes are b.
func frameLen(b []byte) (int, error) {
	if b[0] != 'l' {
		return 0, fmt.Errorf("dbus: byte order %q not supported", b[0])
	}
	body := binary.LittleEndian.Uint32(b[4:])
	fields := binary.LittleEndian.Uint32(b[12:])
	if body > 1<<27 || fields > 1<<26 {
		return 0, errors.New("dbus: message too large")
	}
	h := 16 + int(fields)
	h = (h + 7) &^ 7
	return h + int(body), nil
}

// Conn is one connection to a systemd manager: its private socket, or the
// message bus. Not safe for concurrent use; hako makes its calls in turn.
type Conn struct {
	f       *os.File
	addr    string
	bus     bool // through dbus-daemon: Hello and match rules needed
	serial  uint32
	rbuf    []byte
	signals []*message // signals read while waiting for a reply
	Timeout time.Duration
}

// Dial connects to the system instance (user false) or to the calling
// user's instance. It prefers the manager's private socket (what systemctl
// uses: no dbus-daemon in the way, no Hello), then the bus. uid is the
// caller's uid as systemd sees it (in a user namespace, the host uid).
func Dial(user bool, uid int) (*Conn, error) {
	var addrs []string
	if user {
		rd := os.Getenv("XDG_RUNTIME_DIR")
		if rd == "" {
			return nil, errors.New("systemd user instance: XDG_RUNTIME_DIR is not set (it is where the user's systemd and D-Bus sockets are)")
		}
		addrs = append(addrs, rd+"/systemd/private")
		if a := busPath(os.Getenv("DBUS_SESSION_BUS_ADDRESS")); a != "" {
			addrs = append(addrs, a)
		}
		addrs = append(addrs, rd+"/bus")
	} else {
		addrs = append(addrs, "/run/systemd/private")
		if a := busPath(os.Getenv("DBUS_SYSTEM_BUS_ADDRESS")); a != "" {
			addrs = append(addrs, a)
		}
		addrs = append(addrs, "/run/dbus/system_bus_socket")
	}
	var errs []string
	for i, a := range addrs {
		c, err := dialAddr(a, i > 0, uid)
		if err == nil {
			return c, nil
		}
		errs = append(errs, err.Error())
	}
	return nil, fmt.Errorf("connect to systemd: %s", strings.Join(errs, "; "))
}

// busPath takes the socket path out of a unix:path=... bus address.
func busPath(addr string) string {
	for _, a := range strings.Split(addr, ";") {
		if !strings.HasPrefix(a, "unix:") {
			continue
		}
		for _, kv := range strings.Split(a[5:], ",") {
			if p, ok := strings.CutPrefix(kv, "path="); ok {
				return p
			}
		}
	}
	return ""
}

func dialAddr(path string, bus bool, uid int) (*Conn, error) {
	f, err := unixsock.Dial(path)
	if err != nil {
		return nil, err
	}
	c := &Conn{f: f, addr: path, bus: bus, Timeout: 30 * time.Second}
	if err := c.auth(uid); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if bus {
		if _, err := c.Call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "Hello", ""); err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: Hello: %w", path, err)
		}
	}
	return c, nil
}

// auth does the SASL EXTERNAL exchange, pipelined: the NUL byte, AUTH and
// BEGIN in one write, then the server's OK (the specification allows a
// client to send BEGIN before it reads OK).
func (c *Conn) auth(uid int) error {
	req := "\x00AUTH EXTERNAL " + hex.EncodeToString([]byte(strconv.Itoa(uid))) + "\r\nBEGIN\r\n"
	if _, err := c.f.Write([]byte(req)); err != nil {
		return fmt.Errorf("auth: %w", err)
	}
	for !bytes.Contains(c.rbuf, []byte("\r\n")) {
		if err := c.fill(); err != nil {
			return fmt.Errorf("auth: %w", err)
		}
	}
	i := bytes.Index(c.rbuf, []byte("\r\n"))
	line := string(c.rbuf[:i])
	c.rbuf = c.rbuf[i+2:]
	if !strings.HasPrefix(line, "OK ") {
		return fmt.Errorf("auth EXTERNAL as uid %d refused: %q", uid, line)
	}
	return nil
}

// fill reads more bytes, waiting at most c.Timeout.
func (c *Conn) fill() error {
	fds := []unix.PollFd{{Fd: int32(c.f.Fd()), Events: unix.POLLIN}}
	ms := int(c.Timeout / time.Millisecond)
	for {
		n, err := unix.Poll(fds, ms)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("no answer from %s within %s", c.addr, c.Timeout)
		}
		break
	}
	var tmp [4096]byte
	n, err := unix.Read(int(c.f.Fd()), tmp[:])
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%s closed the connection", c.addr)
	}
	c.rbuf = append(c.rbuf, tmp[:n]...)
	return nil
}

// read returns the next message.
func (c *Conn) read() (*message, error) {
	for len(c.rbuf) < 16 {
		if err := c.fill(); err != nil {
			return nil, err
		}
	}
	n, err := frameLen(c.rbuf)
	if err != nil {
		return nil, err
	}
	for len(c.rbuf) < n {
		if err := c.fill(); err != nil {
			return nil, err
		}
	}
	m, err := unmarshal(c.rbuf[:n])
	c.rbuf = c.rbuf[n:]
	return m, err
}

// Call makes a method call and waits for its reply; signals that arrive
// meanwhile are kept for waitSignal.
func (c *Conn) Call(dest string, path ObjectPath, iface, member string, sig Signature, args ...any) ([]any, error) {
	c.serial++
	m := &message{typ: msgCall, serial: c.serial, path: path, iface: iface, member: member, dest: dest, sig: sig, body: args}
	b, err := m.marshal()
	if err != nil {
		return nil, err
	}
	if _, err := c.f.Write(b); err != nil {
		return nil, fmt.Errorf("send %s: %w", member, err)
	}
	for {
		r, err := c.read()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", member, err)
		}
		switch {
		case r.typ == msgSignal:
			c.signals = append(c.signals, r)
		case r.replySerial != m.serial:
			// a reply to nothing we wait for
		case r.typ == msgError:
			e := &Error{Name: r.errName}
			if len(r.body) > 0 {
				e.Message, _ = r.body[0].(string)
			}
			return nil, e
		default:
			return r.body, nil
		}
	}
}

// waitSignal returns the first signal (kept or new) that match accepts,
// waiting until deadline.
func (c *Conn) waitSignal(match func(*message) bool, deadline time.Time) (*message, error) {
	for i, s := range c.signals {
		if match(s) {
			c.signals = append(c.signals[:i], c.signals[i+1:]...)
			return s, nil
		}
	}
	saved := c.Timeout
	defer func() { c.Timeout = saved }()
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return nil, errors.New("timed out")
		}
		c.Timeout = left
		m, err := c.read()
		if err != nil {
			return nil, err
		}
		if m.typ == msgSignal && match(m) {
			return m, nil
		}
	}
}

// Close closes the connection.
func (c *Conn) Close() error { return c.f.Close() }

package systemd

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// The D-Bus wire format, the part systemd's manager API needs (D-Bus
// specification, "Message Protocol"): little-endian marshalling of the
// basic types, strings, object paths, signatures, arrays, structs and
// variants, each aligned to its natural boundary from the message start.
//
// Values are plain Go values chosen by the signature: y byte, b bool,
// u uint32, i int32, t uint64, x int64, d float64, s string, o ObjectPath,
// g Signature, v Variant, a... []any (or []byte for ay), (...) []any.

// ObjectPath is a D-Bus object path ('o').
type ObjectPath string

// Signature is a D-Bus type signature ('g').
type Signature string

// Variant is a value with its signature ('v').
type Variant struct {
	Sig   Signature
	Value any
}

var errShort = errors.New("dbus: message truncated")

// encoder appends marshalled values to buf; offsets count from the start
// of the message, which the header's alignment rules need.
type encoder struct {
	buf []byte
}

func (e *encoder) align(n int) {
	for len(e.buf)%n != 0 {
		e.buf = append(e.buf, 0)
	}
}

func (e *encoder) u32(v uint32) {
	e.align(4)
	e.buf = binary.LittleEndian.AppendUint32(e.buf, v)
}

// value marshals v as the single complete type at the start of sig and
// returns the rest of sig.
func (e *encoder) value(sig string, v any) (string, error) {
	if sig == "" {
		return "", errors.New("dbus: empty signature")
	}
	bad := func() (string, error) {
		return "", fmt.Errorf("dbus: cannot marshal %T as %q", v, sig[:1])
	}
	switch sig[0] {
	case 'y':
		b, ok := v.(byte)
		if !ok {
			return bad()
		}
		e.buf = append(e.buf, b)
	case 'b':
		b, ok := v.(bool)
		if !ok {
			return bad()
		}
		var n uint32
		if b {
			n = 1
		}
		e.u32(n)
	case 'u':
		n, ok := v.(uint32)
		if !ok {
			return bad()
		}
		e.u32(n)
	case 'i':
		n, ok := v.(int32)
		if !ok {
			return bad()
		}
		e.u32(uint32(n))
	case 't', 'x', 'd':
		var n uint64
		switch x := v.(type) {
		case uint64:
			n = x
		case int64:
			n = uint64(x)
		case float64:
			n = math.Float64bits(x)
		default:
			return bad()
		}
		e.align(8)
		e.buf = binary.LittleEndian.AppendUint64(e.buf, n)
	case 's', 'o':
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case ObjectPath:
			s = string(x)
		default:
			return bad()
		}
		e.u32(uint32(len(s)))
		e.buf = append(append(e.buf, s...), 0)
	case 'g':
		var s string
		switch x := v.(type) {
		case Signature:
			s = string(x)
		case string:
			s = x
		default:
			return bad()
		}
		if len(s) > 255 {
			return "", errors.New("dbus: signature too long")
		}
		e.buf = append(append(append(e.buf, byte(len(s))), s...), 0)
	case 'v':
		x, ok := v.(Variant)
		if !ok {
			return bad()
		}
		if _, err := e.value("g", x.Sig); err != nil {
			return "", err
		}
		rest, err := e.value(string(x.Sig), x.Value)
		if err != nil {
			return "", err
		}
		if rest != "" {
			return "", fmt.Errorf("dbus: variant signature %q is not one type", x.Sig)
		}
	case 'a':
		return e.array(sig, v)
	case '(':
		fields, ok := v.([]any)
		if !ok {
			return bad()
		}
		e.align(8)
		rest := sig[1:]
		for _, f := range fields {
			var err error
			if rest, err = e.value(rest, f); err != nil {
				return "", err
			}
		}
		if rest == "" || rest[0] != ')' {
			return "", fmt.Errorf("dbus: struct %q has more fields than given", sig)
		}
		return rest[1:], nil
	default:
		return "", fmt.Errorf("dbus: type %q not supported", sig[:1])
	}
	return sig[1:], nil
}

func (e *encoder) array(sig string, v any) (string, error) {
	elem, rest, err := splitOne(sig[1:])
	if err != nil {
		return "", err
	}
	e.u32(0)
	at := len(e.buf) - 4
	e.align(alignOf(elem[0]))
	start := len(e.buf)
	switch x := v.(type) {
	case []byte:
		if elem != "y" {
			return "", fmt.Errorf("dbus: []byte for array of %q", elem)
		}
		e.buf = append(e.buf, x...)
	case []any:
		for _, item := range x {
			if _, err := e.value(elem, item); err != nil {
				return "", err
			}
		}
	default:
		return "", fmt.Errorf("dbus: cannot marshal %T as an array", v)
	}
	binary.LittleEndian.PutUint32(e.buf[at:], uint32(len(e.buf)-start))
	return rest, nil
}

// splitOne splits sig after its first complete type.
func splitOne(sig string) (string, string, error) {
	if sig == "" {
		return "", "", errors.New("dbus: signature ends inside a container type")
	}
	switch sig[0] {
	case 'a':
		_, rest, err := splitOne(sig[1:])
		if err != nil {
			return "", "", err
		}
		return sig[:len(sig)-len(rest)], rest, nil
	case '(', '{':
		close := byte(')')
		if sig[0] == '{' {
			close = '}'
		}
		rest := sig[1:]
		for rest != "" && rest[0] != close {
			var err error
			if _, rest, err = splitOne(rest); err != nil {
				return "", "", err
			}
		}
		if rest == "" {
			return "", "", fmt.Errorf("dbus: unterminated %q in signature", sig[:1])
		}
		return sig[:len(sig)-len(rest)+1], rest[1:], nil
	}
	return sig[:1], sig[1:], nil
}

func alignOf(c byte) int {
	switch c {
	case 'y', 'g', 'v':
		return 1
	case 't', 'x', 'd', '(', '{':
		return 8
	}
	return 4
}

// decoder reads values; off counts from the message start.
type decoder struct {
	buf   []byte
	off   int
	depth int
}

func (d *decoder) align(n int) error {
	for d.off%n != 0 {
		if d.off >= len(d.buf) {
			return errShort
		}
		d.off++
	}
	return nil
}

func (d *decoder) take(n int) ([]byte, error) {
	if n < 0 || d.off+n > len(d.buf) {
		return nil, errShort
	}
	b := d.buf[d.off : d.off+n]
	d.off += n
	return b, nil
}

func (d *decoder) u32() (uint32, error) {
	if err := d.align(4); err != nil {
		return 0, err
	}
	b, err := d.take(4)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}

// values decodes every complete type in sig.
func (d *decoder) values(sig string) ([]any, error) {
	var out []any
	for sig != "" {
		v, rest, err := d.value(sig)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		sig = rest
	}
	return out, nil
}

// value decodes the first complete type of sig and returns the rest of sig.
func (d *decoder) value(sig string) (any, string, error) {
	if d.depth > 32 {
		return nil, "", errors.New("dbus: values nested too deep")
	}
	switch sig[0] {
	case 'y':
		b, err := d.take(1)
		if err != nil {
			return nil, "", err
		}
		return b[0], sig[1:], nil
	case 'b':
		n, err := d.u32()
		return n != 0, sig[1:], err
	case 'u':
		n, err := d.u32()
		return n, sig[1:], err
	case 'i':
		n, err := d.u32()
		return int32(n), sig[1:], err
	case 'n', 'q':
		if err := d.align(2); err != nil {
			return nil, "", err
		}
		b, err := d.take(2)
		if err != nil {
			return nil, "", err
		}
		return binary.LittleEndian.Uint16(b), sig[1:], nil
	case 't', 'x', 'd':
		if err := d.align(8); err != nil {
			return nil, "", err
		}
		b, err := d.take(8)
		if err != nil {
			return nil, "", err
		}
		n := binary.LittleEndian.Uint64(b)
		switch sig[0] {
		case 'x':
			return int64(n), sig[1:], nil
		case 'd':
			return math.Float64frombits(n), sig[1:], nil
		}
		return n, sig[1:], nil
	case 's', 'o':
		n, err := d.u32()
		if err != nil {
			return nil, "", err
		}
		b, err := d.take(int(n) + 1)
		if err != nil {
			return nil, "", err
		}
		if sig[0] == 'o' {
			return ObjectPath(b[:n]), sig[1:], nil
		}
		return string(b[:n]), sig[1:], nil
	case 'g':
		s, err := d.sig()
		return s, sig[1:], err
	case 'h':
		n, err := d.u32()
		return n, sig[1:], err
	case 'v':
		s, err := d.sig()
		if err != nil {
			return nil, "", err
		}
		if _, rest, err := splitOne(string(s)); err != nil || rest != "" {
			return nil, "", fmt.Errorf("dbus: bad variant signature %q", s)
		}
		d.depth++
		v, _, err := d.value(string(s))
		d.depth--
		return Variant{Sig: s, Value: v}, sig[1:], err
	case 'a':
		return d.array(sig)
	case '(', '{':
		if err := d.align(8); err != nil {
			return nil, "", err
		}
		close := byte(')')
		if sig[0] == '{' {
			close = '}'
		}
		var fields []any
		rest := sig[1:]
		d.depth++
		defer func() { d.depth-- }()
		for rest != "" && rest[0] != close {
			v, r, err := d.value(rest)
			if err != nil {
				return nil, "", err
			}
			fields, rest = append(fields, v), r
		}
		if rest == "" {
			return nil, "", errors.New("dbus: unterminated struct signature")
		}
		return fields, rest[1:], nil
	}
	return nil, "", fmt.Errorf("dbus: type %q not supported", sig[:1])
}

func (d *decoder) sig() (Signature, error) {
	b, err := d.take(1)
	if err != nil {
		return "", err
	}
	s, err := d.take(int(b[0]) + 1)
	if err != nil {
		return "", err
	}
	return Signature(s[:b[0]]), nil
}

func (d *decoder) array(sig string) (any, string, error) {
	elem, rest, err := splitOne(sig[1:])
	if err != nil {
		return nil, "", err
	}
	n, err := d.u32()
	if err != nil {
		return nil, "", err
	}
	if n > 1<<26 {
		return nil, "", errors.New("dbus: array too long")
	}
	if err := d.align(alignOf(elem[0])); err != nil {
		return nil, "", err
	}
	end := d.off + int(n)
	if end > len(d.buf) {
		return nil, "", errShort
	}
	if elem == "y" {
		b, _ := d.take(int(n))
		return append([]byte(nil), b...), rest, nil
	}
	items := []any{}
	d.depth++
	defer func() { d.depth-- }()
	for d.off < end {
		v, _, err := d.value(elem)
		if err != nil {
			return nil, "", err
		}
		items = append(items, v)
	}
	if d.off != end {
		return nil, "", errors.New("dbus: array length does not match its elements")
	}
	return items, rest, nil
}

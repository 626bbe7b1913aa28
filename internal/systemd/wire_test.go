package systemd

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

// TestMarshalHello checks the bytes of a known message: the Hello call as
// the D-Bus specification lays it out (dbus-monitor --binary shows the
// same for serial 1).
func TestMarshalHello(t *testing.T) {
	m := &message{typ: msgCall, serial: 1, path: "/org/freedesktop/DBus", iface: "org.freedesktop.DBus",
		member: "Hello", dest: "org.freedesktop.DBus"}
	b, err := m.marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{'l', 1, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0x6d, 0, 0, 0,
		1, 1, 'o', 0, 0x15, 0, 0, 0}
	want = append(want, "/org/freedesktop/DBus\x00\x00\x00"...)
	want = append(want, 2, 1, 's', 0, 0x14, 0, 0, 0)
	want = append(want, "org.freedesktop.DBus\x00\x00\x00\x00"...)
	want = append(want, 3, 1, 's', 0, 5, 0, 0, 0)
	want = append(want, "Hello\x00\x00\x00"...)
	want = append(want, 6, 1, 's', 0, 0x14, 0, 0, 0)
	want = append(want, "org.freedesktop.DBus\x00"...)
	want = append(want, 0, 0, 0) // header padded to 8
	if !bytes.Equal(b, want) {
		t.Errorf("Hello:\n got %q\nwant %q", b, want)
	}
}

func TestRoundTrip(t *testing.T) {
	body := []any{"docker-1.scope", "replace",
		[]any{
			[]any{"Description", Variant{"s", "hako container 1"}},
			[]any{"PIDs", Variant{"au", []any{uint32(42)}}},
			[]any{"Delegate", Variant{"b", true}},
			[]any{"MemoryMax", Variant{"t", uint64(1 << 30)}},
			[]any{"AllowedCPUs", Variant{"ay", []byte{3}}},
			[]any{"DeviceAllow", Variant{"a(ss)", []any{[]any{"/dev/char/1:3", "rwm"}}}},
		},
		[]any{}}
	m := &message{typ: msgCall, serial: 7, path: managerPath, iface: managerIf, member: "StartTransientUnit",
		dest: dest, sig: "ssa(sv)a(sa(sv))", body: body}
	b, err := m.marshal()
	if err != nil {
		t.Fatal(err)
	}
	if n, err := frameLen(b[:16]); err != nil || n != len(b) {
		t.Fatalf("frameLen = %d, %v; message is %d bytes", n, err, len(b))
	}
	got, err := unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.member != m.member || got.path != m.path || got.sig != m.sig || got.serial != 7 {
		t.Errorf("header: %+v", got)
	}
	if !reflect.DeepEqual(got.body, body) {
		t.Errorf("body:\n got %#v\nwant %#v", got.body, body)
	}
}

func TestMarshalErrors(t *testing.T) {
	for _, tc := range []struct {
		sig  Signature
		body []any
		want string
	}{
		{"s", []any{uint32(1)}, "cannot marshal uint32"},
		{"ss", []any{"a"}, "1 values for signature"},
		{"(su)", []any{[]any{"a"}}, "more fields than given"},
		{"v", []any{Variant{"ss", "a"}}, "not one type"},
		{"a", []any{[]any{}}, "ends inside"},
	} {
		m := &message{typ: msgCall, serial: 1, member: "X", sig: tc.sig, body: tc.body}
		_, err := m.marshal()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %v: err %v, want %q", tc.sig, tc.body, err, tc.want)
		}
	}
}

// FuzzUnmarshal: no input makes the decoder panic or loop.
func FuzzUnmarshal(f *testing.F) {
	m := &message{typ: msgSignal, serial: 3, path: managerPath, iface: managerIf, member: "JobRemoved",
		sig: "uoss", body: []any{uint32(9), ObjectPath("/org/freedesktop/systemd1/job/9"), "a.scope", "done"}}
	b, _ := m.marshal()
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) >= 16 {
			_, _ = frameLen(b)
		}
		_, _ = unmarshal(b)
	})
}

func TestUnitPath(t *testing.T) {
	for in, want := range map[string]ObjectPath{
		"docker-ab12.scope": "/org/freedesktop/systemd1/unit/docker_2dab12_2escope",
		"1.scope":           "/org/freedesktop/systemd1/unit/_31_2escope",
	} {
		if got := UnitPath(in); got != want {
			t.Errorf("UnitPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMapUID(t *testing.T) {
	for _, tc := range []struct {
		maps string
		uid  int
		want int
	}{
		{"         0          0 4294967295\n", 0, 0},
		{"         0       1000          1\n         1     100000      65536\n", 0, 1000},
		{"         0       1000          1\n         1     100000      65536\n", 5, 100004},
		{"", 7, 7},
	} {
		if got := mapUID(strings.NewReader(tc.maps), tc.uid); got != tc.want {
			t.Errorf("mapUID(%q, %d) = %d, want %d", tc.maps, tc.uid, got, tc.want)
		}
	}
}

func TestParseVariant(t *testing.T) {
	for in, want := range map[string]Variant{
		"true":                 {"b", true},
		"'inactive-or-failed'": {"s", "inactive-or-failed"},
		`"a'b"`:                {"s", "a'b"},
		"uint64 123456":        {"t", uint64(123456)},
		"42":                   {"i", int32(42)},
		"1.5":                  {"d", 1.5},
		"['a', 'b']":           {"as", []any{"a", "b"}},
		"@au []":               {"au", []any{}},
		"[uint32 1, uint32 2]": {"au", []any{uint32(1), uint32(2)}},
		"@ay [1, 2]":           {"ay", []byte{1, 2}},
		"  uint32   7  ":       {"u", uint32(7)},
	} {
		got, err := ParseVariant(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("ParseVariant(%q) = %#v, %v; want %#v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "'open", "uint32 -1", "[1, 'a']", "[]", "1 2", "byte 300"} {
		if v, err := ParseVariant(bad); err == nil {
			t.Errorf("ParseVariant(%q) = %#v, want an error", bad, v)
		}
	}
}

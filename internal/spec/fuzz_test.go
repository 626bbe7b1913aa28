package spec

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzDecode(f *testing.F) {
	b, _ := json.Marshal(Default())
	for _, seed := range []string{
		string(b), "", "{}", "null", "[]", `{"process":{"args":"sh"}}`,
		`{"ociVersion": }`, `{} {}`, `{"linux":{"uidMappings":[{"size":-1}]}}`, "\n\n{\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := Decode(strings.NewReader(in))
		if err != nil {
			if s != nil || err.Error() == "" {
				t.Fatalf("Decode(%q) = %v, %v", in, s, err)
			}
			return
		}
		if s == nil {
			t.Fatalf("Decode(%q): nil spec, nil error", in)
		}
		// Whatever decodes must validate without panicking.
		_ = Validate(s)
	})
}

func FuzzValidateID(f *testing.F) {
	for _, seed := range []string{"abc", "", ".", "..", "a/b", "a\x00b", "a.b-c_d+e", strings.Repeat("x", 1025)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, id string) {
		err := ValidateID(id)
		if err != nil {
			if !strings.Contains(err.Error(), "container id") {
				t.Fatalf("ValidateID(%q): unclear error %q", id, err)
			}
			return
		}
		// An accepted id must be a safe single path element.
		if id == "." || id == ".." || strings.ContainsAny(id, "/\x00") || len(id) > maxIDLen || !utf8.ValidString(id) {
			t.Fatalf("ValidateID accepted %q", id)
		}
	})
}

func FuzzParseMountOptions(f *testing.F) {
	for _, seed := range []string{
		"nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5", "", ",,", "rbind,ro,rprivate",
		"rro,rrw,rnoatime,ratime,rnorelatime", "idmap,ridmap,tmpcopyup", "ro,rw,ro",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		opts := strings.Split(in, ",")
		m := ParseMountOptions(opts)
		if m.Flags&m.ClearFlags != 0 {
			t.Fatalf("%q: flags %#x both set and cleared (%#x)", in, m.Flags, m.ClearFlags)
		}
		// Data keeps exactly the unrecognised, non-empty options.
		for _, d := range m.Data {
			if d == "" || !strings.Contains(","+in+",", ","+d+",") {
				t.Fatalf("%q: bogus data option %q", in, d)
			}
		}
		if len(m.Data) > len(opts) || strings.Count(m.DataString(), ",") > len(in) {
			t.Fatalf("%q: data %q", in, m.DataString())
		}
	})
}

func FuzzParseSignal(f *testing.F) {
	for _, seed := range []string{"TERM", "SIGTERM", "sigterm", "15", "SIGRTMIN+3", "RTMAX-1", "0", "65", "", "RTMIN+", "-1"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		sig, err := ParseSignal(in)
		if err != nil {
			if sig != 0 || !strings.Contains(err.Error(), "signal") {
				t.Fatalf("ParseSignal(%q) = %d, %v", in, sig, err)
			}
			return
		}
		if sig < 1 || sig > sigRTMax {
			t.Fatalf("ParseSignal(%q) = %d, out of range", in, sig)
		}
	})
}

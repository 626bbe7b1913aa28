package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// stdDecode is Decode's encoding/json path.
func stdDecode(data []byte) (*specs.Spec, error) {
	var s specs.Spec
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&s); err != nil {
		return nil, err
	}
	if len(bytes.TrimLeft(data[dec.InputOffset():], " \t\r\n")) != 0 {
		return nil, errors.New("trailing data")
	}
	return &s, nil
}

// checkFast runs decodeFast on in and, when it succeeds, checks that
// encoding/json (both json.Unmarshal and Decode's path) succeeds with the
// same result. It reports whether decodeFast succeeded.
func checkFast(t testing.TB, in []byte) bool {
	t.Helper()
	got, ok := decodeFast(in)
	if !ok {
		if got != nil {
			t.Fatalf("decodeFast(%q): not ok but non-nil spec", in)
		}
		return false
	}
	if got == nil {
		t.Fatalf("decodeFast(%q): ok but nil spec", in)
	}
	var want specs.Spec
	if err := json.Unmarshal(in, &want); err != nil {
		t.Fatalf("decodeFast(%q) ok, but json.Unmarshal: %v", in, err)
	}
	if !reflect.DeepEqual(got, &want) {
		t.Fatalf("decodeFast(%q) differs from json.Unmarshal: %s", in,
			firstDiff(reflect.ValueOf(got).Elem(), reflect.ValueOf(want), "spec"))
	}
	std, err := stdDecode(in)
	if err != nil {
		t.Fatalf("decodeFast(%q) ok, but Decode's encoding/json path: %v", in, err)
	}
	if !reflect.DeepEqual(got, std) {
		t.Fatalf("decodeFast(%q) differs from Decode's encoding/json path", in)
	}
	return true
}

// firstDiff describes the first difference between a and b, in
// reflect.DeepEqual's terms (nil and empty slices and maps differ).
func firstDiff(a, b reflect.Value, path string) string {
	if a.Type() != b.Type() {
		return fmt.Sprintf("%s: type %v vs %v", path, a.Type(), b.Type())
	}
	switch a.Kind() {
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() != b.IsNil() {
				return fmt.Sprintf("%s: nil %v vs %v", path, a.IsNil(), b.IsNil())
			}
			return ""
		}
		if a.Kind() == reflect.Interface && a.Elem().Type() != b.Elem().Type() {
			return fmt.Sprintf("%s: %T vs %T", path, a.Elem().Interface(), b.Elem().Interface())
		}
		return firstDiff(a.Elem(), b.Elem(), path)
	case reflect.Struct:
		for i := range a.NumField() {
			if d := firstDiff(a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name); d != "" {
				return d
			}
		}
		return ""
	case reflect.Slice:
		if a.IsNil() != b.IsNil() {
			return fmt.Sprintf("%s: nil %v vs %v", path, a.IsNil(), b.IsNil())
		}
		if a.Len() != b.Len() {
			return fmt.Sprintf("%s: len %d vs %d", path, a.Len(), b.Len())
		}
		for i := range a.Len() {
			if d := firstDiff(a.Index(i), b.Index(i), fmt.Sprintf("%s[%d]", path, i)); d != "" {
				return d
			}
		}
		return ""
	case reflect.Map:
		if a.IsNil() != b.IsNil() {
			return fmt.Sprintf("%s: nil %v vs %v", path, a.IsNil(), b.IsNil())
		}
		if a.Len() != b.Len() {
			return fmt.Sprintf("%s: len %d vs %d", path, a.Len(), b.Len())
		}
		for _, k := range a.MapKeys() {
			bv := b.MapIndex(k)
			if !bv.IsValid() {
				return fmt.Sprintf("%s[%q]: missing", path, k)
			}
			if d := firstDiff(a.MapIndex(k), bv, fmt.Sprintf("%s[%q]", path, k)); d != "" {
				return d
			}
		}
		return ""
	}
	if !reflect.DeepEqual(a.Interface(), b.Interface()) {
		return fmt.Sprintf("%s: %#v vs %#v", path, a.Interface(), b.Interface())
	}
	return ""
}

// fill sets every field reachable from v to a non-zero value: extreme
// picks the largest unsigned and smallest signed integers.
func fill(v reflect.Value, n *int, extreme bool) {
	*n++
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("s%d <&>\t\"\\ é \u2028 😀", *n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if extreme {
			v.SetInt(-1 << (v.Type().Bits() - 1))
		} else {
			v.SetInt(int64(*n))
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if extreme {
			v.SetUint(math.MaxUint64 >> (64 - v.Type().Bits()))
		} else {
			v.SetUint(uint64(*n))
		}
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), n, extreme)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fill(v.Index(i), n, extreme)
		}
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		for i := range 2 {
			e := reflect.New(v.Type().Elem()).Elem()
			fill(e, n, extreme)
			v.SetMapIndex(reflect.ValueOf(fmt.Sprintf("key%d/%d", i, *n)), e)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			fill(v.Field(i), n, extreme)
		}
	case reflect.Interface:
		v.Set(reflect.ValueOf(map[string]any{
			"a": []any{1.5, "x", true, false, nil, map[string]any{}, []any{}},
			"n": -1e300, "i": float64(*n), "o": map[string]any{"k": "v"},
		}))
	default:
		panic("fill: unhandled kind " + v.Kind().String())
	}
}

func fullSpec(extreme bool) *specs.Spec {
	var s specs.Spec
	n := 0
	fill(reflect.ValueOf(&s).Elem(), &n, extreme)
	return &s
}

// dockerLikeSeccomp is shaped like moby's default profile.
func dockerLikeSeccomp() *specs.LinuxSeccomp {
	errno := uint(1)
	enosys := uint(38)
	var names []string
	for _, base := range []string{"accept", "access", "bind", "brk", "capget", "chdir", "chmod", "chown", "clock_gettime",
		"close", "connect", "dup", "epoll_ctl", "epoll_wait", "eventfd", "execve", "exit", "faccessat", "fchmod", "fcntl",
		"fstat", "futex", "getcwd", "getdents", "getpid", "ioctl", "kill", "lseek", "madvise", "mmap", "mprotect", "munmap",
		"nanosleep", "newfstatat", "open", "openat", "pipe", "poll", "read", "readlink", "recvfrom", "rt_sigaction",
		"rt_sigprocmask", "rt_sigreturn", "select", "sendto", "set_robust_list", "setsockopt", "sigaltstack", "stat",
		"statx", "tgkill", "uname", "unlink", "wait4", "write", "writev"} {
		names = append(names, base, base+"64", base+"_time64", base+"2")
	}
	syscalls := []specs.LinuxSyscall{{Names: names, Action: specs.ActAllow}}
	for _, v := range []uint64{0, 8, 131072, 131080, 4294967295} {
		syscalls = append(syscalls, specs.LinuxSyscall{Names: []string{"personality"}, Action: specs.ActAllow,
			Args: []specs.LinuxSeccompArg{{Index: 0, Value: v, Op: specs.OpEqualTo}}})
	}
	syscalls = append(syscalls,
		specs.LinuxSyscall{Names: []string{"socket"}, Action: specs.ActAllow,
			Args: []specs.LinuxSeccompArg{{Index: 0, Value: 40, Op: specs.OpNotEqual}}},
		specs.LinuxSyscall{Names: []string{"clone"}, Action: specs.ActAllow,
			Args: []specs.LinuxSeccompArg{{Index: 0, Value: 2114060288, ValueTwo: 0, Op: specs.OpMaskedEqual}}},
		specs.LinuxSyscall{Names: []string{"clone3"}, Action: specs.ActErrno, ErrnoRet: &enosys},
		specs.LinuxSyscall{Names: []string{"arch_prctl", "modify_ldt"}, Action: specs.ActAllow},
	)
	return &specs.LinuxSeccomp{
		DefaultAction:   specs.ActErrno,
		DefaultErrnoRet: &errno,
		Architectures:   []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32},
		Flags:           []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagSpecAllow},
		Syscalls:        syscalls,
	}
}

// containerdLike is a config as containerd, Docker and podman write them.
func containerdLike() *specs.Spec {
	s := Default()
	s.Process.Terminal = false
	s.Process.User = specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{10, 1000}}
	s.Process.Args = []string{"/bin/sh", "-c", "echo \"hi\" > /tmp/x && sleep 10"}
	s.Process.ApparmorProfile = "docker-default"
	oom := -999
	s.Process.OOMScoreAdj = &oom
	s.Process.Capabilities.Ambient = []string{"CAP_NET_BIND_SERVICE"}
	s.Process.Capabilities.Inheritable = []string{}
	s.Process.Rlimits = append(s.Process.Rlimits, specs.POSIXRlimit{Type: "RLIMIT_NPROC", Hard: math.MaxUint64, Soft: 4096})
	s.Annotations = map[string]string{
		"io.kubernetes.cri.container-type": "container",
		"org.opencontainers.image.title":   "ünïcode \u2603",
		"com.example.empty":                "",
	}
	timeout := 5
	s.Hooks = &specs.Hooks{
		CreateRuntime: []specs.Hook{{Path: "/usr/bin/nvidia-container-runtime-hook", Args: []string{"hook", "prestart"},
			Env: []string{"PATH=/usr/bin"}, Timeout: &timeout}},
		Poststop: []specs.Hook{{Path: "/bin/true"}},
	}
	s.Mounts = append(s.Mounts, specs.Mount{Destination: "/data", Type: "bind", Source: "/srv/data",
		Options:     []string{"rbind", "rprivate"},
		UIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}},
		GIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}})
	l := s.Linux
	l.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	l.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	l.Sysctl = map[string]string{"net.ipv4.ip_unprivileged_port_start": "0", "net.ipv4.ping_group_range": "0 2147483647"}
	l.CgroupsPath = "system.slice:docker:abc"
	l.Namespaces = append(l.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace},
		specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: "/var/run/netns/cni-1234"})
	mode := os.FileMode(0o666)
	zero := uint32(0)
	l.Devices = []specs.LinuxDevice{{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229, FileMode: &mode, UID: &zero, GID: &zero}}
	limit, swap, pids := int64(512<<20), int64(1<<30), int64(-1)
	shares, period, quota := uint64(1024), uint64(100000), int64(50000)
	weight := uint16(500)
	major, minor := int64(1), int64(3)
	l.Resources = &specs.LinuxResources{
		Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"},
			{Allow: true, Type: "c", Major: &major, Minor: &minor, Access: "rwm"}},
		Memory:         &specs.LinuxMemory{Limit: &limit, Swap: &swap},
		CPU:            &specs.LinuxCPU{Shares: &shares, Quota: &quota, Period: &period, Cpus: "0-3", Mems: "0"},
		Pids:           &specs.LinuxPids{Limit: &pids},
		BlockIO:        &specs.LinuxBlockIO{Weight: &weight, ThrottleReadBpsDevice: []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Rate: 1 << 20}}},
		HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 0}},
		Unified:        map[string]string{"memory.oom.group": "1"},
	}
	l.Seccomp = dockerLikeSeccomp()
	l.RootfsPropagation = "rprivate"
	l.MountLabel = "system_u:object_r:container_file_t:s0:c1,c2"
	return s
}

func rootlessDefault() *specs.Spec {
	s := Default()
	ToRootless(s, 1000, 1000)
	return s
}

// fastConfigs are configs that must take the fast path.
func fastConfigs(t testing.TB) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	add := func(name string, s *specs.Spec) {
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		m[name] = b
		ind, err := json.MarshalIndent(s, "", "\t")
		if err != nil {
			t.Fatal(err)
		}
		m[name+" indented"] = append(append([]byte("\r\n "), ind...), "\n\n"...)
	}
	add("default", Default())
	add("rootless", rootlessDefault())
	add("full", fullSpec(false))
	add("full extreme", fullSpec(true))
	add("containerd-like", containerdLike())
	add("seccomp", &specs.Spec{Version: specs.Version, Linux: &specs.Linux{Seccomp: dockerLikeSeccomp()}})
	add("empty", &specs.Spec{})
	return m
}

func TestDecodeFastConfigs(t *testing.T) {
	for name, in := range fastConfigs(t) {
		t.Run(name, func(t *testing.T) {
			if !checkFast(t, in) {
				t.Fatalf("decodeFast gave up")
			}
		})
	}
}

// TestDecodeFastDecodeUsesIt checks Decode's result on the fast path.
func TestDecodeFastDecodeUsesIt(t *testing.T) {
	in := fastConfigs(t)["containerd-like"]
	s, err := Decode(bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want, err := stdDecode(in)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s, want) {
		t.Fatalf("Decode: %s", firstDiff(reflect.ValueOf(s).Elem(), reflect.ValueOf(want).Elem(), "spec"))
	}
	if s.Linux.Seccomp == nil || len(s.Linux.Seccomp.Syscalls) != 10 || *s.Process.OOMScoreAdj != -999 {
		t.Fatalf("Decode: %+v", s)
	}
}

func TestDecodeFastCases(t *testing.T) {
	ok := []string{
		`{}`, `null`, ` {} `, "\t\r\n{}\t\r\n",
		`{"HOSTNAME":"x","Process":{"CWD":"/","ARGS":["a"],"User":{"UID":1,"gId":2}}}`,
		`{"hostname":"a","hostname":"b"}`,
		`{"hostname":"a","HostName":"b"}`,
		`{"hostName":"a","hostname":"b","HOSTNAME":"c"}`,
		`{"process":{"cwd":"/"},"process":{"args":["sh"]}}`,
		`{"process":{"cwd":"/"},"process":null,"process":{"args":["sh"]}}`,
		`{"process":{"user":{"uid":1}},"process":{"user":null}}`,
		`{"process":{"user":{"umask":18}},"process":{"user":{"umask":null}}}`,
		`{"annotations":{"a":"1","b":"2"},"annotations":{"b":"3","c":null}}`,
		`{"annotations":{"a":"1"},"annotations":null}`,
		`{"annotations":{}}`, `{"mounts":[]}`, `{"mounts":null}`, `{"process":{"args":[]}}`,
		`{"mounts":[{"destination":"a","type":"t1"},{"destination":"b","type":"t2","options":["x","y"]}],` +
			`"mounts":[{"source":"s","options":["z"]}],"mounts":[{},{},{}]}`,
		`{"mounts":[{"destination":"a"}],"mounts":[],"mounts":[{}]}`,
		`{"mounts":[null,{"destination":"a"},null]}`,
		`{"process":{"args":["a","b"]},"process":{"args":[null,null,null]}}`,
		`{"process":{"args":["a","b","c"]},"process":{"args":["d"]},"process":{"args":[null,null,null,null]}}`,
		`{"process":{"args":[]},"process":{"args":[null,"x"]}}`, `{"process":{"args":[null]}}`,
		`{"linux":{"seccomp":{"architectures":["a"],"architectures":[null,"b"]}}}`,
		`{"linux":{"sysctl":{"a":"1"}},"linux":{"sysctl":{"b":"2"}}}`,
		`{"linux":{"timeOffsets":{"monotonic":{"secs":1,"nanosecs":2}},"timeOffsets":{"monotonic":{"secs":3}}}}`,
		`{"linux":{"netDevices":{"eth0":{"name":"a"},"eth0":null}}}`,
		`{"linux":{"resources":{"rdma":{"mlx":{"hcaHandles":1}},"rdma":{"mlx":{"hcaObjects":2}}}}}`,
		`{"linux":{"resources":{"blockIO":{"weightDevice":[{"major":1,"minor":2,"weight":3}]},` +
			`"blockIO":{"weightDevice":[{"leafWeight":4}]}}}}`,
		`{"windows":{"credentialSpec":{"a":[1,2.5,-0.0,1e3,"x",true,null,{"b":{}}],"a":{}}}}`,
		`{"windows":{"credentialSpec":{"a":1}},"windows":{"credentialSpec":"s"}}`,
		`{"windows":{"credentialSpec":{"a":1}},"windows":{"credentialSpec":null}}`,
		`{"windows":{"credentialSpec":[]}}`, `{"windows":{"credentialSpec":123456789012345678901234567890}}`,
		`{"unknown":{"a":[1,{"b":[true,false,null,-1.5e-7,"\u00e9\n"]}],"c":{}},"ociVersion":"1"}`,
		`{"ociVersion":"a\"b\\c\/d\be\ff\ng\rh\ti\u0041\u00e9\u2603\ud83d\ude00"}`,
		`{"ociVersion":"\ud800"}`, `{"ociVersion":"\ud800\u0041"}`, `{"ociVersion":"\udc00\ud800"}`,
		`{"ociVersion":"\ud800\ud800\udc00"}`, `{"ociVersion":"\u0000"}`,
		"{\"ociVersion\":\"\xff\xfe\"}", "{\"ociVersion\":\"\xed\xa0\x80\"}", "{\"ociVersion\":\"a\xc3\"}",
		"{\"ociVersion\":\"\xef\xbf\xbd ok\"}", "{\"annotations\":{\"\xff\":\"\xc3\xa9\"}}",
		`{"oci\u0056ersion":"1"}`, `{"x\"y":1}`,
		`{"process":{"oomScoreAdj":-1000,"user":{"uid":4294967295,"gid":0}}}`,
		`{"linux":{"devices":[{"major":-0,"minor":-9223372036854775808}]}}`,
		`{"linux":{"resources":{"memory":{"limit":9223372036854775807,"swappiness":18446744073709551615}}}}`,
		`{"linux":{"resources":{"memory":{"disableOOMKiller":false,"useHierarchy":true,"checkBeforeUpdate":null}}}}`,
		`{"freebsd":{"devices":[{"path":"null","mode":438}],"jail":{"enforceStatfs":2,"allow":{"mount":["tmpfs"]}}}}`,
		`{"vm":null,"vm":{"kernel":null,"image":{"path":"p"}},"vm":{"hypervisor":{"parameters":["a"]}}}`,
		`{"process":{"terminal":true,"terminal":false}}`,
		`{"linux":{"seccomp":{"syscalls":[{"names":["a"],"args":[{"index":1,"value":2,"valueTwo":3,"op":"SCMP_CMP_EQ"}]}]}}}`,
		`{"ociVersion":"1"}` + "\n",
	}
	for _, in := range ok {
		if !checkFast(t, []byte(in)) {
			t.Errorf("decodeFast(%q) gave up", in)
		}
	}
	bad := []string{
		``, ` `, `{`, `}`, `[]`, `"x"`, `1`, `true`, `nul`, `nulls`, `{} {}`, `{}x`, `{}}`, `{},`,
		`{"a":}`, `{"a":1,}`, `{,}`, `{"a" 1}`, `{"a":1 "b":2}`, `{'a':1}`, `{"a":[1,]}`, `{"a":[,1]}`,
		`{"ociVersion":1}`, `{"ociVersion":true}`, `{"ociVersion":["1"]}`, `{"ociVersion":{}}`,
		`{"process":1}`, `{"process":[]}`, `{"process":"x"}`, `{"process":{"args":"sh"}}`, `{"process":{"args":[1]}}`,
		`{"process":{"terminal":1}}`, `{"process":{"terminal":"true"}}`, `{"process":{"terminal":tru}}`,
		`{"process":{"user":{"uid":-1}}}`, `{"process":{"user":{"uid":4294967296}}}`, `{"process":{"user":{"uid":-0}}}`,
		`{"process":{"user":{"uid":1.0}}}`, `{"process":{"user":{"uid":1e2}}}`, `{"process":{"user":{"uid":"1"}}}`,
		`{"process":{"user":{"uid":01}}}`, `{"process":{"user":{"uid":-}}}`, `{"process":{"user":{"uid":+1}}}`,
		`{"linux":{"resources":{"blockIO":{"weight":65536}}}}`,
		`{"linux":{"resources":{"memory":{"limit":9223372036854775808}}}}`,
		`{"linux":{"devices":[{"major":-9223372036854775809}]}}`,
		`{"linux":{"resources":{"memory":{"swappiness":18446744073709551616}}}}`,
		`{"process":{"scheduler":{"nice":2147483648}}}`,
		`{"x":1.}`, `{"x":.5}`, `{"x":1e}`, `{"x":1e+}`, `{"x":-a}`, `{"x":01}`, `{"x":0x1}`, `{"x":NaN}`,
		`{"x":"\q"}`, `{"x":"\u12"}`, `{"x":"\u12g4"}`, `{"x":"\'"}`, "{\"x\":\"a\x01\"}", "{\"x\":\"a\nb\"}",
		`{"x":"unterminated}`, `{"ociVersion":"\ud800\u12"}`,
		`{"ſ":1}`, `{"ociVerſion":"1"}`, `{"\u017f":1}`, "{\"\xff\":1}", `{"unknown\u00e9":1}`, "{\"\u212a\":1}", `{"\u212Aey":1}`,
		`{"windows":{"credentialSpec":1e400}}`, `{"windows":{"credentialSpec":[1,]}}`,
		`{"linux":{"sysctl":[]}}`, `{"linux":{"sysctl":{"a":1}}}`, `{"annotations":"x"}`,
		`{"ociVersion":"1"` + "\x00", "\ufeff{}",
		strings.Repeat("[", 2000) + strings.Repeat("]", 2000),
		`{"x":` + strings.Repeat("[", 2000) + strings.Repeat("]", 2000) + `}`,
	}
	for _, in := range bad {
		if checkFast(t, []byte(in)) {
			t.Errorf("decodeFast(%q) = ok, want it to give up", in)
		}
	}
}

// TestDecodeFastMutations decodes the fully populated config with every
// object member and array element in turn nulled, repeated, re-cased or
// accompanied by an unknown member.
func TestDecodeFastMutations(t *testing.T) {
	// Not the extreme numbers: they add nothing here (TestDecodeFastConfigs
	// has them).
	b, err := json.Marshal(fullSpec(false))
	if err != nil {
		t.Fatal(err)
	}
	var tree any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // numbers stay as written
	if err := dec.Decode(&tree); err != nil {
		t.Fatal(err)
	}
	tree = rawLeaves(tree)
	for _, mode := range []string{"null", "dupNull", "nullDup", "dupSelf", "upper", "unknown"} {
		for target := 0; ; target++ {
			var buf bytes.Buffer
			n := 0
			applied := render(&buf, tree, target, &n, mode)
			if target >= n {
				break
			}
			if applied && !checkFast(t, buf.Bytes()) {
				t.Fatalf("%s #%d: decodeFast gave up", mode, target)
			}
		}
	}
}

// render writes v as JSON, applying mode to the member or element with
// pre-order number target; n counts members and elements. It reports
// whether it applied the mutation.
func render(buf *bytes.Buffer, v any, target int, n *int, mode string) bool {
	done := false
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		buf.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			// fill's map keys: an unknown member would be a map entry.
			me := *n == target && !(mode == "unknown" && strings.HasPrefix(k, "key"))
			*n++
			key, _ := json.Marshal(k)
			if !me {
				buf.Write(key)
				buf.WriteByte(':')
				if render(buf, v[k], target, n, mode) {
					done = true
				}
				continue
			}
			done = true
			var val bytes.Buffer
			render(&val, v[k], target, n, mode)
			switch mode {
			case "null":
				fmt.Fprintf(buf, "%s:null", key)
			case "dupNull":
				fmt.Fprintf(buf, "%s:%s,%s:null", key, val.Bytes(), key)
			case "nullDup":
				fmt.Fprintf(buf, "%s:null,%s:%s", key, key, val.Bytes())
			case "dupSelf":
				fmt.Fprintf(buf, "%s:%s,%s:%s", key, val.Bytes(), key, val.Bytes())
			case "upper":
				up, _ := json.Marshal(strings.ToUpper(k))
				fmt.Fprintf(buf, "%s:%s", up, val.Bytes())
			case "unknown":
				fmt.Fprintf(buf, `%s:%s,"zzUnknown":{"a":[1,-2.5e3,{"b":null}],"c":"\u00e9"}`, key, val.Bytes())
			}
		}
		buf.WriteByte('}')
	case []any:
		buf.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				buf.WriteByte(',')
			}
			me := *n == target && mode == "null"
			*n++
			if me {
				done = true
				var val bytes.Buffer
				render(&val, e, target, n, mode)
				buf.WriteString("null")
			} else if render(buf, e, target, n, mode) {
				done = true
			}
		}
		buf.WriteByte(']')
	case json.RawMessage:
		buf.Write(v)
	default:
		panic(fmt.Sprintf("render: %T", v))
	}
	return done
}

// rawLeaves replaces the scalars in a decoded JSON tree by their encoding.
func rawLeaves(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			v[k] = rawLeaves(e)
		}
		return v
	case []any:
		for i, e := range v {
			v[i] = rawLeaves(e)
		}
		return v
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return json.RawMessage(b)
}

// TestDecodeFastNames checks the json name tables against the struct tags
// of every struct type reachable from specs.Spec.
func TestDecodeFastNames(t *testing.T) {
	tables := map[reflect.Type][]string{
		reflect.TypeFor[specs.Spec]():                    specNames[:],
		reflect.TypeFor[specs.Scheduler]():               schedulerNames[:],
		reflect.TypeFor[specs.Process]():                 processNames[:],
		reflect.TypeFor[specs.LinuxCapabilities]():       capabilitiesNames[:],
		reflect.TypeFor[specs.LinuxIOPriority]():         ioPriorityNames[:],
		reflect.TypeFor[specs.CPUAffinity]():             cpuAffinityNames[:],
		reflect.TypeFor[specs.Box]():                     boxNames[:],
		reflect.TypeFor[specs.User]():                    userNames[:],
		reflect.TypeFor[specs.Root]():                    rootNames[:],
		reflect.TypeFor[specs.Mount]():                   mountNames[:],
		reflect.TypeFor[specs.Hook]():                    hookNames[:],
		reflect.TypeFor[specs.Hooks]():                   hooksNames[:],
		reflect.TypeFor[specs.Linux]():                   linuxNames[:],
		reflect.TypeFor[specs.LinuxNamespace]():          namespaceNames[:],
		reflect.TypeFor[specs.LinuxIDMapping]():          idMappingNames[:],
		reflect.TypeFor[specs.LinuxTimeOffset]():         timeOffsetNames[:],
		reflect.TypeFor[specs.POSIXRlimit]():             rlimitNames[:],
		reflect.TypeFor[specs.LinuxHugepageLimit]():      hugepageLimitNames[:],
		reflect.TypeFor[specs.LinuxInterfacePriority]():  interfacePriorityNames[:],
		reflect.TypeFor[specs.LinuxWeightDevice]():       weightDeviceNames[:],
		reflect.TypeFor[specs.LinuxThrottleDevice]():     throttleDeviceNames[:],
		reflect.TypeFor[specs.LinuxBlockIO]():            blockIONames[:],
		reflect.TypeFor[specs.LinuxMemory]():             memoryNames[:],
		reflect.TypeFor[specs.LinuxCPU]():                cpuNames[:],
		reflect.TypeFor[specs.LinuxPids]():               pidsNames[:],
		reflect.TypeFor[specs.LinuxNetwork]():            networkNames[:],
		reflect.TypeFor[specs.LinuxRdma]():               rdmaNames[:],
		reflect.TypeFor[specs.LinuxResources]():          resourcesNames[:],
		reflect.TypeFor[specs.LinuxDevice]():             deviceNames[:],
		reflect.TypeFor[specs.LinuxNetDevice]():          netDeviceNames[:],
		reflect.TypeFor[specs.LinuxDeviceCgroup]():       deviceCgroupNames[:],
		reflect.TypeFor[specs.LinuxPersonality]():        personalityNames[:],
		reflect.TypeFor[specs.Solaris]():                 solarisNames[:],
		reflect.TypeFor[specs.SolarisCappedCPU]():        solarisCappedCPUNames[:],
		reflect.TypeFor[specs.SolarisCappedMemory]():     solarisCappedMemNames[:],
		reflect.TypeFor[specs.SolarisAnet]():             solarisAnetNames[:],
		reflect.TypeFor[specs.Windows]():                 windowsNames[:],
		reflect.TypeFor[specs.WindowsDevice]():           windowsDeviceNames[:],
		reflect.TypeFor[specs.WindowsResources]():        windowsResourcesNames[:],
		reflect.TypeFor[specs.WindowsMemoryResources]():  windowsMemoryNames[:],
		reflect.TypeFor[specs.WindowsCPUResources]():     windowsCPUNames[:],
		reflect.TypeFor[specs.WindowsCPUGroupAffinity](): windowsAffinityNames[:],
		reflect.TypeFor[specs.WindowsStorageResources](): windowsStorageNames[:],
		reflect.TypeFor[specs.WindowsNetwork]():          windowsNetworkNames[:],
		reflect.TypeFor[specs.WindowsHyperV]():           windowsHyperVNames[:],
		reflect.TypeFor[specs.IOMems]():                  ioMemsNames[:],
		reflect.TypeFor[specs.HWConfig]():                hwConfigNames[:],
		reflect.TypeFor[specs.VM]():                      vmNames[:],
		reflect.TypeFor[specs.VMHypervisor]():            vmHypervisorNames[:],
		reflect.TypeFor[specs.VMKernel]():                vmKernelNames[:],
		reflect.TypeFor[specs.VMImage]():                 vmImageNames[:],
		reflect.TypeFor[specs.LinuxSeccomp]():            seccompNames[:],
		reflect.TypeFor[specs.LinuxSeccompArg]():         seccompArgNames[:],
		reflect.TypeFor[specs.LinuxSyscall]():            syscallNames[:],
		reflect.TypeFor[specs.LinuxIntelRdt]():           intelRdtNames[:],
		reflect.TypeFor[specs.LinuxMemoryPolicy]():       memoryPolicyNames[:],
		reflect.TypeFor[specs.ZOS]():                     zosNames[:],
		reflect.TypeFor[specs.ZOSNamespace]():            zosNamespaceNames[:],
		reflect.TypeFor[specs.FreeBSD]():                 freeBSDNames[:],
		reflect.TypeFor[specs.FreeBSDDevice]():           freeBSDDeviceNames[:],
		reflect.TypeFor[specs.FreeBSDJail]():             freeBSDJailNames[:],
		reflect.TypeFor[specs.FreeBSDJailAllow]():        freeBSDJailAllowNames[:],
	}
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(typ reflect.Type) {
		switch typ.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Map:
			walk(typ.Elem())
			return
		case reflect.Struct:
		default:
			return
		}
		if seen[typ] {
			return
		}
		seen[typ] = true
		var names []string
		var fields func(reflect.Type)
		fields = func(st reflect.Type) {
			for i := range st.NumField() {
				f := st.Field(i)
				tag := f.Tag.Get("json")
				if f.Anonymous && tag == "" && f.Type.Kind() == reflect.Struct {
					fields(f.Type)
					continue
				}
				if !f.IsExported() || tag == "-" {
					continue
				}
				name, _, _ := strings.Cut(tag, ",")
				if name == "" {
					name = f.Name
				}
				names = append(names, name)
				walk(f.Type)
			}
		}
		fields(typ)
		got, ok := tables[typ]
		if !ok {
			t.Errorf("no name table for %v (fields %q)", typ, names)
			return
		}
		if !reflect.DeepEqual(got, names) {
			t.Errorf("%v: names %q, want %q", typ, got, names)
		}
	}
	walk(reflect.TypeFor[specs.Spec]())
	for typ := range tables {
		if !seen[typ] {
			t.Errorf("table for %v, which specs.Spec does not reach", typ)
		}
	}
}

func FuzzDecodeFast(f *testing.F) {
	for _, in := range fastConfigs(f) {
		f.Add(in)
	}
	for _, in := range []string{
		`{"hostname":"a","HostName":"b"}`, `{"process":{"cwd":"/"},"process":{"args":["sh"]}}`,
		`{"mounts":[{"destination":"a","type":"t1"},{"destination":"b"}],"mounts":[{}],"mounts":[{},{}]}`,
		`{"annotations":{"a":"1"},"annotations":{"b":null}}`, `{"windows":{"credentialSpec":{"a":[1,"x",null]}}}`,
		`{"ociVersion":"\ud800\udc00\ud800"}`, "{\"ociVersion\":\"\xff\"}", `{"x":[{"y":1e5}]}`,
		`{"process":{"user":{"uid":4294967295}}}`, `{"linux":{"resources":{"memory":{"limit":-1}}}}`,
		`{"ſ":1}`, `{} {}`, `null`, `{"process":null}`, `{"vm":{"kernel":null}}`,
		`{"process":{"args":["a","b","c"]},"process":{"args":["d"]},"process":{"args":[null,null,null,null]}}`,
		`{"hooks":{"poststop":[{"path":"a","timeout":1},{"env":["x"]}]},"hooks":{"poststop":[{}]},"hooks":{"poststop":[null,{}]}}`,
	} {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkFast(t, in)
	})
}

func benchConfig(b *testing.B) []byte {
	in, err := json.MarshalIndent(Default(), "", "\t")
	if err != nil {
		b.Fatal(err)
	}
	return in
}

func BenchmarkDecodeFast(b *testing.B) {
	in := benchConfig(b)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := decodeFast(in); !ok {
			b.Fatal("decodeFast gave up")
		}
	}
}

func BenchmarkDecodeStd(b *testing.B) {
	in := benchConfig(b)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := stdDecode(in); err != nil {
			b.Fatal(err)
		}
	}
}

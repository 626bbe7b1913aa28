package box

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func ptr(s string) *string { return &s }

func TestArgs(t *testing.T) {
	img := ImageConfig{Entrypoint: []string{"/ep"}, Cmd: []string{"a", "b"}}
	for _, tc := range []struct {
		name string
		img  ImageConfig
		o    Options
		want []string
	}{
		{"image's", img, Options{}, []string{"/ep", "a", "b"}},
		{"args replace Cmd", img, Options{Cmd: []string{"x"}}, []string{"/ep", "x"}},
		{"--entrypoint drops Cmd", img, Options{Entrypoint: ptr("/sh")}, []string{"/sh"}},
		{"--entrypoint and args", img, Options{Entrypoint: ptr("/sh"), Cmd: []string{"-c", "id"}}, []string{"/sh", "-c", "id"}},
		{"--entrypoint '' keeps args", img, Options{Entrypoint: ptr(""), Cmd: []string{"id"}}, []string{"id"}},
		{"Cmd only", ImageConfig{Cmd: []string{"sh"}}, Options{}, []string{"sh"}},
	} {
		got, err := Args(tc.img, tc.o)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: Args = %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
	if _, err := Args(ImageConfig{}, Options{}); err == nil || !strings.Contains(err.Error(), "no command specified") {
		t.Errorf("no command: err = %v", err)
	}
}

func TestEnv(t *testing.T) {
	img := ImageConfig{Env: []string{"PATH=/img", "A=1", "B=2"}}
	o := Options{Env: []string{"B=3", "C=4", "FROMHOST", "MISSING"}, TTY: true}
	lookup := func(k string) (string, bool) {
		if k == "FROMHOST" {
			return "h", true
		}
		return "", false
	}
	got := Env(img, o, "hn", lookup)
	want := []string{"PATH=/img", "HOSTNAME=hn", "TERM=xterm", "A=1", "B=3", "C=4", "FROMHOST=h"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Env = %q, want %q", got, want)
	}
}

const passwd = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
# comment
bad line
app:x:1000:1000::/home/app:/bin/sh
`
const group = `root:x:0:
wheel:x:10:app,other
app:x:1000:
audio:x:29:app
`

func TestResolveUser(t *testing.T) {
	for _, tc := range []struct {
		spec string
		want ExecUser
		err  string
	}{
		{"", ExecUser{Home: "/root"}, ""},
		{"app", ExecUser{UID: 1000, GID: 1000, Groups: []uint32{10, 29}, Home: "/home/app"}, ""},
		{"1000:29", ExecUser{UID: 1000, GID: 29, Groups: []uint32{10}, Home: "/home/app"}, ""},
		{"4242", ExecUser{UID: 4242, Home: "/"}, ""},
		{"4242:wheel", ExecUser{UID: 4242, GID: 10, Home: "/"}, ""},
		{"nobody", ExecUser{}, "unable to find user nobody"},
		{"app:nogroup", ExecUser{}, "unable to find group nogroup"},
	} {
		got, err := ResolveUser(tc.spec, strings.NewReader(passwd), strings.NewReader(group))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("-u %q: err %v, want %q", tc.spec, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("-u %q = %+v, %v; want %+v", tc.spec, got, err, tc.want)
		}
	}
}

func TestCapSet(t *testing.T) {
	got, err := capSet([]string{"sys_admin", "CAP_NET_ADMIN"}, []string{"NET_RAW", "cap_mknod"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"CAP_SYS_ADMIN", "CAP_NET_ADMIN", "CAP_CHOWN", "CAP_KILL"} {
		if !slices.Contains(got, c) {
			t.Errorf("caps %q lack %s", got, c)
		}
	}
	for _, c := range []string{"CAP_NET_RAW", "CAP_MKNOD", "CAP_SYS_PTRACE"} {
		if slices.Contains(got, c) {
			t.Errorf("caps %q have %s", got, c)
		}
	}
	if got, _ := capSet([]string{"CHOWN"}, []string{"ALL"}); !reflect.DeepEqual(got, []string{"CAP_CHOWN"}) {
		t.Errorf("drop ALL add CHOWN = %q", got)
	}
	if _, err := capSet([]string{"CAP_BOGUS"}, nil); err == nil {
		t.Error("CAP_BOGUS accepted")
	}
}

func TestSeccompDefaultAndDockerForm(t *testing.T) {
	sc, err := parseSeccomp(dockerSeccomp)
	if err != nil || sc.DefaultAction != "SCMP_ACT_ERRNO" || len(sc.Syscalls) == 0 || len(sc.Architectures) == 0 {
		t.Fatalf("default profile: %+v %v", sc, err)
	}
	docker := `{"defaultAction":"SCMP_ACT_ERRNO","archMap":[{"architecture":"SCMP_ARCH_X86_64","subArchitectures":["SCMP_ARCH_X86"]}],
	"syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"},{"names":["mount"],"action":"SCMP_ACT_ALLOW","includes":{"caps":["CAP_SYS_ADMIN"]}}]}`
	sc, err = parseSeccomp([]byte(docker))
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.Syscalls) != 1 || sc.Syscalls[0].Names[0] != "read" || len(sc.Architectures) != 2 {
		t.Errorf("docker-form profile: %+v (want the conditional rule left out, archMap read)", sc)
	}
}

func TestBuild(t *testing.T) {
	dir := t.TempDir()
	rootfs := filepath.Join(dir, "rootfs")
	os.MkdirAll(filepath.Join(rootfs, "etc"), 0o755)
	os.WriteFile(filepath.Join(rootfs, "etc/passwd"), []byte(passwd), 0o644)
	os.WriteFile(filepath.Join(rootfs, "etc/group"), []byte(group), 0o644)
	c := &Container{ID: strings.Repeat("ab", 32), Name: "n", Args: []string{"sh"},
		Config: ImageConfig{WorkingDir: "/srv/app", User: "app"},
		Opts: Options{Memory: 64 << 20, CPUs: 0.5, PidsLimit: 20, Hostname: "", Network: "none", ReadOnly: true,
			Volumes: []string{dir + ":/data:ro"}, Tmpfs: []string{"/tmp:size=1m"}, Ulimits: []string{"nofile=10:20"}}}
	s, err := Build(c, rootfs, dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.Hostname != "abababababab" || s.Process.Cwd != "/srv/app" || s.Process.User.UID != 1000 || !s.Root.Readonly {
		t.Errorf("hostname %q cwd %q user %+v ro %v", s.Hostname, s.Process.Cwd, s.Process.User, s.Root.Readonly)
	}
	if _, err := os.Stat(filepath.Join(rootfs, "srv/app")); err != nil {
		t.Errorf("workdir not created: %v", err)
	}
	if s.Process.Capabilities.Effective != nil || len(s.Process.Capabilities.Bounding) != len(DefaultCaps) {
		t.Errorf("non-root caps: %+v", s.Process.Capabilities)
	}
	r := s.Linux.Resources
	if *r.Memory.Limit != 64<<20 || *r.CPU.Quota != 50000 || *r.CPU.Period != 100000 || *r.Pids.Limit != 20 {
		t.Errorf("resources %+v", r)
	}
	if s.Linux.CgroupsPath != "/hk/"+c.ID || s.Linux.Seccomp == nil {
		t.Errorf("cgroupsPath %q seccomp %v", s.Linux.CgroupsPath, s.Linux.Seccomp != nil)
	}
	var dests []string
	for _, m := range s.Mounts {
		dests = append(dests, m.Destination)
	}
	for _, d := range []string{"/data", "/tmp", "/etc/hosts", "/etc/hostname", "/etc/resolv.conf"} {
		if !slices.Contains(dests, d) {
			t.Errorf("no mount on %s: %q", d, dests)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "hostname")); string(b) != "abababababab\n" {
		t.Errorf("hostname file %q", b)
	}
	for _, bad := range []Options{
		{Volumes: []string{"/nonexistent-hk-src:/x"}}, {Volumes: []string{"rel:/x"}}, {Memory: 1000},
		{CPUs: 1000}, {Network: "bridge"}, {SecurityOpt: []string{"apparmor=x"}}, {Ulimits: []string{"nofile=2:1"}},
		{Workdir: "rel"}, {CapAdd: []string{"BOGUS"}}, {Devices: []string{"/nonexistent-dev"}},
	} {
		c.Opts = bad
		if _, err := Build(c, rootfs, dir); err == nil {
			t.Errorf("Build with %+v: no error", bad)
		}
	}
}

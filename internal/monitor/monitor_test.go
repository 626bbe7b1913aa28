package monitor

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLogRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	out, errw := NewWriters(&buf)
	out.Write([]byte("one\ntwo"))
	errw.Write([]byte("e1\n"))
	out.Write([]byte(" halves\n\n"))
	recs, err := ReadRecords(&buf)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, r.Stream+":"+r.Text+map[bool]string{true: "$", false: "…"}[r.Full])
	}
	want := "stdout:one$ stdout:two halves$ stderr:e1$ stdout:$"
	if strings.Join(got, " ") != want {
		t.Errorf("records %q, want %q", strings.Join(got, " "), want)
	}
}

func TestReadRecordsStopsAtTornLine(t *testing.T) {
	log := "2026-12-07T00:00:00.000000001Z stdout F ok\n2026-12-07T00:0"
	recs, _ := ReadRecords(strings.NewReader(log))
	if len(recs) != 1 || recs[0].Text != "ok" {
		t.Errorf("records %+v", recs)
	}
}

func TestExitFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "exit")
	at := time.Unix(1700000000, 123456789)
	if err := WriteExit(p, 137, at); err != nil {
		t.Fatal(err)
	}
	ex, err := ReadExit(p)
	if err != nil || ex.Code != 137 || !ex.At.Equal(at) {
		t.Errorf("ReadExit = %+v, %v", ex, err)
	}
	if _, err := ReadExit(p + "-none"); !os.IsNotExist(err) {
		t.Errorf("missing exit file: %v", err)
	}
}

func TestReport(t *testing.T) {
	var b bytes.Buffer
	Report(&b, nil, 0)
	if ParseReport(b.Bytes()) != nil {
		t.Errorf("ok report: %q", b.String())
	}
	b.Reset()
	Report(&b, os.ErrNotExist, 127)
	err := ParseReport(b.Bytes())
	if re, ok := err.(*ReportError); !ok || re.Code != 127 || re.Msg != os.ErrNotExist.Error() {
		t.Errorf("error report %q -> %#v", b.String(), err)
	}
	if re, ok := ParseReport(nil).(*ReportError); !ok || re.Code != 125 {
		t.Errorf("empty report -> %#v", ParseReport(nil))
	}
}

// hako-mon itself, with sh standing in for hk's _create and _exited (the
// protocol is the same): CREATE starts a process, writes its pid and
// reports on fd 3; the process outlives CREATE and becomes the monitor's
// child; its output lands in the log, its status in the exit file, and
// ONEXIT runs after.
func TestHakoMon(t *testing.T) {
	dir := t.TempDir()
	exit, logf, pid, done := dir+"/exit", dir+"/log", dir+"/pid", dir+"/done"
	create := []string{"/bin/sh", "sh", "-c",
		`(echo out; echo err >&2; printf partial; sleep 0.2; exit 3) & echo $! > ` + pid + `; printf 'a trace line\n\0ok' >&3`}
	onExit := []string{"/bin/sh", "sh", "-c", "cat " + exit + " > " + done}
	var traced bytes.Buffer
	if err := Start(nil, Opts{ExitFile: exit, LogFile: logf, PidFile: pid, Create: create, OnExit: onExit}, &traced); err != nil {
		t.Fatal(err)
	}
	if traced.String() != "a trace line\n" {
		t.Errorf("trace before the answer: %q", traced.String())
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if b, err := os.ReadFile(done); err == nil && len(b) > 0 {
			if !strings.HasPrefix(string(b), "3 ") {
				t.Errorf("exit file %q, want status 3", b)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("ONEXIT never ran")
		}
		time.Sleep(20 * time.Millisecond)
	}
	f, _ := os.Open(logf)
	defer f.Close()
	recs, _ := ReadRecords(f)
	var got []string
	for _, r := range recs {
		got = append(got, r.Stream+":"+r.Text)
	}
	if len(got) != 3 || !strings.Contains(strings.Join(got, " "), "stdout:out") || !strings.Contains(strings.Join(got, " "), "stderr:err") ||
		!strings.Contains(strings.Join(got, " "), "stdout:partial") {
		t.Errorf("log records %q", got)
	}
}

// A CREATE that fails: Start returns its report, the monitor exits.
func TestHakoMonCreateFails(t *testing.T) {
	dir := t.TempDir()
	create := []string{"/bin/sh", "sh", "-c", `printf '\0err 127 no such program' >&3; exit 1`}
	err := Start(nil, Opts{ExitFile: dir + "/exit", LogFile: dir + "/log", PidFile: dir + "/pid", Create: create, OnExit: []string{"/bin/true", "true"}}, nil)
	re, ok := err.(*ReportError)
	if !ok || re.Code != 127 || !strings.Contains(re.Msg, "no such program") {
		t.Errorf("Start = %#v", err)
	}
	if _, err := os.Stat(dir + "/exit"); err == nil {
		t.Error("exit file written for a container that never ran")
	}
}

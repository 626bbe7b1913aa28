package userns

import (
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestParseSubIDs(t *testing.T) {
	in := "alice:100000:65536\n1001:300000:10\nbob:200000:65536\nbad line\n"
	got, err := ParseSubIDs(strings.NewReader(in), "alice", "1001")
	if err != nil {
		t.Fatal(err)
	}
	want := []Range{{100000, 65536}, {300000, 10}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if _, err := ParseSubIDs(strings.NewReader("alice:x:1\n"), "alice", "1"); err == nil {
		t.Fatal("malformed start accepted")
	}
	if got, _ := ParseSubIDs(strings.NewReader(in), "carol", "7"); got != nil {
		t.Fatalf("carol has no ranges, got %v", got)
	}
}

func TestMappings(t *testing.T) {
	got := Mappings(1001, []Range{{100000, 65536}, {300000, 10}})
	want := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1001, Size: 1},
		{ContainerID: 1, HostID: 100000, Size: 65536}, {ContainerID: 65537, HostID: 300000, Size: 10}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

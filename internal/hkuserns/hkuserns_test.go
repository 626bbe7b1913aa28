package hkuserns

import (
	"os"
	"reflect"
	"testing"
)

func TestWithoutStage(t *testing.T) {
	in := []string{"A=1", stageEnv + "=map", stageEnv + "X=2", "B=" + stageEnv}
	want := []string{"A=1", stageEnv + "X=2", "B=" + stageEnv}
	if got := withoutStage(in); !reflect.DeepEqual(got, want) {
		t.Errorf("withoutStage(%q) = %q, want %q", in, got, want)
	}
}

// Root never re-executes: Enter returns at once and changes nothing.
func TestEnterAsRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	if Needed() {
		t.Error("Needed() for root")
	}
	if err := Enter(nil); err != nil {
		t.Fatal(err)
	}
}

func TestMapsStartWithOwnIDs(t *testing.T) {
	u, g, err := Maps()
	if err != nil {
		t.Fatal(err)
	}
	if u[0].ContainerID != 0 || u[0].HostID != uint32(os.Getuid()) || u[0].Size != 1 ||
		g[0].ContainerID != 0 || g[0].HostID != uint32(os.Getgid()) {
		t.Errorf("Maps() = %v %v: want container 0 = own uid and gid first", u, g)
	}
}

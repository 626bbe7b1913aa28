package hkimage

import (
	"encoding/json"
	"testing"

	"hako/internal/image"
)

func TestApplyChange(t *testing.T) {
	var cfg image.Config
	for _, c := range []string{
		`CMD ["sh", "-c", "echo hi"]`,
		`ENTRYPOINT /bin/init --x`,
		`ENV A=1 B="two words" C='it''s'`,
		`ENV LEGACY some value`,
		`env A=3`,
		`EXPOSE 80 53/udp`,
		`LABEL k=v`,
		`VOLUME ["/data", "/logs"]`,
		`USER 1000:1000`,
		`WORKDIR /srv`,
		`STOPSIGNAL SIGINT`,
	} {
		if err := applyChange(&cfg, c); err != nil {
			t.Fatalf("%s: %v", c, err)
		}
	}
	got, _ := json.Marshal(cfg)
	want := `{"User":"1000:1000","ExposedPorts":{"53/udp":{},"80/tcp":{}},"Env":["A=3","B=two words","C=its","LEGACY=some value"],"Entrypoint":["/bin/sh","-c","/bin/init --x"],"Cmd":["sh","-c","echo hi"],"Volumes":{"/data":{},"/logs":{}},"WorkingDir":"/srv","Labels":{"k":"v"},"StopSignal":"SIGINT"}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	for _, bad := range []string{"FROM busybox", "CMD", `ENV A="unterminated`, "ENV =x y=1", "RUN true"} {
		if err := applyChange(&cfg, bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

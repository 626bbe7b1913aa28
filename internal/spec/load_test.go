package spec

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
)

func TestDecode(t *testing.T) {
	tests := []struct {
		name, in string
		wantErr  string // substring; "" means success
	}{
		{"minimal", `{"ociVersion":"1.0.2"}`, ""},
		{"unknown fields ignored", `{"ociVersion":"1.0.2","future":{"x":1}}`, ""},
		{"trailing space", "{}\n\n", ""},
		{"empty", "", "config is empty"},
		{"blank", " \n\t", "config is empty"},
		{"syntax", "{\n  \"ociVersion\": \"1.0\",\n  \"process\": {,}\n}", "line 3, column 15 (offset 39): invalid character ','"},
		{"type", "{\n\"process\": {\"args\": \"sh\"}}", "field process.args: cannot use JSON string as []string"},
		{"type position", "{\n\"process\": {\"args\": \"sh\"}}", "line 2"},
		{"bad uid", `{"process":{"user":{"uid":-1}}}`, "field process.user.uid"},
		{"truncated", `{"ociVersion": "1.0"`, "truncated JSON"},
		{"trailing data", `{} {}`, "line 1, column 4 (offset 3): unexpected data after the JSON object"},
		{"not an object", `[]`, "cannot use JSON array"},
		{"null", `null`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Decode(strings.NewReader(tt.in))
			checkErr(t, err, tt.wantErr)
			if err == nil && s == nil {
				t.Fatal("nil spec without error")
			}
		})
	}
}

func TestDecodeReadError(t *testing.T) {
	_, err := Decode(iotest.ErrReader(errors.New("boom")))
	checkErr(t, err, "read config: boom")
}

func TestDecodeDefault(t *testing.T) {
	b, _ := json.MarshalIndent(Default(), "", "\t")
	s, err := Decode(strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	if s.Hostname != "hako" || len(s.Mounts) != 7 {
		t.Fatalf("decoded %+v", s)
	}
}

func TestPosition(t *testing.T) {
	data := []byte("ab\ncd\nef")
	tests := []struct {
		off  int64
		want string
	}{
		{0, "line 1, column 1 (offset 0)"},
		{2, "line 1, column 3 (offset 2)"},
		{3, "line 2, column 1 (offset 3)"},
		{7, "line 3, column 2 (offset 7)"},
		{99, "line 3, column 3 (offset 8)"},
		{-5, "line 1, column 1 (offset 0)"},
	}
	for _, tt := range tests {
		if got := position(data, tt.off); got != tt.want {
			t.Errorf("position(%d) = %q, want %q", tt.off, got, tt.want)
		}
	}
}

// writeBundle makes a bundle with a rootfs directory and config.json.
func writeBundle(t *testing.T, config string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "rootfs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func defaultJSON(t *testing.T, edit func(m map[string]any)) string {
	t.Helper()
	b, err := json.Marshal(Default())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(m)
	}
	b, err = json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestLoad(t *testing.T) {
	dir := writeBundle(t, defaultJSON(t, func(m map[string]any) {
		m["mounts"].([]any)[0].(map[string]any)["destination"] = "proc"
	}))
	s, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "rootfs"); s.Root.Path != want {
		t.Errorf("root.path = %q, want %q", s.Root.Path, want)
	}
	if s.Mounts[0].Destination != "/proc" {
		t.Errorf("relative destination became %q, want /proc", s.Mounts[0].Destination)
	}
}

func TestLoadRelativeBundle(t *testing.T) {
	dir := writeBundle(t, defaultJSON(t, nil))
	t.Chdir(filepath.Dir(dir))
	s, err := Load(filepath.Base(dir))
	if err != nil {
		t.Fatal(err)
	}
	if !filepath.IsAbs(s.Root.Path) {
		t.Fatalf("root.path %q not absolute", s.Root.Path)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, config, want string
	}{
		{"syntax", `{"ociVersion": }`, "config.json: line 1, column 16"},
		{"invalid", defaultJSON(t, func(m map[string]any) {
			m["process"].(map[string]any)["args"] = []string{}
		}), "config.json: process.args: empty"},
		{"no rootfs", defaultJSON(t, func(m map[string]any) {
			m["root"].(map[string]any)["path"] = "missing"
		}), `/missing": no such directory`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(writeBundle(t, tt.config))
			checkErr(t, err, tt.want)
		})
	}
	_, err := Load(t.TempDir())
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(empty dir) = %v, want ErrNotExist", err)
	}
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case want != "" && err == nil:
		t.Fatalf("no error, want %q", want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Fatalf("error %q does not contain %q", err, want)
	}
}

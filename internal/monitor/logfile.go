package monitor

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The log is podman's k8s-file format (the CRI's, which kubelet reads):
// one record per line, "TIME STREAM F|P TEXT", TIME in RFC 3339 with
// nanoseconds, F a full line, P a partial one continued by the next
// record. Chosen over Docker's json-file because a small C program can
// write it with no JSON encoder and no escaping, it stays readable with
// grep, and `logs` gets whole lines back without decoding.

// Writer appends one stream's output to a log file (the foreground run's
// side of what hako-mon does); safe for the two streams at once.
type Writer struct {
	mu *sync.Mutex
	f  io.Writer
	s  string
}

// NewWriters returns the stdout and stderr writers of one log file.
func NewWriters(f io.Writer) (stdout, stderr *Writer) {
	mu := &sync.Mutex{}
	return &Writer{mu, f, "stdout"}, &Writer{mu, f, "stderr"}
}

func (w *Writer) Write(b []byte) (int, error) {
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000000000Z")
	var buf bytes.Buffer
	for rest := b; len(rest) > 0; {
		line, tail, full := bytes.Cut(rest, []byte{'\n'})
		tag := "P"
		if full {
			tag = "F"
		}
		fmt.Fprintf(&buf, "%s %s %s %s\n", now, w.s, tag, line)
		rest = tail
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	_, err := w.f.Write(buf.Bytes())
	return len(b), err
}

// Record is one line of output, joined from its partial records.
type Record struct {
	Time   time.Time
	Stream string
	Text   string // without the newline
	Full   bool   // ended by a newline
}

// ReadRecords parses a k8s-file log, joining partial records of a
// stream; a malformed line (a torn last write) ends the reading.
func ReadRecords(r io.Reader) ([]Record, error) {
	var out []Record
	pending := map[string]int{} // stream -> index of its open partial record
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for s.Scan() {
		f := strings.SplitN(s.Text(), " ", 4)
		if len(f) < 3 || (f[2] != "F" && f[2] != "P") {
			break
		}
		ts, err := time.Parse(time.RFC3339Nano, f[0])
		if err != nil {
			break
		}
		text := ""
		if len(f) == 4 {
			text = f[3]
		}
		if i, ok := pending[f[1]]; ok {
			out[i].Text += text
			out[i].Full = f[2] == "F"
			if out[i].Full {
				delete(pending, f[1])
			}
			continue
		}
		out = append(out, Record{Time: ts, Stream: f[1], Text: text, Full: f[2] == "F"})
		if f[2] == "P" {
			pending[f[1]] = len(out) - 1
		}
	}
	return out, s.Err()
}

// Exit is what the exit file says.
type Exit struct {
	Code int
	At   time.Time
}

// WriteExit records init's exit status (through a rename: all or nothing).
func WriteExit(path string, code int, at time.Time) error {
	tmp := path + ".tmp"
	b := fmt.Appendf(nil, "%d %d.%09d\n", code, at.Unix(), at.Nanosecond())
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// ReadExit reads an exit file (os.ErrNotExist: init has not exited, or
// its monitor died first).
func ReadExit(path string) (Exit, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Exit{}, err
	}
	var code int
	var sec, nsec int64
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return Exit{}, fmt.Errorf("exit file %s: malformed %q", path, b)
	}
	code, err = strconv.Atoi(f[0])
	if err != nil {
		return Exit{}, fmt.Errorf("exit file %s: %w", path, err)
	}
	secS, nsecS, _ := strings.Cut(f[1], ".")
	sec, _ = strconv.ParseInt(secS, 10, 64)
	nsec, _ = strconv.ParseInt(nsecS, 10, 64)
	return Exit{Code: code, At: time.Unix(sec, nsec)}, nil
}

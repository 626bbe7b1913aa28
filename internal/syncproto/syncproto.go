package syncproto

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"hako/internal/trace"
)

// Type names a message.
type Type string

// The messages of the protocol table in doc.go.
const (
	Trace       Type = "trace"
	Primed      Type = "primed"
	Cgroup      Type = "cgroup"
	CgroupDone  Type = "cgroup-ok"
	Hooks       Type = "hooks"
	HooksDone   Type = "hooks-done"
	Rlimits     Type = "rlimits"
	RlimitsDone Type = "rlimits-ok"
	Ready       Type = "ready"
	Error       Type = "error"
	Warning     Type = "warning" // init → parent, any time: printed, not fatal
)

// Msg is one message. Only the fields of its Type are set.
type Msg struct {
	Type  Type         `json:"type"`
	Event *trace.Event `json:"event,omitempty"`
	Err   *RemoteError `json:"err,omitempty"`
	Text  string       `json:"text,omitempty"` // Warning
}

// RemoteError is a failed init step, whole, as it crosses the socket.
type RemoteError struct {
	Step     string `json:"step"`
	Operands string `json:"operands,omitempty"`
	Msg      string `json:"msg"`
	Errno    int    `json:"errno,omitempty"`
	Hint     string `json:"hint,omitempty"`
}

// Conn is one side of the socketpair.
type Conn struct {
	// OnWarning receives init's warnings (parent side); nil drops them.
	OnWarning func(string)
	f         *os.File
	enc       *json.Encoder
	dec       *json.Decoder
}

// New wraps f (one end of the socketpair).
func New(f *os.File) *Conn {
	return &Conn{f: f, enc: json.NewEncoder(f), dec: json.NewDecoder(bufio.NewReader(f))}
}

// File returns the underlying file.
func (c *Conn) File() *os.File { return c.f }

// Close closes the socket.
func (c *Conn) Close() error { return c.f.Close() }

// Send writes one message.
func (c *Conn) Send(m Msg) error {
	if err := c.enc.Encode(m); err != nil {
		return fmt.Errorf("sync: send %s: %w", m.Type, err)
	}
	return nil
}

// ErrClosed is returned by Expect when the peer closed the socket: for the
// parent after ready it means init exec'd or died.
var ErrClosed = errors.New("sync: peer closed the socket")

// Expect reads the next message, passing trace events to onTrace, and fails
// unless it is of type want. An error message from the peer is returned as a
// *trace.StepError, so the user sees init's failed step whole.
func (c *Conn) Expect(want Type, onTrace func(trace.Event)) (Msg, error) {
	for {
		var m Msg
		if err := c.dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return m, ErrClosed
			}
			return m, fmt.Errorf("sync: waiting for %s: %w", want, err)
		}
		switch {
		case m.Type == Trace && m.Event != nil:
			if onTrace != nil {
				onTrace(*m.Event)
			}
			continue
		case m.Type == Warning:
			if c.OnWarning != nil {
				c.OnWarning(m.Text)
			}
			continue
		case m.Type == Error && m.Err != nil:
			e := m.Err
			return m, trace.Remote(e.Step, e.Operands, e.Msg, e.Hint, e.Errno)
		case m.Type != want:
			return m, fmt.Errorf("sync: protocol violation: got %q while waiting for %q", m.Type, want)
		}
		return m, nil
	}
}

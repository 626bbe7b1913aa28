package initplan

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"hako/internal/hooks"
	"hako/internal/trace"
)

// checkHooks refuses, before anything is built, what would make init's
// hooks fail: a timeout that is not positive (internal/hooks refuses it
// too) and a path that is not absolute (the runtime-spec requires one;
// init has no PATH to look a name up in).
func checkHooks(s *specs.Spec) error {
	for _, kind := range []string{"createContainer", "startContainer"} {
		for i, h := range hooks.Of(s, kind) {
			var err error
			switch {
			case h.Timeout != nil && *h.Timeout <= 0:
				err = fmt.Errorf("timeout %d must be positive", *h.Timeout)
			case !filepath.IsAbs(h.Path):
				err = fmt.Errorf("path %q is not absolute", h.Path)
			}
			if err != nil {
				return &trace.StepError{Step: "hook", Operands: hookDesc(kind, i, h), Err: err}
			}
		}
	}
	return nil
}

func hookDesc(kind string, i int, h specs.Hook) string {
	return fmt.Sprintf("%s[%d] %s", kind, i, h.Path)
}

// hooks runs the spec's hooks of kind (createContainer, startContainer)
// in init, where init is at this point of the plan, as internal/hooks runs
// the runtime's: args (the path alone if none), env (empty if none),
// the state on stdin (status "created" for both kinds, as runc sends it),
// killed at the timeout; the first failure stops the container.
func (p *Plan) hooks(c Config, kind string) {
	for i, h := range hooks.Of(c.Spec, kind) {
		args := h.Args
		if len(args) == 0 {
			args = []string{h.Path}
		}
		block := strings.Join(append(append([]string{h.Path}, args...), h.Env...), "\x00")
		timeout := 0
		if h.Timeout != nil {
			timeout = *h.Timeout
		}
		st := hookState(c, "created")
		state := p.lateState(func(pid int) []byte {
			st.Pid = pid
			b, _ := json.Marshal(st)
			return b
		})
		p.emit(opHook, fTrace, p.traced("hook", hookDesc(kind, i, h)), -1,
			p.str_(block), imm(uint64(len(args))), imm(uint64(len(h.Env))), state, imm(0), imm(uint64(timeout)))
	}
}

// hookState is the runtime-spec state init hands a hook or a seccomp agent,
// but for init's pid (filled in by Bytes, see kLate).
// (The closures that render it capture this, not c: a captured parameter
// would be moved to the heap on every call, hooks or not.)
func hookState(c Config, status string) specs.State {
	return specs.State{Version: specs.Version, ID: c.ID, Status: specs.ContainerState(status),
		Bundle: c.Bundle, Annotations: c.Spec.Annotations}
}

// kLate marks, in the compiled ops only, an argument that Bytes fills in:
// a string that depends on init's pid as the host sees it, which exists
// only after clone (the state a hook or a seccomp agent gets). Bytes
// renders it for the pid, appends it to the strings and writes it as a
// kStr, its length into the next argument. It never reaches the wire.
const kLate = 0xff

// lateState registers a late string and returns the argument naming it
// (the next argument must be its length, imm(0) until Bytes).
func (p *Plan) lateState(render func(pid int) []byte) arg {
	p.late = append(p.late, render)
	return arg{kLate, uint64(len(p.late) - 1)}
}

package hooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"hako/internal/nsenter"
	"hako/internal/trace"
)

// Of returns the hooks of one kind ("prestart", "createRuntime",
// "createContainer", "startContainer", "poststart", "poststop"), nil-safe.
func Of(s *specs.Spec, kind string) []specs.Hook {
	if s == nil || s.Hooks == nil {
		return nil
	}
	h := s.Hooks
	switch kind {
	case "prestart":
		// Prestart is deprecated in the spec but still sent by Docker (its
		// network set-up hook), so it must run.
		//lint:ignore SA1019 runtime-spec requires prestart hooks to run
		return h.Prestart
	case "createRuntime":
		return h.CreateRuntime
	case "createContainer":
		return h.CreateContainer
	case "startContainer":
		return h.StartContainer
	case "poststart":
		return h.Poststart
	case "poststop":
		return h.Poststop
	}
	return nil
}

// RunKind runs the spec's hooks of one kind.
func RunKind(s *specs.Spec, kind string, st specs.State, log *trace.Log) error {
	return Run(kind, Of(s, kind), st, log)
}

// RunAll runs every hook of a kind even when some fail, and returns their
// failures joined: poststart and poststop failures are warnings, and the
// remaining hooks must still run (runtime-spec, "Lifecycle").
func RunAll(s *specs.Spec, kind string, st specs.State, log *trace.Log) error {
	return runHooks(kind, Of(s, kind), st, log, false)
}

// Run runs hooks in order and stops at the first failure, which names the
// hook kind, its index and path, its exit status and what it printed.
func Run(kind string, hs []specs.Hook, st specs.State, log *trace.Log) error {
	return runHooks(kind, hs, st, log, true)
}

func runHooks(kind string, hs []specs.Hook, st specs.State, log *trace.Log, stop bool) error {
	if len(hs) == 0 {
		return nil
	}
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	var errs []error
	for i, h := range hs {
		desc := fmt.Sprintf("%s[%d] %s", kind, i, h.Path)
		if err := log.Step("hook", desc, func() error { return run(h, data) }); err != nil {
			if stop {
				return err
			}
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func run(h specs.Hook, state []byte) error {
	ctx := context.Background()
	if h.Timeout != nil {
		if *h.Timeout <= 0 {
			return fmt.Errorf("timeout %d must be positive", *h.Timeout)
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(*h.Timeout)*time.Second)
		defer cancel()
	}
	args := h.Args
	if len(args) == 0 {
		args = []string{h.Path}
	}
	cmd := exec.CommandContext(ctx, h.Path)
	cmd.Args = args
	cmd.Env = h.Env
	if cmd.Env == nil {
		cmd.Env = []string{}
	}
	cmd.Stdin = bytes.NewReader(state)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := nsenter.WithTimerSlack(cmd.Run)
	if ctx.Err() == context.DeadlineExceeded {
		return fmt.Errorf("timed out after %ds", *h.Timeout)
	}
	if err != nil {
		if o := strings.TrimSpace(out.String()); o != "" {
			return fmt.Errorf("%w: %s", err, o)
		}
		return err
	}
	return nil
}

// Package users holds what the e2e suites share about the throwaway users
// their rootless tests create.
package users

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// Delete runs userdel (with --remove when withHome). userdel refuses a user
// that still owns a process (exit 8), and counts zombies too: a container
// init killed a moment ago stays one until the host's PID 1 reaps it, which
// on a busy machine can take a while. Delete retries that refusal for up to
// ten seconds, so a live leftover still fails and a zombie does not.
func Delete(name string, withHome bool) error {
	args := []string{name}
	if withHome {
		args = []string{"--remove", name}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, err := exec.Command("userdel", args...).CombinedOutput()
		var ee *exec.ExitError
		if err == nil {
			return nil
		}
		if !errors.As(err, &ee) || ee.ExitCode() != 8 || time.Now().After(deadline) {
			return fmt.Errorf("userdel %s: %v: %s", strings.Join(args, " "), err, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

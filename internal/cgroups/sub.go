package cgroups

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"hako/internal/trace"
)

// Sub returns a manager whose Apply puts a process into existing child
// cgroups of m's (`exec --cgroup`, runc's syntax): each spec is PATH (every
// hierarchy) or CONTROLLER[,CONTROLLER...]:PATH (those v1 hierarchies; a
// cgroup v2 host has one hierarchy, so no controller there). PATH is
// relative to the container's cgroup and must exist.
func Sub(m Manager, specs []string, log *trace.Log) (Manager, error) {
	paths := map[string]string{}
	for k, v := range m.Paths() {
		if !strings.HasPrefix(k, "@") {
			paths[k] = v
		}
	}
	for _, s := range specs {
		ctrls, sub, hasCtrl := strings.Cut(s, ":")
		if !hasCtrl {
			sub, ctrls = ctrls, ""
		}
		clean := path.Clean("/" + sub)[1:]
		if sub == "" || clean == "" || clean != strings.TrimSuffix(sub, "/") {
			return nil, fmt.Errorf("exec --cgroup %q: a path below the container's cgroup is expected, such as \"sub\" or \"a/b\"", s)
		}
		var keys []string
		if ctrls == "" {
			for k := range paths {
				keys = append(keys, k)
			}
		} else {
			if _, v2 := paths[""]; v2 && len(paths) == 1 {
				return nil, fmt.Errorf("exec --cgroup %q: cgroup v2 has one hierarchy: give the path without a controller", s)
			}
			for _, c := range strings.Split(ctrls, ",") {
				if _, ok := paths[c]; !ok {
					return nil, fmt.Errorf("exec --cgroup %q: the container has no %q cgroup", s, c)
				}
				keys = append(keys, c)
			}
		}
		for _, k := range keys {
			dir := filepath.Join(paths[k], clean)
			if st, err := os.Stat(dir); err != nil || !st.IsDir() {
				return nil, fmt.Errorf("exec --cgroup %q: %s does not exist (create the sub-cgroup first)", s, dir)
			}
			paths[k] = dir
		}
	}
	return Load(paths, log)
}

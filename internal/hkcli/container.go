package hkcli

import "github.com/spf13/cobra"

// containerVerbs are the verbs `hk container` groups (Docker's management
// command): each is the same command as the top-level one, `ps` as `ls`.
var containerVerbs = map[string]bool{"run": true, "create": true, "start": true, "stop": true, "kill": true,
	"restart": true, "rm": true, "ps": true, "logs": true, "exec": true, "wait": true, "pause": true,
	"unpause": true, "inspect": true, "top": true, "stats": true}

// groupBuilding keeps the group's constructor from building itself again
// while it builds its members from the verb list.
var groupBuilding bool

func init() {
	register(func(env *Env) *cobra.Command {
		c := &cobra.Command{Use: "container", Short: "Manage containers", Args: cobra.NoArgs,
			RunE: func(c *cobra.Command, _ []string) error { return c.Help() }}
		if groupBuilding {
			return c
		}
		groupBuilding = true
		defer func() { groupBuilding = false }()
		for _, v := range verbs {
			sub := v(env)
			if !containerVerbs[sub.Name()] {
				continue
			}
			if sub.Name() == "ps" {
				sub.Use, sub.Aliases = "ls [OPTIONS]", []string{"list", "ps"}
			}
			c.AddCommand(sub)
		}
		return c
	})
}

package cli

import (
	"encoding/json"
	"flag"
	"fmt"
)

func init() { register("state", "print a container's state as JSON", stateCmd) }

func stateCmd(g *globals, args []string) error {
	fs := flag.NewFlagSet("state", flag.ContinueOnError)
	pos, err := parse(fs, args, 1, 1, "one container ID")
	if err != nil {
		return err
	}
	c, err := g.runtime().View(pos[0])
	if err != nil {
		return err
	}
	defer c.Close()
	data, err := json.MarshalIndent(c.OCI(), "", "  ")
	if err != nil {
		return err
	}
	fmt.Println(string(data))
	return nil
}

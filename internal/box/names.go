package box

import (
	"crypto/rand"
	"math/big"
)

// generateName is Docker's style of name: adjective_surname.
func generateName() string {
	return pick(adjectives) + "_" + pick(surnames)
}

func pick(l []string) string {
	n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(l))))
	return l[n.Int64()]
}

var adjectives = []string{"admiring", "bold", "brave", "busy", "calm", "clever", "cool", "eager",
	"elated", "epic", "focused", "gallant", "happy", "jolly", "keen", "kind", "lucid", "modest",
	"nifty", "quirky", "relaxed", "serene", "sharp", "stoic", "tender", "vibrant", "wizardly", "zen"}

// Container-building pioneers and computing people.
var surnames = []string{"babbage", "bell", "cerf", "dijkstra", "engelbart", "hamilton", "hopper",
	"kernighan", "knuth", "lamport", "liskov", "lovelace", "mccarthy", "morse", "noether", "perlman",
	"pike", "ritchie", "shannon", "thompson", "torvalds", "turing", "wirth", "wozniak"}

package syncproto

// EnvWaitMap: the ID maps are written by newuidmap after clone. init
// started as an unmapped uid, which execve stripped of capabilities; once
// the maps exist it is uid 0 of the namespace, and executing itself again
// gives it the namespace's full capability set (hako-init's wait_map).
const EnvWaitMap = "_HAKO_WAIT_MAP"

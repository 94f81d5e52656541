package cluster

import "time"

// RaceJoin returns options that make Join skip its holder check and use the
// given start time and incarnation: two joins racing under one id, made
// deterministic.
func RaceJoin(startedAt time.Time, incarnation string) JoinOption {
	return joinOption(func(o *joinOptions) {
		o.noCheck, o.startedAt, o.incarnation = true, startedAt, incarnation
	})
}

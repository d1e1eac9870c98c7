package sample

import (
	"slices"
)

// Stream generates up to limit records in event-time order — the scenario
// records of the first three days merged into noise over opt.Days at
// opt.RecordsPerHour — and calls emit with each. Unlike [Generate] it holds
// only the records of sessions in progress, so it suits large trails. The
// *Record passed to emit is valid only during the call. Stream stops at
// the first error emit returns and returns it. Shapes are not assigned:
// every record is meant for trail files.
func Stream(opt Options, limit int, emit func(*Record) error) error {
	opt = opt.withDefaults()
	w := newWorld(opt.Seed)
	main, dev := newInventory(w, AccountMain), newInventory(w, AccountDev)
	var sc []Record
	s := &scenarios{g: &gen{w: w, id: newIDs(opt.Seed, 2)}, start: opt.Start, main: main, dev: dev,
		emit: func(r Record) { sc = append(sc, r) }}
	s.run()
	slices.SortStableFunc(sc, func(a, b Record) int { return a.EventTime.Compare(b.EventTime) })

	count, next := 0, 0
	var err error
	out := func(r *Record) bool {
		if count >= limit || err != nil {
			return false
		}
		err = emit(r)
		count++
		return err == nil && count < limit
	}
	n := newNoise(&gen{w: w, id: newIDs(opt.Seed, 3)}, []*inventory{main, dev}, opt.RecordsPerHour)
	n.run(opt.Start, opt.Start.AddDate(0, 0, opt.Days), func(r Record) bool {
		for next < len(sc) && !sc[next].EventTime.After(r.EventTime) {
			if !out(&sc[next]) {
				return false
			}
			next++
		}
		return out(&r)
	})
	for ; next < len(sc) && out(&sc[next]); next++ {
	}
	return err
}

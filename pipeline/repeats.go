package pipeline

import (
	"hash/maphash"
	"sync"

	"github.com/iamwatch/iamwatch"
)

// CloudTrail delivers some records more than once (a fifth of a real trail
// can be repeats), and pollers and retries add more. The store and the
// alert claims make a repeat harmless, but not free: it is matched, its
// hits and alerts are committed again and its ID is looked up, which on
// the writer costs as much as a new event. A Pipeline so remembers the
// events it has processed, and drops a later record of one with the same
// ID and the same bytes before detection, counting it as its first copy
// was counted (a duplicate when that one was kept, else not kept).
//
// That is safe because the first copy's batch has been committed (the set
// learns a batch only once Process succeeded), and the same rules see the
// same bytes: a repeat would change nothing. A record with the ID of an
// earlier, different record is no repeat: Process still sees it (and
// reports the conflict). Another process, or this one after a restart,
// starts with an empty set: the store keeps that case idempotent.

// repeatSlotsMax bounds the set: 2^16 slots of 24 bytes, 1.5 MiB,
// whatever the input. Past it, an event takes the slot of an older one: a
// repeat far from its first copy is processed again, as without the set.
// CloudTrail repeats a record in one of the next files of its account and
// region, which the walk reads soon after. The set costs a --keep all scan,
// whose writer sees every record, 0.21 CPU-s (0.33 with 2^18 slots; mostly
// the first touch of each event's memory), about what it saves there in
// matching; the default scan's writer sees the events a rule or the filter
// wants, where a repeat costs most.
const (
	repeatSlotsMin = 1 << 12
	repeatSlotsMax = 1 << 16
)

// repeatSet is a hash set of processed events: one slot per hash of the
// event ID (direct mapped), holding that hash, a hash of the record's
// bytes and whether the event was kept. It grows while
// less than half full, up to repeatSlotsMax. Both hashes are 64 bits with
// a per-process random seed, so a record cannot be crafted to pass for
// another.
type repeatSet struct {
	mu    sync.Mutex
	seed  maphash.Seed
	slots []repeatSlot
	used  int
}

type repeatSlot struct {
	id, raw    uint64 // id 0: empty
	kept, weak bool   // weak: kept only as detect.Batch.Weak says
}

func newRepeatSet() *repeatSet { return &repeatSet{seed: maphash.MakeSeed()} }

// idKey returns the hash of ev's ID, ok false when ev has no record bytes
// (built by hand): such an event is never taken for a repeat.
func (s *repeatSet) idKey(ev *iamwatch.Event) (id uint64, ok bool) {
	if len(ev.Raw) == 0 {
		return 0, false
	}
	// The top bit set: 0 is an empty slot; the slot is chosen by the low bits.
	return maphash.String(s.seed, ev.ID) | 1<<63, true
}

func (s *repeatSet) rawKey(ev *iamwatch.Event) uint64 { return maphash.Bytes(s.seed, ev.Raw) }

// split returns events without the repeats of events processed before,
// and how many of those repeats had been kept and not kept; weak lists the
// IDs of the repeats (counted as kept) of events kept weakly. When
// inPlace, events is compacted (and its tail cleared); else a batch with
// repeats is copied (copied true).
func (s *repeatSet) split(events []iamwatch.Event, inPlace bool) (rest []iamwatch.Event, copied bool, kept, notKept int, weak []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.used == 0 {
		return events, false, 0, 0, nil
	}
	mask := uint64(len(s.slots) - 1)
	n := 0 // events kept so far, in rest when it exists
	for i := range events {
		if id, ok := s.idKey(&events[i]); ok {
			if sl := s.slots[id&mask]; sl.id == id && sl.raw == s.rawKey(&events[i]) {
				if sl.kept {
					kept++
					if sl.weak {
						weak = append(weak, events[i].ID)
					}
				} else {
					notKept++
				}
				if rest == nil {
					if inPlace {
						rest = events[:n]
					} else {
						rest, copied = append(make([]iamwatch.Event, 0, len(events)-1), events[:n]...), true
					}
				}
				continue
			}
		}
		if rest != nil {
			rest = append(rest, events[i])
		}
		n++
	}
	if rest == nil {
		return events, false, 0, 0, nil
	}
	if inPlace {
		clear(events[len(rest):]) // no references past the batch
	}
	return rest, copied, kept, notKept, weak
}

// learn remembers events as processed; keptAs tells, for events[i],
// whether it went to the store, and whether only weakly.
func (s *repeatSet) learn(events []iamwatch.Event, keptAs func(i int) (kept, weak bool)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range events {
		id, ok := s.idKey(&events[i])
		if !ok {
			continue
		}
		if 2*(s.used+1) > len(s.slots) && len(s.slots) < repeatSlotsMax {
			s.grow()
		}
		sl := &s.slots[id&uint64(len(s.slots)-1)]
		if sl.id == 0 {
			s.used++
		}
		kept, weak := keptAs(i)
		*sl = repeatSlot{id: id, raw: s.rawKey(&events[i]), kept: kept, weak: weak}
	}
}

// grow doubles the slots (to repeatSlotsMin at first), keeping what fits.
func (s *repeatSet) grow() {
	old := s.slots
	s.slots = make([]repeatSlot, max(2*len(old), repeatSlotsMin))
	s.used = 0
	mask := uint64(len(s.slots) - 1)
	for _, sl := range old {
		if sl.id != 0 {
			if s.slots[sl.id&mask].id == 0 {
				s.used++
			}
			s.slots[sl.id&mask] = sl
		}
	}
}

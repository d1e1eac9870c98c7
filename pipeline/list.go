package pipeline

import (
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
)

// List is a list of inputs held compactly: the files found on disk are
// their directory's index and their base name, the names in a few
// pointer-free blocks, so the list of a trail of 100,000s of files costs
// ~100 bytes a file and nothing for the collector to scan (a []Input
// costs a string, a closure and the Input, ~250 bytes a file, all scanned
// at every collection: at a million records the scan spent an eighth of
// its CPU collecting). An Input is made when asked for. The zero List is
// empty.
//
// A List made by WalkList grows while it is read: its methods are safe
// for concurrent use, Len and Bytes count what was listed so far, and
// Wait tells when the walk is over. It holds only the inputs not yet
// handed to a reader, at most maxHeld of them: the walk waits while it is
// that far ahead, so a trail of millions of files is read in bounded
// memory (listed whole, a 538k-file trail took a scan's peak RSS to 174
// MiB, 128 MiB so). Lists made otherwise are complete when returned, and
// hold every input.
type List struct {
	mu sync.Mutex
	// grown is signalled, under mu, when the walk adds an input or ends;
	// room, when readers take inputs off a full walked list or the walk
	// is to stop.
	grown, room *sync.Cond
	walking     bool          // a walk is adding to the list
	walked      chan struct{} // closed when the walk is over; nil: never walked
	abandoned   atomic.Bool   // the read of a walked list is over: its walk stops (abandon)
	dirs        []string      // the directories of the OS files, each with its trailing separator
	dir         []int32       // dir[i]: held input i's directory, dirs[dir[i]-dirsOff]
	names       [][]byte      // the base names of the OS files, one after another, in blocks (see addName)
	ends        []int         // ends[i]: where held input i's base name ends, counted over every name added
	sizes       []int64       // held input i's size in bytes; -1 unknown
	// other holds, by index, the inputs that are not plain OS files
	// (stdin, FIFOs, entries that failed or are skipped, files of an
	// fs.FS): few, so kept as they are.
	other map[int]Input
	// What a walked list released: held input i is input first+i, whose
	// name starts at firstStart; names[0] starts at namesOff and dirs[0]
	// is directory dirsOff. All 0 for a list that releases nothing.
	first, firstStart, namesOff, dirsOff int
	bytes                                int64 // the known sizes of every input listed, released or not
	// The OS files listed, released or not, whose size is known (sized)
	// and was left unknown (unsized: a walk sizes only some; see
	// sizeFirst); of the sized, those listed after the first sizeFirst
	// files (the walk's sample) and their bytes.
	sized, unsized, sampled int
	sampledBytes            int64
	// low is the first input not handed to a reader yet (next), handed
	// the ones above it that were.
	low    int
	handed map[int]bool
	// walkArgs are what a walked list walks (Count walks them again);
	// counting, a list that only counts them (first counts them all).
	walkArgs []argPaths
	counting bool
}

// maxHeld is how many inputs a walked list holds at most, ~100 bytes
// each; releaseChunk, how many handed-out inputs it releases at a time.
// Variables for the tests.
var (
	maxHeld      = 1 << 16
	releaseChunk = 1 << 12
)

// ListOf returns the list of inputs.
func ListOf(inputs []Input) *List {
	l := &List{}
	for _, in := range inputs {
		l.add(in)
	}
	return l
}

// Len is the number of inputs (listed so far, while a walk goes on).
func (l *List) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.len()
}

func (l *List) len() int { return l.first + len(l.ends) }

// At returns input i, which must be below Len and, on a walked list, not
// handed to a reader yet.
func (l *List) At(i int) Input {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.at(i)
}

func (l *List) at(i int) Input {
	if in, ok := l.other[i]; ok {
		return in
	}
	return osInput(string(l.name(i)), l.sizes[i-l.first])
}

// next returns input i, waiting while a walk may still list it; false
// when the list ends before i or ctx ends. A waiting next sees ctx end
// only when wake is called (context.AfterFunc).
func (l *List) next(ctx context.Context, i int) (Input, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i >= l.len() && l.walking && ctx.Err() == nil {
		l.grown.Wait()
	}
	if i >= l.len() || ctx.Err() != nil {
		return Input{}, false
	}
	in := l.at(i)
	if l.room != nil {
		l.handOut(i)
	}
	return in, true
}

// handOut notes that input i of a walked list went to a reader, which
// asks for each input once, and releases the inputs below the first not
// handed out yet, a chunk at a time, or all of them once every input held
// is handed out (the walk may be waiting for room: whatever maxHeld and
// releaseChunk are, it gets some).
func (l *List) handOut(i int) {
	if i != l.low {
		if l.handed == nil {
			l.handed = map[int]bool{}
		}
		l.handed[i] = true
		return
	}
	for l.low++; l.handed[l.low]; l.low++ {
		delete(l.handed, l.low)
	}
	if l.low-l.first >= releaseChunk || l.low == l.len() {
		l.release(l.low)
		l.room.Signal()
	}
}

// release drops inputs below i, all held.
func (l *List) release(i int) {
	k := i - l.first
	start := l.ends[k-1] // where input i's name starts
	for j := range l.other {
		if j < i {
			delete(l.other, j)
		}
	}
	if b := (start - l.namesOff) / nameBlock; b > 0 {
		clear(l.names[:b])
		l.names = l.names[b:]
		l.namesOff += b * nameBlock
	}
	l.ends, l.sizes, l.dir = l.ends[k:], l.sizes[k:], l.dir[k:]
	if len(l.dirs) > 0 {
		// Kept: the directories of the inputs held, and the walk's last.
		d := len(l.dirs) - 1
		if len(l.dir) > 0 {
			d = min(d, int(l.dir[0])-l.dirsOff)
		}
		clear(l.dirs[:d])
		l.dirs = l.dirs[d:]
		l.dirsOff += d
	}
	l.first, l.firstStart = i, start
}

// waitRoom waits, under mu, while a walked list holds maxHeld inputs,
// unless its read is over or stop says to stop.
func (l *List) waitRoom(stop func() bool) {
	for len(l.ends) >= maxHeld && !l.abandoned.Load() && (stop == nil || !stop()) {
		l.room.Wait()
	}
}

// Count returns how many inputs the list has when complete: for a
// walked list still walking, which holds only the next ones, it lists
// its arguments again, holding nothing (as long as the walk takes, or
// until ctx ends: then -1).
func (l *List) Count(ctx context.Context) int {
	l.mu.Lock()
	args, walking := l.walkArgs, l.walking
	l.mu.Unlock()
	if !walking || args == nil {
		return l.Len()
	}
	c := &List{counting: true}
	c.expand(args, nil, false, func() bool { return ctx.Err() != nil })
	if ctx.Err() != nil {
		return -1
	}
	return c.first
}

// abandon tells the walk, if any, that no reader will take more inputs:
// it stops listing. ReadList calls it when it returns.
func (l *List) abandon() {
	if l.room == nil {
		return
	}
	l.abandoned.Store(true)
	l.mu.Lock()
	l.room.Broadcast()
	l.mu.Unlock()
}

// wake wakes the calls of next waiting for the walk.
func (l *List) wake() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.grown != nil {
		l.grown.Broadcast()
	}
}

// Walking reports whether a walk may still add inputs.
func (l *List) Walking() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.walking
}

// Wait waits until the list is complete: the walk of WalkList is over
// (it ends early when the context WalkList was given does), or ctx ends.
func (l *List) Wait(ctx context.Context) error {
	l.mu.Lock()
	done := l.walked
	l.mu.Unlock()
	if done == nil {
		return nil
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Bytes adds up the sizes of the inputs (listed so far): a file whose
// size the walk left unknown counts as meanSize.
func (l *List) Bytes() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.bytes + int64(l.unsized)*l.meanSize()
}

// Size is in's size or, unknown (a file the walk did not size, standard
// input, a failed entry), meanSize.
func (l *List) Size(in Input) int64 {
	if in.Size >= 0 {
		return in.Size
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.meanSize()
}

// meanSize is what a file of unknown size counts as: the mean size of the
// walk's sample (the files sized after the first sizeFirst), or of all
// files sized while there is none; 0 when none was. l.mu is held.
func (l *List) meanSize() int64 {
	switch {
	case l.sampled > 0:
		return l.sampledBytes / int64(l.sampled)
	case l.sized > 0:
		return l.bytes / int64(l.sized)
	}
	return 0
}

// A walk sizes the first sizeFirst regular files and one in sizeEvery of
// the others (an fstatat each: with the rest of the walk's work, what a
// scan does besides reading the files; the walk of the 26,713 files of
// the 250k-record services trail took 0.155 CPU-s of the scan's 3.1,
// 0.09 of it in fstatat). The other files count as the mean of those
// sized: sizes only estimate how many records the inputs hold (the bulk
// load's choice) and how far a read has gone (the writer's batches at its
// end). One in every few across the whole trail, not the first few
// thousand: a trail's directories are listed by name, region after
// region, and its first 4,096 files were half the mean size of them all;
// so the files of unknown size count as the mean of that sample alone.
// Variables for the tests.
var (
	sizeFirst = 1024
	sizeEvery = 8
)

// Footprint is about the bytes the list holds.
func (l *List) Footprint() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 24*cap(l.names) + 8*cap(l.ends) + 8*cap(l.sizes) + 4*cap(l.dir)
	for _, b := range l.names {
		n += cap(b)
	}
	for _, d := range l.dirs {
		n += 16 + len(d)
	}
	for _, in := range l.other {
		n += 64 + len(in.Name)
	}
	return int64(n)
}

// Inputs returns the inputs held (listed so far; of a walked list, those
// not released yet: it drops the ones handed to readers, releaseChunk at
// a time) as a slice.
func (l *List) Inputs() []Input {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Input, len(l.ends))
	for i := range out {
		out[i] = l.at(l.first + i)
	}
	return out
}

// name returns input i's name (a new slice); i is held.
func (l *List) name(i int) []byte {
	if in, ok := l.other[i]; ok {
		return []byte(in.Name)
	}
	j := i - l.first
	start := l.firstStart
	if j > 0 {
		start = l.ends[j-1]
	}
	d := l.dirs[int(l.dir[j])-l.dirsOff]
	b := make([]byte, 0, len(d)+l.ends[j]-start)
	b = append(b, d...)
	for end := l.ends[j]; start < end; { // the name may straddle two blocks
		blk := l.names[(start-l.namesOff)/nameBlock]
		off := (start - l.namesOff) % nameBlock
		n := min(end-start, len(blk)-off)
		b = append(b, blk[off:off+n]...)
		start += n
	}
	return b
}

// nameBlock is the size of a block of names: the names of a trail of
// 100,000s of files fill a few dozen.
const nameBlock = 64 << 10

// addName appends base to the names. They are kept in blocks, each full
// but the last, a name going on in the next block where it does not fit:
// one buffer grown by append was copied again and again, each time into
// memory the kernel had to fault in, and the walk of a trail spent a
// quarter of its CPU on it.
func (l *List) addName(base []byte) {
	for len(base) > 0 {
		n := len(l.names)
		if n == 0 || len(l.names[n-1]) == nameBlock {
			l.names = append(l.names, make([]byte, 0, nameBlock))
			n++
		}
		k := min(len(base), nameBlock-len(l.names[n-1]))
		l.names[n-1] = append(l.names[n-1], base[:k]...)
		base = base[k:]
	}
}

// namesLen is the bytes of every name added.
func (l *List) namesLen() int {
	n := len(l.names)
	if n == 0 {
		return l.namesOff
	}
	return l.namesOff + (n-1)*nameBlock + len(l.names[n-1])
}

// truncateNames keeps the first n bytes of names, of a list that has
// released none.
func (l *List) truncateNames(n int) {
	k := (n + nameBlock - 1) / nameBlock // the blocks n bytes fill
	clear(l.names[k:])
	l.names = l.names[:k]
	if k > 0 {
		l.names[k-1] = l.names[k-1][:n-(k-1)*nameBlock]
	}
}

// trim gives back what appending left unused (up to a block of names,
// and a fifth of the other slices): the list lives as long as the read.
func (l *List) trim() {
	if n := len(l.names); n > 0 && cap(l.names[n-1]) > len(l.names[n-1])+len(l.names[n-1])/8 {
		l.names[n-1] = slices.Clone(l.names[n-1])
	}
	if cap(l.ends) > len(l.ends)+len(l.ends)/8 {
		l.ends, l.sizes, l.dir = slices.Clone(l.ends), slices.Clone(l.sizes), slices.Clone(l.dir)
	}
}

// addPath adds the regular OS file at path p.
func (l *List) addPath(p string, size int64) {
	d, base := filepath.Split(p) // p == d+base
	l.addFile(d, []byte(base), size)
}

// addFile adds the regular OS file dir+base; dir ends with a separator
// (or is empty), and the files of one directory, added one after another,
// share its string.
func (l *List) addFile(dir string, base []byte, size int64) {
	switch n := l.sized + l.unsized; {
	case size < 0:
		l.unsized++
	case n >= sizeFirst:
		l.sampled++
		l.sampledBytes += size
		fallthrough
	default:
		l.sized++
	}
	if l.counting {
		l.first++
		l.bytes += max(size, 0)
		return
	}
	if n := len(l.dirs); n == 0 || l.dirs[n-1] != dir {
		l.dirs = append(l.dirs, dir)
	}
	l.dir = append(l.dir, int32(l.dirsOff+len(l.dirs)-1))
	l.addName(base)
	l.ends = append(l.ends, l.namesLen())
	l.sizes = append(l.sizes, size)
	l.bytes += max(size, 0)
}

// add adds any input.
func (l *List) add(in Input) {
	if l.counting {
		l.first++
		l.bytes += max(in.Size, 0)
		return
	}
	if l.other == nil {
		l.other = map[int]Input{}
	}
	l.other[l.len()] = in
	l.dir = append(l.dir, int32(l.dirsOff+max(len(l.dirs)-1, 0))) // unused, in order for release
	l.ends = append(l.ends, l.namesLen())
	l.sizes = append(l.sizes, in.Size)
	l.bytes += max(in.Size, 0)
}

// sortFrom sorts the inputs from index i on by name, as Expand lists a
// directory. A walk lists them in order already, nearly always (not when
// a name sorts before "/": "a-b" comes after the directory "a"): then it
// only checks. The list must not be walked (it releases nothing).
func (l *List) sortFrom(i int) {
	sorted := true
	for j := i + 1; j < len(l.ends) && sorted; j++ {
		sorted = bytes.Compare(l.name(j-1), l.name(j)) <= 0
	}
	if sorted {
		return
	}
	order := make([]int, len(l.ends)-i)
	for j := range order {
		order[j] = i + j
	}
	slices.SortStableFunc(order, func(a, b int) int { return bytes.Compare(l.name(a), l.name(b)) })
	type entry struct {
		in    Input
		other bool
	}
	moved := make([]entry, len(order))
	for j, k := range order {
		in, other := l.other[k]
		if !other {
			in = Input{Name: string(l.name(k)), Size: l.sizes[k]}
		}
		moved[j] = entry{in, other}
	}
	start := 0
	if i > 0 {
		start = l.ends[i-1]
	}
	for j := i; j < len(l.ends); j++ {
		delete(l.other, j)
		l.bytes -= max(l.sizes[j], 0)
	}
	l.truncateNames(start)
	l.ends, l.sizes, l.dir = l.ends[:i], l.sizes[:i], l.dir[:i]
	for _, e := range moved {
		if e.other {
			l.add(e.in)
		} else {
			l.addPath(e.in.Name, e.in.Size)
		}
	}
}

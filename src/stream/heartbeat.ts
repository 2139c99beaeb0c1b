/** What the shared ticker needs of a stream. */
export interface Beating {
	/** Called on every tick; the stream decides whether a beat is due. */
	beat(now: number): void
	/** True once the stream has ended: the ticker lets it go. */
	readonly closed: boolean
}

/**
 * The streams of one interval, in an array: a hash set of 10,000 streams costs several times the
 * array's memory per stream, and its table grows in powers of two. A stream that ends is marked
 * (its `closed`) and counted here; the ended ones are swept out at the next tick, or at once when
 * they are half the array (a reconnect storm lets thousands go at a time).
 */
interface Group {
	members: Beating[]
	left: number
	/** In a tick: the tick sweeps when it is done, not the streams that end during it. */
	ticking: boolean
	timer: Timer
}

// One timer per distinct interval, not one per stream: 10,000 idle streams cost one timer.
const groups = new Map<number, Group>()

/** Adds a stream to the ticker for `intervalMs` (tell it with leaveHeartbeat when the stream ends). */
export function joinHeartbeat(intervalMs: number, member: Beating): void {
	let group = groups.get(intervalMs)
	if (!group) {
		const members: Beating[] = []
		// Tick four times per interval, so a beat is at most a quarter interval late.
		const timer = setInterval(() => tick(intervalMs, group!), Math.max(1, intervalMs / 4))
		timer.unref()
		group = { members, left: 0, ticking: false, timer }
		groups.set(intervalMs, group)
	}
	group.members.push(member)
}

/** Tells the ticker of `intervalMs` that a stream of it ended (its `closed` is true now). */
export function leaveHeartbeat(intervalMs: number): void {
	const group = groups.get(intervalMs)
	if (!group) return
	if (++group.left * 2 > group.members.length && !group.ticking) sweep(intervalMs, group)
}

function tick(intervalMs: number, group: Group): void {
	const now = performance.now()
	group.ticking = true
	try {
		// A stream that joins during the tick (a beat can end one, and its listeners open another)
		// is pushed behind the index and beats in this tick too.
		for (let i = 0; i < group.members.length; i++) {
			const member = group.members[i]!
			if (!member.closed) member.beat(now)
		}
	} finally {
		group.ticking = false
		sweep(intervalMs, group)
	}
}

/** Drops the ended streams; the last one out stops the timer. */
function sweep(intervalMs: number, group: Group): void {
	const members = group.members
	let kept = 0
	for (let i = 0; i < members.length; i++) {
		const member = members[i]!
		if (!member.closed) members[kept++] = member
	}
	members.length = kept
	group.left = 0
	if (kept === 0 && groups.get(intervalMs) === group) {
		clearInterval(group.timer)
		groups.delete(intervalMs)
	}
}

/** What the shared ticker needs of a stream. */
export interface Beating {
	/** Called on every tick; the stream decides whether a beat is due. */
	beat(now: number): void
}

// One timer per distinct interval, not one per stream: 10,000 idle streams cost one timer.
const groups = new Map<number, { members: Set<Beating>; timer: Timer }>()

/** Adds a stream to the ticker for `intervalMs` (remove it with leaveHeartbeat). */
export function joinHeartbeat(intervalMs: number, member: Beating): void {
	let group = groups.get(intervalMs)
	if (!group) {
		const members = new Set<Beating>()
		// Tick four times per interval, so a beat is at most a quarter interval late.
		const timer = setInterval(() => {
			const now = performance.now()
			for (const m of members) m.beat(now)
		}, Math.max(1, intervalMs / 4))
		timer.unref()
		group = { members, timer }
		groups.set(intervalMs, group)
	}
	group.members.add(member)
}

/** Removes a stream from the ticker of `intervalMs`; the last one out stops the timer. */
export function leaveHeartbeat(intervalMs: number, member: Beating): void {
	const group = groups.get(intervalMs)
	if (!group) return
	group.members.delete(member)
	if (group.members.size === 0) {
		clearInterval(group.timer)
		groups.delete(intervalMs)
	}
}

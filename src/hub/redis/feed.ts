import type { Frame } from '../transport'

/** Reads a topic's history after an id (exclusive), oldest first. */
export type ReadAfter = (topic: string, afterId: number) => Promise<Frame[]>

/**
 * The frames of one topic as this process receives them: in id order, each
 * once. Pub/sub delivers in id order on one connection; what it cannot see is
 * what was published while the connection was down. On a gap (an id past the
 * next one, or a re-subscribe), the feed holds live frames back, reads the
 * missed ones from history, delivers them, then the held ones, dropping any id
 * already delivered.
 */
export class TopicFeed {
	readonly listeners = new Set<(frame: Frame) => void>()
	/** Highest id delivered; 0 before the first frame. */
	lastId = 0
	/** True once SUBSCRIBE was acknowledged on the current subscriber connection. */
	active = false
	private held: Frame[] | undefined
	private activeWaiters: (() => void)[] = []
	private deliveredWaiters: { id: number; resolve: () => void }[] = []

	constructor(
		readonly topic: string,
		private readonly readAfter: ReadAfter,
		private readonly report: (error: Error) => void
	) {}

	setActive(active: boolean): void {
		this.active = active
		if (active) for (const w of this.activeWaiters.splice(0)) w()
	}

	/** Resolves when the feed is subscribed, or after `ms`. */
	whenActive(ms: number): Promise<void> {
		if (this.active) return Promise.resolve()
		return new Promise((resolve) => {
			const timer = setTimeout(resolve, ms)
			this.activeWaiters.push(() => (clearTimeout(timer), resolve()))
		})
	}

	/** Resolves once the frame with id `id` was delivered to the listeners, or after `ms`. */
	whenDelivered(id: number, ms: number): Promise<void> {
		if (this.lastId >= id) return Promise.resolve()
		return new Promise((resolve) => {
			const timer = setTimeout(done, ms)
			const waiter = { id, resolve: done }
			this.deliveredWaiters.push(waiter)
			const self = this
			function done() {
				clearTimeout(timer)
				const at = self.deliveredWaiters.indexOf(waiter)
				if (at !== -1) self.deliveredWaiters.splice(at, 1)
				resolve()
			}
		})
	}

	/** A live frame from pub/sub. */
	receive(frame: Frame): void {
		if (this.held) return void this.held.push(frame)
		const id = Number(frame.id)
		if (this.lastId > 0 && id > this.lastId + 1) {
			this.held = [frame]
			return void this.catchUp()
		}
		this.deliver(frame)
	}

	/** Reads what was published since the last delivered id (after a re-subscribe). */
	resync(): void {
		if (this.held || this.lastId === 0) return
		this.held = []
		void this.catchUp()
	}

	private async catchUp(): Promise<void> {
		try {
			for (const frame of await this.readAfter(this.topic, this.lastId)) this.deliver(frame)
		} catch (error) {
			// History could not be read (Redis went away again): deliver what is held;
			// the next re-subscribe reads the rest.
			this.report(new Error(`redis transport: could not read the missed frames of "${this.topic}"`, { cause: error }))
		}
		const held = this.held ?? []
		this.held = undefined
		held.sort((a, b) => Number(a.id) - Number(b.id))
		for (const frame of held) this.deliver(frame)
	}

	private deliver(frame: Frame): void {
		const id = Number(frame.id)
		if (id <= this.lastId) return
		this.lastId = id
		for (const listener of this.listeners) {
			try {
				listener(frame)
			} catch (error) {
				this.report(error instanceof Error ? error : new Error(String(error)))
			}
		}
		if (this.deliveredWaiters.length)
			for (const waiter of this.deliveredWaiters.filter((w) => w.id <= id)) waiter.resolve()
	}
}

import type { Transport } from './transport'

/**
 * This process's counts as its transport shares them with the other processes (`topic:chat` ->
 * 3, and the connection manager's), kept in one object key by key as they change, and handed to
 * the transport at most once per turn of the event loop. A subscriber's join changes one key:
 * building the object anew at each turn would cost every topic's count, and per-user topics make
 * thousands of them, during a reconnect storm at every turn.
 */
export class SharedCounts {
	readonly #values: Record<string, number> = {}
	/** The keys each group (a key prefix) holds now: few (routes, kinds). */
	readonly #groups = new Map<string, Set<string>>()
	readonly #sources: (() => void)[] = []
	#scheduled = false
	#refreshing = false
	#closed = false

	constructor(private readonly transport: Transport) {}

	/** Sets one count; 0 removes its key. */
	set(key: string, n: number): void {
		if (n > 0) {
			if (this.#values[key] === n) return
			this.#values[key] = n
		} else if (key in this.#values) delete this.#values[key]
		else return
		this.changed()
	}

	/** Sets the counts of a group of keys (`prefix` + name), removing the group's keys not in `counts`. */
	setGroup(prefix: string, counts: Iterable<[string, number]>): void {
		const before = this.#groups.get(prefix) ?? new Set<string>()
		const now = new Set<string>()
		for (const [name, n] of counts) {
			if (n <= 0) continue
			const key = prefix + name
			now.add(key)
			this.#values[key] = n
		}
		for (const key of before) if (!now.has(key)) delete this.#values[key]
		this.#groups.set(prefix, now)
	}

	/**
	 * Adds counts kept elsewhere (the connection manager's): `refresh` copies them in (with set and
	 * setGroup) before each hand-over, and their keeper calls changed() when they change.
	 */
	addSource(refresh: () => void): void {
		this.#sources.push(refresh)
		this.changed()
	}

	/** Something counted changed: the counts are handed over once this turn of the event loop is done. */
	changed(): void {
		if (this.#scheduled || this.#refreshing || this.#closed) return
		this.#scheduled = true
		setImmediate(() => {
			this.#scheduled = false
			if (this.#closed) return
			// What the sources copy in now goes out with this hand-over, not another.
			this.#refreshing = true
			try {
				for (const refresh of this.#sources) refresh()
			} finally {
				this.#refreshing = false
			}
			// The same object each time: the transport reads it when it shares it (see Transport.setCounts).
			this.transport.setCounts(this.#values)
		})
	}

	/** No more counts are handed to the transport. */
	close(): void {
		this.#closed = true
	}
}

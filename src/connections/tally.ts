/**
 * Counts per key; a key whose count falls to zero is removed, so a tally never outgrows what is
 * live. Each count is a box in the map: a stream's open and close each look its keys up once.
 */
export class Tally {
	#counts = new Map<string, { n: number }>()

	add(key: string, by = 1): void {
		const count = this.#counts.get(key)
		if (count) count.n += by
		else this.#counts.set(key, { n: by })
	}

	remove(key: string): void {
		const count = this.#counts.get(key)
		if (!count) return
		if (--count.n <= 0) this.#counts.delete(key)
	}

	get(key: string): number {
		return this.#counts.get(key)?.n ?? 0
	}

	/** A plain-object copy (for JSON). */
	toObject(): Record<string, number> {
		const out: Record<string, number> = {}
		for (const [key, { n }] of this.#counts) out[key] = n
		return out
	}

	*entries(): IterableIterator<[string, number]> {
		for (const [key, { n }] of this.#counts) yield [key, n]
	}
}

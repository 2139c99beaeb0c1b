/** Counts per key; a key whose count falls to zero is removed, so a tally never outgrows what is live. */
export class Tally {
	#counts = new Map<string, number>()

	add(key: string, by = 1): void {
		this.#counts.set(key, (this.#counts.get(key) ?? 0) + by)
	}

	remove(key: string): void {
		const left = (this.#counts.get(key) ?? 0) - 1
		if (left > 0) this.#counts.set(key, left)
		else this.#counts.delete(key)
	}

	get(key: string): number {
		return this.#counts.get(key) ?? 0
	}

	/** A plain-object copy (for JSON). */
	toObject(): Record<string, number> {
		return Object.fromEntries(this.#counts)
	}

	entries(): IterableIterator<[string, number]> {
		return this.#counts.entries()
	}
}

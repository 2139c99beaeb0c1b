import type { RateSample } from './wire'

/** Cumulative totals of a registry, read once per sample. */
export interface Totals {
	opened: number
	closed: number
	events: number
	bytes: number
}

export type { RateSample }

/**
 * Per-second rates from cumulative totals: each sample() reads the totals and
 * keeps the difference from the previous one, divided by the seconds between
 * them, in a ring of the last `keep` samples.
 */
export class Rates {
	#samples: RateSample[] = []
	#last: { totals: Totals; at: number }

	constructor(
		private readonly read: () => Totals,
		private readonly keep = 300,
		now = Date.now()
	) {
		this.#last = { totals: read(), at: now }
	}

	/** Takes a sample now and returns it. */
	sample(now = Date.now()): RateSample {
		const totals = this.read()
		const seconds = Math.max(0.001, (now - this.#last.at) / 1000)
		const { totals: before } = this.#last
		const per = (key: keyof Totals) => Math.max(0, (totals[key] - before[key]) / seconds)
		const sample = { at: now, opened: per('opened'), closed: per('closed'), events: per('events'), bytes: per('bytes') }
		this.#last = { totals, at: now }
		this.#samples.push(sample)
		if (this.#samples.length > this.keep) this.#samples.shift()
		return sample
	}

	/** The samples kept, oldest first. */
	history(): RateSample[] {
		return this.#samples.slice()
	}
}

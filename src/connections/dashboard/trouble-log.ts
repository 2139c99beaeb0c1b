import { TROUBLE_KINDS, type Trouble, type TroubleKind } from '../registry'
import type { TroubleEntry, TroubleSummary } from './wire'

export type { TroubleEntry, TroubleSummary }


/**
 * Counts every trouble by kind and keeps the last `keep` of each kind (a
 * bounded ring per kind, so a flood of one kind does not push out the others).
 * Troubles of one stream within a second are one entry with their count
 * added up (drop-oldest reports each frame it drops).
 */
export class TroubleLog {
	#counts = Object.fromEntries(TROUBLE_KINDS.map((k) => [k, 0])) as Record<TroubleKind, number>
	#recent = Object.fromEntries(TROUBLE_KINDS.map((k) => [k, [] as TroubleEntry[]])) as Record<TroubleKind, TroubleEntry[]>

	constructor(private readonly keep = 5) {}

	add(trouble: Trouble, at = Date.now()): void {
		this.#counts[trouble.kind] += trouble.count
		const recent = this.#recent[trouble.kind]
		const newest = recent[0]
		if (newest && trouble.id !== undefined && newest.id === trouble.id && at - newest.at < 1000) {
			newest.count += trouble.count
			return
		}
		recent.unshift({ ...trouble, at })
		if (recent.length > this.keep) recent.pop()
	}

	summary(): TroubleSummary {
		const recent: Record<string, TroubleEntry[]> = {}
		for (const kind of TROUBLE_KINDS) recent[kind] = this.#recent[kind].map((t) => ({ ...t }))
		return { counts: { ...this.#counts }, recent }
	}
}

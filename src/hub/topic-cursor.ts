import { SluiceError } from '../errors'

/**
 * The id of a frame on a stream of many topics: where the client is in every
 * topic, so a reconnect resumes each exactly. Short ASCII in the characters a
 * browser sends without a CORS preflight (`0-9 a-z .`), stateless (any process,
 * any restart can read it): `t` then one entry per topic, `.` between,
 * each a 4-character tag of the topic's name and its last id, both base 36.
 * `t5k0n2s.0b1xa` is "topic tagged 5k0n at id 100, topic tagged 0b1x at id 10".
 *
 * With at most {@link MAX_TOPICS} topics and ids below 36^10 (3.6e15) an id is
 * under 128 bytes.
 */
export const MAX_TOPICS = 8

const TAG = 4
const TAG_SPACE = 36 ** TAG
const cursorPattern = /^t[0-9a-z]{5,15}(\.[0-9a-z]{5,15})*$/
const utf8 = new TextEncoder()

/** The topic's tag, or its k-th alternative (when two topics of a stream share one). */
function tagOf(topic: string, k: number): string {
	// FNV-1a over the UTF-8 bytes: the same on every process and every restart.
	let h = 0x811c9dc5
	for (const byte of utf8.encode(k === 0 ? topic : `${topic}\u0000${k}`)) h = Math.imul(h ^ byte, 0x01000193) >>> 0
	return (h % TAG_SPACE).toString(36).padStart(TAG, '0')
}

/**
 * The tag of each topic of a stream. Names are taken in sorted order and a
 * name whose tag is already taken gets its next alternative, so the same set
 * of topics always gets the same tags (the chance of sharing one is about
 * 2e-5 for 8 topics; then only a reconnect with a different set of topics may
 * not know the alternative, and that topic replays as a new one).
 */
export function tagsOf(topics: Iterable<string>): Map<string, string> {
	const tags = new Map<string, string>()
	const taken = new Set<string>()
	for (const topic of [...topics].sort()) {
		let k = 0
		let tag = tagOf(topic, k)
		while (taken.has(tag)) tag = tagOf(topic, ++k)
		taken.add(tag)
		tags.set(topic, tag)
	}
	return tags
}

/**
 * The id naming `positions` (topic -> last id sent). The entry of `first` (the
 * topic of the frame it goes with) comes first, so a reader that only wants
 * that frame's own id (sluice/client's tab sharing, to drop a frame it
 * already has) finds it without knowing the tags. (A stream keeps its entries
 * and joins them the same way, without this function's lookups.)
 */
export function cursorOf(tags: Map<string, string>, positions: Map<string, number>, first?: string): string {
	const entries: string[] = []
	for (const [topic, tag] of tags) {
		const at = positions.get(topic)
		if (at === undefined) continue
		if (topic === first) entries.unshift(tag + at.toString(36))
		else entries.push(tag + at.toString(36))
	}
	return 't' + entries.join('.')
}

/** The id of the frame a cursor came with, in its own topic (its first entry). */
export function ownIdOf(cursor: string): number | undefined {
	if (!cursorPattern.test(cursor)) return undefined
	const end = cursor.indexOf('.')
	return Number.parseInt(cursor.slice(1 + TAG, end === -1 ? undefined : end), 36)
}

/** The positions an id names, by tag; undefined when it is not a cursor. */
export function parseCursor(id: string | undefined): Map<string, number> | undefined {
	if (id === undefined || id.length > 256 || !cursorPattern.test(id)) return undefined
	const out = new Map<string, number>()
	for (const entry of id.slice(1).split('.')) out.set(entry.slice(0, TAG), Number.parseInt(entry.slice(TAG), 36))
	return out
}

/** Refuses a set of topics a stream cannot carry: empty, too many, or names that cannot go in a field line. */
export function checkTopics(topics: readonly string[], max = MAX_TOPICS): void {
	if (topics.length === 0) throw new TopicsError('subscribe: give at least one topic')
	if (new Set(topics).size > max)
		throw new TopicsError(`subscribe: at most ${max} topics on one stream (got ${new Set(topics).size}); its resume id must stay under 128 bytes`)
	for (const topic of topics)
		if (typeof topic !== 'string' || topic === '' || /[\r\n\0]/.test(topic))
			throw new TopicsError(`subscribe: a topic must be a non-empty string without CR, LF or NUL (got ${JSON.stringify(topic)})`)
}

/** A set of topics a stream cannot carry (400 when it comes from a request). */
export class TopicsError extends SluiceError {
	constructor(message: string) {
		super('TOPICS_INVALID', message, { status: 400 })
		this.name = 'TopicsError'
	}
}

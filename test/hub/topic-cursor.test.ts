// The resume id of a stream of many topics: short ASCII that needs no CORS preflight, the same
// tags on every process, and what it names read back exactly.
import { expect, test } from 'bun:test'
import { checkTopics, cursorOf, MAX_TOPICS, ownIdOf, parseCursor, tagsOf, TopicsError } from '../../src/hub/topic-cursor'

test('8 topics at ids up to 36^10 stay under 128 bytes, in characters a browser sends without a preflight', () => {
	const topics = Array.from({ length: MAX_TOPICS }, (_, i) => `notifications:user-${i}@example.com`)
	const tags = tagsOf(topics)
	const positions = new Map(topics.map((t, i) => [t, 36 ** 10 - 1 - i]))
	const id = cursorOf(tags, positions, topics[3])
	expect(id.length).toBeLessThan(128)
	expect(id).toMatch(/^[0-9a-z.]+$/)
	const back = parseCursor(id)!
	for (const t of topics) expect(back.get(tags.get(t)!)).toBe(positions.get(t)!)
	expect(ownIdOf(id)).toBe(positions.get(topics[3]!)!)
})

test('tags depend on the set only, not its order; topics that share a tag get distinct ones', () => {
	expect(tagsOf(['b', 'a', 'c'])).toEqual(tagsOf(['c', 'b', 'a']))
	// Find two names with the same primary tag among many: the fallback keeps them apart.
	const seen = new Map<string, string>()
	let pair: [string, string] | undefined
	for (let i = 0; !pair && i < 200_000; i++) {
		const name = `t${i}`
		const tag = tagsOf([name]).get(name)!
		if (seen.has(tag)) pair = [seen.get(tag)!, name]
		else seen.set(tag, name)
	}
	expect(pair).toBeDefined()
	const tags = tagsOf(pair!)
	expect(new Set(tags.values()).size).toBe(2)
	expect(tagsOf([...pair!].reverse())).toEqual(tags)
})

test('what is not a cursor reads as none; bad topic sets are refused', () => {
	for (const id of ['17', 't', 'tABCD1', 't0000', 'x0000a', 't0000a..0001b', 't' + '0'.repeat(300)]) expect(parseCursor(id)).toBeUndefined()
	expect(() => checkTopics([])).toThrow(TopicsError)
	expect(() => checkTopics(['a', 'b\nc'])).toThrow(/CR, LF or NUL/)
	expect(() => checkTopics(Array.from({ length: 9 }, (_, i) => `t${i}`))).toThrow(/at most 8/)
	expect(() => checkTopics(Array.from({ length: 9 }, (_, i) => `t${i}`), 9)).not.toThrow()
})

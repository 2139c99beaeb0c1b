import { describe, expect, test } from 'bun:test'
import { createParser, type EventSourceMessage } from 'eventsource-parser'
import { encodeComment, encodeSse, encodeSseBytes, lastEventIdOf, SseFieldError, type SseEvent } from '../src/sse'

type Parsed = EventSourceMessage | { comment: string } | { retry: number }

/** Parses SSE text with eventsource-parser, the independent oracle. */
function parse(...chunks: string[]): Parsed[] {
	const out: Parsed[] = []
	const parser = createParser({
		onEvent: (e) => out.push({ id: e.id, event: e.event, data: e.data }),
		onComment: (comment) => out.push({ comment }),
		onRetry: (retry) => out.push({ retry })
	})
	for (const c of chunks) parser.feed(c)
	return out
}

describe('encodeSse', () => {
	test('a plain string event', () => {
		expect(encodeSse({ data: 'hello' })).toBe('data: hello\n\n')
	})

	test('fields in a stable order, ending with a blank line', () => {
		expect(encodeSse({ event: 'tick', id: 7, retry: 1000, data: { n: 1 } })).toBe(
			'event: tick\nid: 7\nretry: 1000\ndata: {"n":1}\n\n'
		)
	})

	test('every JSON value is sent: numbers, booleans, null, arrays, objects', () => {
		for (const data of [0, 42, -1.5, true, false, null, [1, 'a'], { a: { b: [] } }])
			expect(parse(encodeSse({ data }))).toEqual([{ id: undefined, event: undefined, data: JSON.stringify(data) }])
	})

	test('multi-line data is split on CR, LF and CRLF into one data line each', () => {
		const text = encodeSse({ data: 'a\nb\r\nc\rd\n\ne' })
		expect(text).toBe('data: a\ndata: b\ndata: c\ndata: d\ndata: \ndata: e\n\n')
		expect(parse(text)).toEqual([{ id: undefined, event: undefined, data: 'a\nb\nc\nd\n\ne' }])
	})

	test('data cannot inject fields or events', () => {
		const evil = 'x\n\nevent: admin\ndata: pwned\nid: 999\r\rretry: 1'
		expect(parse(encodeSse({ data: evil }))).toEqual([
			{ id: undefined, event: undefined, data: 'x\n\nevent: admin\ndata: pwned\nid: 999\n\nretry: 1' }
		])
	})

	test('comments are split like data and ignored by the client', () => {
		expect(encodeSse({ comment: 'one\r\ntwo' })).toBe(': one\n: two\n\n')
		expect(parse(encodeComment('a\rb'))).toEqual([{ comment: 'a' }, { comment: 'b' }])
	})

	test('an empty id is sent, so the client resets its last id', () => {
		expect(encodeSse({ id: '', data: 'x' })).toBe('id: \ndata: x\n\n')
		expect(parse(encodeSse({ id: '', data: 'x' }))).toEqual([{ id: '', event: undefined, data: 'x' }])
	})

	test('retry 0 is sent', () => {
		expect(encodeSse({ retry: 0 })).toBe('retry: 0\n\n')
		expect(parse(encodeSse({ retry: 0 }))).toEqual([{ retry: 0 }])
	})

	test('a named event without data is still dispatched', () => {
		expect(parse(encodeSse({ event: 'ping' }))).toEqual([{ id: undefined, event: 'ping', data: '' }])
	})

	test.each([
		['event', { event: 'a\nb' }],
		['event', { event: 'a\rb' }],
		['event', { event: 'a\0b' }],
		['id', { id: 'a\nb' }],
		['id', { id: 'x\r' }],
		['id', { id: '\0' }]
	] as const)('%s with CR, LF or NUL is refused, naming the field', (field, event) => {
		try {
			encodeSse(event as SseEvent)
			throw new Error('not refused')
		} catch (error) {
			expect(error).toBeInstanceOf(SseFieldError)
			expect((error as SseFieldError).field).toBe(field)
			expect((error as Error).message).toContain(field)
		}
	})

	test.each([-1, 1.5, NaN, Infinity])('retry %p is refused', (retry) => {
		expect(() => encodeSse({ retry })).toThrow(/retry/)
	})

	test('data that has no JSON form is refused, not sent as "undefined"', () => {
		expect(() => encodeSse({ data: () => 1 })).toThrow(/data/)
		expect(() => encodeSse({ data: Symbol('x') })).toThrow(/data/)
	})

	test('bytes are UTF-8', () => {
		const bytes = encodeSseBytes({ data: 'héllo ✓ 🎉' })
		expect(new TextDecoder().decode(bytes)).toBe('data: héllo ✓ 🎉\n\n')
	})
})

describe('lastEventIdOf', () => {
	const req = (url: string, headers: Record<string, string> = {}) => new Request(url, { headers })
	test('reads the header first, then the lastEventId query parameter', () => {
		expect(lastEventIdOf(req('http://x/e', { 'last-event-id': '41' }))).toBe('41')
		expect(lastEventIdOf(req('http://x/e?lastEventId=7'))).toBe('7')
		expect(lastEventIdOf(req('http://x/e?lastEventId=7', { 'last-event-id': '9' }))).toBe('9')
		expect(lastEventIdOf(req('http://x/e'))).toBeUndefined()
	})
	test('ignores a malformed value', () => {
		expect(lastEventIdOf(req('http://x/e?lastEventId=a%0Ab'))).toBeUndefined()
		expect(lastEventIdOf(req('http://x/e?lastEventId=' + 'x'.repeat(1000)))).toBeUndefined()
	})
})

// ---- property test: 10,000+ random events through the encoder and eventsource-parser ----

/** mulberry32: a small seeded PRNG, so a failure can be replayed from its seed. */
function rng(seed: number) {
	return () => {
		seed |= 0
		seed = (seed + 0x6d2b79f5) | 0
		let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
		t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296
	}
}

const seed = Number(process.env.SSE_SEED ?? Date.now() % 1_000_000)
const random = rng(seed)
const int = (n: number) => Math.floor(random() * n)
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!
const pieces = ['a', 'Z', ' ', ':', 'data: ', 'id: 1', 'é', '✓', '🎉', '中文', '\u2028', '\t', '"', '\\', '{', '\uFEFF']
const breaks = ['\n', '\r', '\r\n', '\n\r', '\r\r', '\n\n']

function randomText(allowBreaks: boolean, allowNul: boolean): string {
	const kind = int(10)
	if (kind === 0) return ''
	const length = kind === 1 ? 2000 + int(20_000) : int(30)
	let s = ''
	while (s.length < length) {
		const r = random()
		if (allowBreaks && r < 0.15) s += pick(breaks)
		else if (allowNul && r < 0.18) s += '\0'
		else if (r < 0.3) s += String.fromCodePoint(0x20 + int(0xd700)) // BMP below the surrogates
		else s += pick(pieces)
	}
	return s
}

function randomData(): unknown {
	switch (int(9)) {
		case 0: return undefined
		case 1: return int(1e9) - 5e8
		case 2: return random() < 0.5
		case 3: return null
		case 4: return [randomText(true, true), int(10), { k: randomText(true, false) }]
		case 5: return { text: randomText(true, true), nested: { n: random() } }
		default: return randomText(true, true)
	}
}

function randomEvent(): SseEvent {
	const e: SseEvent = {}
	if (random() < 0.5) e.event = randomText(false, false)
	if (random() < 0.5) e.id = random() < 0.2 ? int(1e6) : randomText(false, false)
	if (random() < 0.1) e.retry = int(100_000)
	if (random() < 0.1) e.comment = randomText(true, true)
	e.data = randomData()
	return e
}

const expectedOf = (e: SseEvent): Parsed[] => {
	const out: Parsed[] = []
	if (e.comment !== undefined) for (const line of e.comment.split(/\r\n|\r|\n/)) out.push({ comment: line })
	if (e.retry !== undefined) out.push({ retry: e.retry })
	const named = e.event !== undefined && e.event !== ''
	if (e.data !== undefined || named) {
		const data =
			e.data === undefined ? '' : typeof e.data === 'string' ? e.data.replace(/\r\n|\r/g, '\n') : JSON.stringify(e.data)
		out.push({ id: e.id === undefined ? undefined : String(e.id), event: named ? e.event : undefined, data })
	}
	return out
}

test(`property: 10,000 random events parse back to what went in (seed ${seed})`, () => {
	const events = Array.from({ length: 10_000 }, randomEvent)
	// One stream, opened the way sse() opens it, as bytes split at random points (also inside
	// multi-byte characters and between CR and LF), decoded as a streaming client would.
	const bytes = Buffer.concat([Buffer.from(encodeComment()), ...events.map((e) => encodeSseBytes(e))])
	const decoder = new TextDecoder()
	const chunks: string[] = []
	for (let at = 0; at < bytes.length; ) {
		const size = 1 + int(random() < 0.5 ? 8 : 4096)
		chunks.push(decoder.decode(bytes.subarray(at, at + size), { stream: true }))
		at += size
	}
	chunks.push(decoder.decode())
	const parsed = parse(...chunks)
	const expected = [{ comment: '' }, ...events.flatMap(expectedOf)]
	expect(parsed.length).toBe(expected.length)
	for (let i = 0; i < expected.length; i++) if (!Bun.deepEquals(parsed[i], expected[i])) expect(parsed[i]).toEqual(expected[i]!)
}, 30_000) // bounded by its count; about 2 s idle, 12 s seen with every core busy

import net from 'node:net'

/** A seeded pseudo-random source (mulberry32): the same seed gives the same cases. */
export function prng(seed: number) {
	let state = seed >>> 0
	const next = () => {
		state = (state + 0x6d2b79f5) >>> 0
		let t = state
		t = Math.imul(t ^ (t >>> 15), t | 1)
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296
	}
	const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1))
	return {
		next,
		int,
		chance: (p: number) => next() < p,
		pick: <T>(items: readonly T[]): T => items[int(0, items.length - 1)]!,
		/** One of `items`, each as likely as its weight. */
		weighted: <T>(items: readonly (readonly [number, T])[]): T => {
			let left = next() * items.reduce((sum, [w]) => sum + w, 0)
			for (const [w, item] of items) if ((left -= w) < 0) return item
			return items.at(-1)![1]
		}
	}
}
export type Prng = ReturnType<typeof prng>

/** One malformed request. */
export interface FuzzCase {
	/** What was sent, in words, for the report. */
	label: string
	method: string
	bytes: Uint8Array
	/**
	 * Well-formed HTTP/1.1 (whatever its values mean): it must be answered with a
	 * status line. A request Bun's parser refuses may be answered 4xx or closed.
	 */
	strict: boolean
	/** The body is shorter than announced: the client hangs up after sending it. */
	truncated: boolean
}

/** The pieces a case is made of; the generator picks among them. */
const STRICT_METHODS = ['GET', 'GET', 'GET', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE']
// Bun's parser closes the connection on a method it does not know, and answers 505 to a request line it cannot read.
const LOOSE_METHODS = ['CONNECT', 'PROPFIND', 'FOO', 'get', 'G\u00e9T', 'M'.repeat(300), '']

const LAST_EVENT_IDS = ['abc', 'Infinity', '-Infinity', '-1', '1e999', 'NaN', '99999999999999999999999', '1.5', '0x10', ' 7 ', '\u0661\u0662', '\ud83d\ude00', 'x'.repeat(5000), '']
const RANGES = ['bytes=abc', 'bytes=5-1', 'bytes=-0', 'bytes=0-', 'bytes=-', `bytes=${'0-1,'.repeat(400)}0-1`, 'bytes=99999999999999999999-', 'bytes=-99999999999999999999', 'items=0-1', 'bytes=1-2-3', 'bytes=0-0, -1', 'bytes=\u00ff-', '']
const CONDITIONALS: [string, string][] = [
	['If-None-Match', '"abc", W/"x", *garbage'],
	['If-Modified-Since', 'yesterday'],
	['If-Range', 'Thu, 99 Foo 9999 99:99:99 GMT'],
	['If-Match', '"'],
	['If-Unmodified-Since', '-1']
]
const CONTENT_TYPES = ['application/x-ndjson', 'application/json', 'text/plain', 'multipart/form-data; boundary=', 'application/x-www-form-urlencoded', ';;;', 'application/json; charset=utf-\u00ff']
const OTHER_HEADERS: [string, () => string][] = [
	['Accept', () => 'text/event-stream'],
	['Accept', () => '*/*;q=abc, text/event-stream;q=9'],
	['Accept-Encoding', () => 'gzip;q=x, br, \u00ff'],
	['Authorization', () => 'Bearer ' + 'a'.repeat(3000)],
	['Authorization', () => 'Basic !!!'],
	['X-Forwarded-For', () => '203.0.113.7, garbage, [::1]:x'],
	['Forwarded', () => 'for="[::1'],
	['X-Total-Items', () => '-1e999'],
	['User-Agent', () => '\u00ff'.repeat(2000)],
	['Cookie', () => ';'.repeat(1000)],
	['Origin', () => 'null']
]

/** Paths made from a route: traversal, NUL, odd encodings, very long ones. Loose ones break the request line. */
function mutatePath(rng: Prng, route: string): { path: string; loose: boolean; label: string } {
	const base = route.replace(/\/$/, '')
	const choices: [string, () => string, boolean][] = [
		['as is', () => route, false],
		['as is', () => route, false],
		['as is', () => route, false],
		['as is', () => route, false],
		['as is', () => route, false],
		['as is', () => route, false],
		['as is', () => route, false],
		['%2e%2e traversal', () => `${base}/%2e%2e/%2e%2e/%2e%2e/etc/passwd`, false],
		['..%2f traversal', () => `${base}/..%2f..%2f..%2fpackage.json`, false],
		['encoded NUL', () => `${base}%00.txt`, false],
		['raw NUL', () => `${base}\0x`, true],
		['bad escapes', () => `${base}/%zz%%/%`, false],
		['unicode', () => `${base}/\u00fc/\ud83d\ude00`, false],
		['long', () => `${base}/${'a'.repeat(rng.int(1_000, 6_000))}`, false],
		['very long', () => `${base}/${'b'.repeat(rng.int(20_000, 80_000))}`, true],
		['double slashes', () => `//${base}//x`, false],
		['asterisk', () => '*', false],
		['absolute form', () => `http://127.0.0.1${route}`, false],
		['odd query', () => `${route}?overwrite=1&x=%ff&=&&a[b]=c&${'q'.repeat(2000)}`, false],
		['backslashes', () => `${base}\\..\\..\\x`, false]
	]
	const [label, make, loose] = rng.pick(choices)
	return { path: make(), loose, label }
}

/** A body, possibly malformed, with how it is framed. */
function makeBody(rng: Prng): { body: Uint8Array; framing: string[]; loose: boolean; truncated: boolean; label: string } {
	const text = (s: string) => new TextEncoder().encode(s)
	const random = (n: number) => Uint8Array.from({ length: n }, () => rng.int(0, 255))
	const kinds: [string, () => Uint8Array][] = [
		['json', () => text('{"message":"hi","sender":"fuzz"}')],
		['ndjson', () => text('{"id":1}\n{"id":2,"x":[1,2]}\n')],
		['wrong json types', () => text('{"message":5,"sender":null,"visitor":[]}')],
		['broken json', () => text('{"message":')],
		['ndjson with bad lines', () => text('{"id":1}\n{oops}\n\n[1,2]\n"x"\n{"id":2}\n')],
		['binary', () => random(rng.int(1, 4096))],
		['long line', () => text('{"id":"' + 'x'.repeat(rng.int(50_000, 300_000)) + '"}\n')],
		['deep nesting', () => text('['.repeat(5000) + ']'.repeat(5000))],
		['unicode', () => text('{"message":"\u00fc\ud83d\ude00\u0000","sender":"\u202e"}\n')]
	]
	const [kind, make] = rng.pick(kinds)
	const body = make()
	type Framed = { framing: string[]; body: Uint8Array; loose: boolean; truncated: boolean }
	const framings: (readonly [number, [string, () => Framed]])[] = [
		[50, ['content-length', () => ({ framing: [`Content-Length: ${body.length}`], body, loose: false, truncated: false })]],
		[
			12,
			[
				'truncated',
				() => ({ framing: [`Content-Length: ${body.length + rng.int(1, 100_000)}`], body, loose: false, truncated: true })
			]
		],
		[18, ['chunked', () => ({ framing: ['Transfer-Encoding: chunked'], body: chunked(body), loose: false, truncated: false })]],
		[5, ['bad chunk sizes', () => ({ framing: ['Transfer-Encoding: chunked'], body: text('zz\r\nabc\r\n-1\r\n\r\n'), loose: true, truncated: false })]],
		[5, ['negative length', () => ({ framing: ['Content-Length: -1'], body, loose: true, truncated: false })]],
		[5, ['two lengths', () => ({ framing: [`Content-Length: ${body.length}`, 'Content-Length: 1'], body, loose: true, truncated: false })]],
		[5, ['length and chunked', () => ({ framing: [`Content-Length: ${body.length}`, 'Transfer-Encoding: chunked'], body, loose: true, truncated: false })]]
	]
	const [framingLabel, frame] = rng.weighted(framings)
	return { ...frame(), label: `${kind} body, ${framingLabel}` }
}

function chunked(body: Uint8Array): Uint8Array {
	const parts: Uint8Array[] = []
	const enc = new TextEncoder()
	for (let at = 0; at < body.length; at += 1000) {
		const piece = body.subarray(at, at + 1000)
		parts.push(enc.encode(`${piece.length.toString(16)}\r\n`), piece, enc.encode('\r\n'))
	}
	parts.push(enc.encode('0\r\n\r\n'))
	return Buffer.concat(parts)
}

/** What a target's cases may carry. */
export interface FuzzOptions {
	/** Header lines (e.g. an admin token) sent with half the requests, so that guarded paths are reached. */
	credentials?: readonly string[]
	/** Send malformed Last-Event-ID values. @default true */
	lastEventId?: boolean
}

/** One random malformed request against one of `routes` (each `METHOD /path`). */
export function fuzzCase(rng: Prng, routes: readonly string[], { credentials = [], lastEventId = true }: FuzzOptions = {}): FuzzCase {
	const [routeMethod = 'GET', route = '/'] = rng.pick(routes).split(' ')
	const looseMethod = rng.chance(0.08)
	const method = looseMethod ? rng.pick(LOOSE_METHODS) : rng.chance(0.75) ? routeMethod : rng.pick(STRICT_METHODS)
	const path = mutatePath(rng, route)
	const labels = [`${JSON.stringify(method.slice(0, 12))} ${path.label} path`]
	let loose = looseMethod || path.loose
	const headers: string[] = []
	if (!rng.chance(0.03)) headers.push('Host: 127.0.0.1')
	else labels.push('no Host')
	if (credentials.length && rng.chance(0.5)) headers.push(...credentials), labels.push('credentials')
	for (let n = rng.int(0, 4); n > 0; n--) {
		const which = rng.weighted([[25, 0], [20, 2], [10, 4], [10, 5], [20, 6], [5, 7], [5, 8], [5, 9]] as const)
		if (which <= 1) {
			if (lastEventId) headers.push(`Last-Event-ID: ${rng.pick(LAST_EVENT_IDS)}`), labels.push('Last-Event-ID')
		} else if (which <= 3) headers.push(`Range: ${rng.pick(RANGES)}`), labels.push('Range')
		else if (which === 4) headers.push(rng.pick(CONDITIONALS).join(': ')), labels.push('conditional')
		else if (which === 5) headers.push(`Content-Type: ${rng.pick(CONTENT_TYPES)}`), labels.push('Content-Type')
		else if (which === 6) {
			const [name, value] = rng.pick(OTHER_HEADERS)
			headers.push(`${name}: ${value()}`)
			labels.push(name)
		} else if (which === 7) {
			headers.push(`X-Big: ${'a'.repeat(rng.int(9_000, 90_000))}`)
			labels.push('oversized header')
			loose = true
		} else if (which === 8) {
			for (let i = 0; i < 120; i++) headers.push(`X-Many-${i}: ${i}`)
			labels.push('120 headers')
			loose = true
		} else {
			headers.push(rng.pick(['NoColonHere', 'Bad Name: x', 'X-Nul: a\0b', ': empty name', 'X-Fold: a\r\n b']))
			labels.push('malformed header line')
			loose = true
		}
	}
	let body: Uint8Array = new Uint8Array()
	let truncated = false
	if (rng.chance(method === 'POST' || method === 'PUT' ? 0.85 : 0.2)) {
		const made = makeBody(rng)
		headers.push(...made.framing)
		body = made.body
		truncated = made.truncated
		loose ||= made.loose
		labels.push(made.label)
	}
	const head = new TextEncoder().encode(`${method} ${path.path} HTTP/1.1\r\n${headers.map((h) => h + '\r\n').join('')}\r\n`)
	return { label: labels.join(', '), method, bytes: Buffer.concat([head, body]), strict: !loose, truncated }
}

/** What came back for one case. */
export interface FuzzAnswer {
	/** 0 when no status line arrived. */
	status: number
	/** Head and the first part of the body, as latin1 text. */
	text: string
	/** The connection closed before a status line arrived. */
	closedUnanswered: boolean
}

/**
 * Sends `bytes` on a fresh socket to 127.0.0.1:port and reads the answer: the
 * head, then the body until it ends, `bodyMs` pass or 256 KB arrived (a stream
 * never ends). A truncated case hangs up right after sending. Gives up after
 * `answerMs` without a status line.
 */
export function sendRaw(
	port: number,
	bytes: Uint8Array,
	{ truncated = false, answerMs = 5000, bodyMs = 150 } = {}
): Promise<FuzzAnswer> {
	return new Promise((resolve) => {
		const socket = net.connect(port, '127.0.0.1')
		let raw = Buffer.alloc(0)
		let done = false
		let bodyTimer: Timer | undefined
		const finish = (closedUnanswered = false) => {
			if (done) return
			done = true
			clearTimeout(answerTimer)
			clearTimeout(bodyTimer)
			socket.destroy()
			const text = raw.toString('latin1')
			const status = /^HTTP\/1\.[01] (\d{3})/.exec(text)
			resolve({ status: status ? Number(status[1]) : 0, text, closedUnanswered: closedUnanswered && !status })
		}
		const answerTimer = setTimeout(() => finish(), answerMs)
		socket.on('error', () => finish(true))
		socket.on('close', () => finish(true))
		socket.on('connect', () => {
			socket.write(bytes)
			if (truncated) socket.end()
		})
		socket.on('data', (chunk: Buffer) => {
			raw = Buffer.concat([raw, chunk])
			const headEnd = raw.indexOf('\r\n\r\n')
			if (headEnd === -1) return
			const length = /\r\ncontent-length: *(\d+)/i.exec(raw.subarray(0, headEnd).toString('latin1'))
			if ((length && raw.length >= headEnd + 4 + Number(length[1])) || raw.length > 256 * 1024) return finish()
			bodyTimer ??= setTimeout(() => finish(), bodyMs)
		})
	})
}

import { describe, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { streaming, type ResponseStream } from '../plugins'
import { negotiateEncoding } from '../src/stream/accept-encoding'
import { openCompressors } from '../src/stream/compression'
import { readNdjsonRecords } from '../src/client'
import { RawClient } from './support/raw-http'
import { startEach, until } from './support/server'
import { CODINGS, chunkedEnded, decodeSoFar, decodeWhole } from './support/compressed'

const start = startEach()

describe('Accept-Encoding negotiation (RFC 9110 §12.5.3)', () => {
	test('the highest q wins; ties go to the server preference zstd > br > gzip', () => {
		expect(negotiateEncoding('gzip, br, zstd')).toBe('zstd')
		expect(negotiateEncoding('gzip, br')).toBe('br')
		expect(negotiateEncoding('gzip;q=1, br;q=0.9, zstd;q=0.8')).toBe('gzip')
		expect(negotiateEncoding('br;q=0.5, GZIP;Q=0.6')).toBe('gzip')
		expect(negotiateEncoding('x-gzip')).toBe('gzip')
		expect(negotiateEncoding('deflate, compress')).toBe('identity')
	})
	test('* stands for every coding not named; q=0 refuses', () => {
		expect(negotiateEncoding('*')).toBe('zstd')
		expect(negotiateEncoding('*;q=0.5, gzip')).toBe('gzip')
		expect(negotiateEncoding('zstd;q=0, *')).toBe('br')
		expect(negotiateEncoding('*;q=0, gzip;q=0.1')).toBe('gzip')
		expect(negotiateEncoding('gzip;q=0, br;q=0, zstd;q=0')).toBe('identity')
	})
	test('identity: when nothing is asked, when it is preferred, and (disregarding the header) when all is refused', () => {
		expect(negotiateEncoding(null)).toBe('identity')
		expect(negotiateEncoding('')).toBe('identity')
		expect(negotiateEncoding('identity')).toBe('identity')
		expect(negotiateEncoding('gzip;q=0.5, identity')).toBe('identity')
		expect(negotiateEncoding('gzip, identity;q=0.5')).toBe('gzip')
		expect(negotiateEncoding('gzip, identity')).toBe('gzip')
		expect(negotiateEncoding('identity;q=0')).toBe('identity')
		expect(negotiateEncoding('*;q=0')).toBe('identity')
	})
	test('a malformed member costs that member only', () => {
		expect(negotiateEncoding('gzip;q=x, br')).toBe('br')
		expect(negotiateEncoding('gzip;q=1.5, br;q=0.2')).toBe('br')
		expect(negotiateEncoding(',,;q=1, \u00ff, gzip')).toBe('gzip')
		expect(negotiateEncoding('zstd', ['gzip'])).toBe('identity')
	})
})

const records = (n: number) => Array.from({ length: n }, (_, id) => ({ id, data: `Record ${id}`, timestamp: '2026-01-01T00:00:00.000Z' }))
const lines = (n: number) => records(n).map((r) => JSON.stringify(r) + '\n').join('')

describe('ndjson() compression', () => {
	test.each(CODINGS)('%s: negotiated, with Content-Encoding and Vary, and the records decode whole', async (coding) => {
		const { port } = start(new Elysia().use(streaming()).get('/x', ({ ndjson }) => ndjson(records(5000))))
		const client = await RawClient.request(port, '/x', { headers: { 'accept-encoding': `${coding}, identity;q=0.5` } })
		await client.waitFor((c) => chunkedEnded(c.raw))
		expect(client.head).toMatch(new RegExp(`\\r\\ncontent-encoding: ${coding}\\r\\n`, 'i'))
		expect(client.head).toMatch(/\r\nvary: Accept-Encoding\r\n/i)
		expect(client.head).toMatch(/\r\ncontent-type: application\/x-ndjson/i)
		const wire = client.bodyBytes
		expect(decodeWhole(coding, wire)).toBe(lines(5000))
		expect(wire.length).toBeLessThan(lines(5000).length * 0.2)
	})

	test('no Accept-Encoding (curl without --compressed): identity, still with Vary; compress: false sends neither', async () => {
		const { port } = start(
			new Elysia()
				.use(streaming())
				.get('/x', ({ ndjson }) => ndjson(records(3)))
				.get('/off', ({ ndjson }) => ndjson(records(3), { compress: false, headers: { vary: 'Origin' } }))
		)
		const plain = await RawClient.request(port, '/x')
		await plain.waitFor((c) => c.body === lines(3))
		expect(plain.head).not.toMatch(/content-encoding/i)
		expect(plain.head).toMatch(/\r\nvary: Accept-Encoding\r\n/i)
		expect(plain.body).toBe(lines(3))
		const off = await RawClient.request(port, '/off', { headers: { 'accept-encoding': 'gzip' } })
		await off.waitFor((c) => c.body === lines(3))
		expect(off.head).not.toMatch(/content-encoding/i)
		expect(off.head).toMatch(/\r\nvary: Origin\r\n/i)
		expect(off.body).toBe(lines(3))
	})

	test('the option picks codings and levels; a user Vary is kept and extended', async () => {
		const { port } = start(
			new Elysia()
				.use(streaming({ ndjson: { compress: { encodings: ['gzip'], level: { gzip: 1 } } } }))
				.get('/x', ({ ndjson }) => ndjson(records(100), { headers: { Vary: 'Origin' } }))
		)
		const client = await RawClient.request(port, '/x', { headers: { 'accept-encoding': 'zstd, br, gzip;q=0.1' } })
		await client.waitFor((c) => chunkedEnded(c.raw))
		expect(client.head).toMatch(/\r\ncontent-encoding: gzip\r\n/i)
		expect(client.head).toMatch(/\r\nvary: Origin, Accept-Encoding\r\n/i)
		expect(decodeWhole('gzip', client.bodyBytes)).toBe(lines(100))
	})

	test.each(CODINGS)('%s: each batch is flushed: the first record decodes before the producer makes the second', async (coding) => {
		let release!: () => void
		const gate = new Promise<void>((r) => (release = r))
		let second = false
		const { port } = start(
			new Elysia().use(streaming()).get('/x', ({ ndjson }) =>
				ndjson(async function* () {
					yield { n: 1 }
					await gate
					second = true
					yield { n: 2 }
				})
			)
		)
		const client = await RawClient.request(port, '/x', { headers: { 'accept-encoding': coding } })
		let seen = ''
		await until(() => {
			decodeSoFar(coding, client.bodyBytes).then((t) => (seen = t))
			return seen === '{"n":1}\n'
		}, 3000, 'the first record, decoded')
		expect(second).toBe(false)
		release()
		await client.waitFor((c) => chunkedEnded(c.raw))
		expect(decodeWhole(coding, client.bodyBytes)).toBe('{"n":1}\n{"n":2}\n')
	})

	test.each(CODINGS)('%s: a record after a pause is compressed and on the socket before send() returns, then a burst is joined', async (coding) => {
		// bytesSent read in the same tick as the write: compression on zlib's thread pool would leave it unchanged.
		const seen: number[] = []
		const { port } = start(
			new Elysia().use(streaming()).get('/x', ({ ndjson }) =>
				ndjson(async (h) => {
					await h.sleep(50)
					for (const round of [0, 1]) {
						const before = h.stream.bytesSent
						const sent = h.send({ round })
						seen.push(h.stream.bytesSent - before)
						for (let i = 0; i < 50; i++) await h.send({ round, i })
						await sent
						await h.sleep(30)
					}
					h.close()
				})
			)
		)
		const client = await RawClient.request(port, '/x', { headers: { 'accept-encoding': coding } })
		await client.waitFor((c) => chunkedEnded(c.raw))
		const want = [0, 1].map((round) => JSON.stringify({ round }) + '\n' + Array.from({ length: 50 }, (_, i) => JSON.stringify({ round, i }) + '\n').join('')).join('')
		expect(decodeWhole(coding, client.bodyBytes)).toBe(want)
		expect(seen.length).toBe(2)
		for (const bytes of seen) expect(bytes).toBeGreaterThan(0)
	})

	test('records sent one by one through the handle are flushed per burst, not per record', async () => {
		const { port } = start(
			new Elysia().use(streaming()).get('/x', ({ ndjson }) =>
				ndjson(async (h) => {
					for (const r of records(2000)) await h.send(r)
					h.close()
				})
			)
		)
		const client = await RawClient.request(port, '/x', { headers: { 'accept-encoding': 'gzip' } })
		await client.waitFor((c) => chunkedEnded(c.raw))
		expect(decodeWhole('gzip', client.bodyBytes)).toBe(lines(2000))
		// A flush per record would cost about 5 bytes each on top of the records' own.
		expect(client.bodyBytes.length).toBeLessThan(lines(2000).length * 0.2)
	})

	test('a producer error ends the compressed stream with its error line, decodable', async () => {
		const { port } = start(
			new Elysia().use(streaming()).get('/x', ({ ndjson }) =>
				ndjson(async function* () {
					yield { n: 1 }
					throw new Error('boom')
				})
			)
		)
		const client = await RawClient.request(port, '/x', { headers: { 'accept-encoding': 'br' } })
		await client.waitFor((c) => chunkedEnded(c.raw))
		const text = decodeWhole('br', client.bodyBytes)
		expect(text.split('\n')[1]).toBe(JSON.stringify({ error: 'boom', records: 1 }))
	})

	test.each(CODINGS)('%s: a client that leaves mid-stream stops the producer and frees the compressor', async (coding) => {
		const before = openCompressors()
		let ended = false
		let produced = 0
		const { port } = start(
			new Elysia().use(streaming()).get('/x', ({ ndjson }) =>
				ndjson(async function* () {
					try {
						for (;;) {
							produced++
							yield { produced, pad: crypto.randomUUID() }
						}
					} finally {
						ended = true
					}
				})
			)
		)
		const client = await RawClient.request(port, '/x', { headers: { 'accept-encoding': coding } })
		await client.waitFor((c) => c.bodyBytes.length > 100_000)
		expect(openCompressors()).toBe(before + 1)
		client.destroy()
		await until(() => ended, 2000, "the producer's finally")
		await until(() => openCompressors() === before, 2000, 'the compressor freed')
		expect(produced).toBeGreaterThan(0)
	})

	test('a slow client holds the producer back: the compressor queue counts as unsent', async () => {
		let produced = 0
		let stream: ResponseStream | undefined
		const total = 1_000_000 // about 100 MB of records, 55 MB compressed
		const { port } = start(
			new Elysia().use(streaming()).get('/x', ({ ndjson }) =>
				ndjson(async function* (handle) {
					stream = handle.stream
					// Random text compresses to about half: the sockets fill quickly.
					for (let i = 0; i < total; i++) {
						const record = { i, pad: crypto.randomUUID() + crypto.randomUUID() }
						produced += JSON.stringify(record).length + 1
						yield record
					}
				})
			)
		)
		const client = await RawClient.request(port, '/x', { headers: { 'accept-encoding': 'gzip' } })
		await client.waitFor((c) => c.status === 200)
		client.pause()
		let last = -1
		while (produced !== last) {
			last = produced
			await Bun.sleep(200)
		}
		// Paused: the producer waits once the sockets (a few MB each way, about twice that in
		// records before compression) are full, far short of the whole; the server holds little.
		expect(produced).toBeLessThan(40 * 2 ** 20)
		expect(stream!.unsentBytes).toBeLessThan(2 * 2 ** 20)
		expect(stream!.closed).toBe(false)
		client.destroy()
	})
})

describe('sluice/client and fetch with compressed NDJSON', () => {
	test.each(CODINGS)('%s: fetch decompresses and readNdjsonRecords reads every record', async (coding) => {
		const { url } = start(new Elysia().use(streaming()).get('/x', ({ ndjson }) => ndjson(records(3000))))
		const response = await fetch(`${url}/x`, { headers: { 'accept-encoding': coding } })
		expect(response.headers.get('content-encoding')).toBe(coding)
		const got = []
		for await (const r of readNdjsonRecords(response)) got.push(r)
		expect(got).toEqual(records(3000))
	})

	test("fetch's own Accept-Encoding gets zstd; a record arrives through readNdjsonRecords before the producer goes on", async () => {
		let release!: () => void
		const gate = new Promise<void>((r) => (release = r))
		let second = false
		const { url } = start(
			new Elysia().use(streaming()).get('/x', ({ ndjson }) =>
				ndjson(async function* () {
					yield { n: 1 }
					await gate
					second = true
					yield { n: 2 }
				})
			)
		)
		const response = await fetch(`${url}/x`)
		expect(response.headers.get('content-encoding')).toBe('zstd')
		const it = readNdjsonRecords<{ n: number }>(response)
		expect((await it.next()).value).toEqual({ n: 1 })
		expect(second).toBe(false)
		release()
		expect((await it.next()).value).toEqual({ n: 2 })
		expect((await it.next()).done).toBe(true)
	})

	test('curl --compressed reads it', async () => {
		const { url } = start(new Elysia().use(streaming()).get('/x', ({ ndjson }) => ndjson(records(500))))
		const proc = Bun.spawn(['curl', '-sS', '--compressed', '-D', '-', `${url}/x`], { stdout: 'pipe' })
		const out = await new Response(proc.stdout).text()
		expect(await proc.exited).toBe(0)
		const [head, body] = out.split('\r\n\r\n')
		expect(head).toMatch(/content-encoding: (zstd|br|gzip)/i)
		expect(body).toBe(lines(500))
	})
})

describe('no compressor outlives its stream', () => {
	test('a server whose compressed stream was left mid-way exits by itself once stopped', async () => {
		const child = Bun.spawn(['bun', `${import.meta.dir}/support/compress-exit-server.ts`], { stdout: 'pipe', stderr: 'inherit' })
		const reader = child.stdout.getReader()
		let out = ''
		while (!/port=\d+/.test(out)) {
			const r = await reader.read()
			if (r.done) break
			out += new TextDecoder().decode(r.value)
		}
		const port = Number(/port=(\d+)/.exec(out)![1])
		const client = await RawClient.request(port, '/x', { headers: { 'accept-encoding': 'gzip' } })
		await client.waitFor((c) => c.bodyBytes.length > 50_000)
		client.destroy()
		const exited = await Promise.race([child.exited, Bun.sleep(10_000).then(() => 'still running')])
		for (;;) {
			const r = await reader.read()
			if (r.done) break
			out += new TextDecoder().decode(r.value)
		}
		if (exited === 'still running') child.kill()
		expect(out).toContain('stopped open=0')
		expect(exited).toBe(0)
	})
})

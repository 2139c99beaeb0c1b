import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { streaming } from '../plugins'
import { startEach } from './support/server'
import { decodeWhole, encodeWhole } from './support/compressed'

const start = startEach()
let dir: string
let outside: string
// Text that compresses, of an odd size.
const text = Array.from({ length: 3001 }, (_, i) => `line ${i}: ${'abc'.repeat(i % 17)}`).join('\n')
const siblings = { gzip: encodeWhole('gzip', text), br: encodeWhole('br', text), zstd: encodeWhole('zstd', text) }

beforeAll(async () => {
	dir = await mkdtemp(join(tmpdir(), 'sluice-file-z-'))
	outside = await mkdtemp(join(tmpdir(), 'sluice-file-z-out-'))
	await writeFile(join(dir, 'app.js'), text)
	await writeFile(join(dir, 'app.js.gz'), siblings.gzip)
	await writeFile(join(dir, 'app.js.br'), siblings.br)
	await writeFile(join(dir, 'app.js.zst'), siblings.zstd)
	// A sibling older than its file (left from a previous build) is never served.
	await writeFile(join(dir, 'stale.txt'), text)
	await writeFile(join(dir, 'stale.txt.gz'), encodeWhole('gzip', 'old content'))
	const past = new Date(Date.now() - 3600_000)
	await utimes(join(dir, 'stale.txt.gz'), past, past)
	// A sibling that is a symlink out of the root does not count.
	await writeFile(join(dir, 'linked.txt'), text)
	await writeFile(join(outside, 'secret.gz'), encodeWhole('gzip', 'outside the root'))
	await symlink(join(outside, 'secret.gz'), join(dir, 'linked.txt.gz'))
	await writeFile(join(dir, 'data.json'), JSON.stringify({ rows: Array.from({ length: 500 }, (_, i) => ({ i })) }))
	await writeFile(join(dir, 'tiny.json'), '{"a":1}')
	await writeFile(join(dir, 'photo.png'), Buffer.alloc(5000, 1))
})
afterAll(async () => {
	await rm(dir, { recursive: true, force: true })
	await rm(outside, { recursive: true, force: true })
})

const app = () =>
	new Elysia()
		.use(streaming({ file: { root: dir } }))
		.get('/f/:name', ({ file, params }) => file(params.name))
		.get('/only-gz/:name', ({ file, params }) => file(params.name, { precompressed: ['gzip'] }))
		.get('/none/:name', ({ file, params }) => file(params.name, { precompressed: false }))
		.get('/fly/:name', ({ file, params }) => file(params.name, { compress: true }))
		.get('/fly-gz/:name', ({ file, params }) => file(params.name, { compress: { encodings: ['gzip'], minBytes: 1 } }))

const get = (url: string, headers: Record<string, string> = {}) => fetch(url, { headers, decompress: false })
const bytes = async (res: Response) => Buffer.from(await res.arrayBuffer())

describe('file(): precompressed siblings', () => {
	test('the sibling the client prefers is sent as it is, with its coding, Vary, the file type and its own ETag', async () => {
		const { url } = start(app())
		const identity = await get(`${url}/f/app.js`, { 'accept-encoding': 'identity' })
		const idTag = identity.headers.get('etag')!
		expect(identity.headers.get('content-encoding')).toBeNull()
		expect(identity.headers.get('vary')).toBe('Accept-Encoding')
		expect((await bytes(identity)).toString()).toBe(text)
		const tags = new Set([idTag])
		for (const [accept, coding] of [
			['gzip, br, zstd', 'zstd'],
			['gzip, br', 'br'],
			['gzip', 'gzip'],
			['br;q=0.5, gzip', 'gzip'],
			['*', 'zstd']
		] as const) {
			const res = await get(`${url}/f/app.js`, { 'accept-encoding': accept })
			expect(res.status).toBe(200)
			expect(res.headers.get('content-encoding')).toBe(coding)
			expect(res.headers.get('vary')).toBe('Accept-Encoding')
			expect(res.headers.get('content-type')).toMatch(/javascript/)
			expect(res.headers.get('content-length')).toBe(String(siblings[coding].length))
			expect(res.headers.get('etag')).toEndWith(`-${coding}"`)
			tags.add(res.headers.get('etag')!)
			const body = await bytes(res)
			expect(body.equals(siblings[coding])).toBe(true)
			expect(decodeWhole(coding, body)).toBe(text)
		}
		expect(tags.size).toBe(4)
	})

	test('no Accept-Encoding, a refused coding, precompressed: false: the file itself', async () => {
		const { url } = start(app())
		const plain = await get(`${url}/f/app.js`)
		expect(plain.headers.get('content-encoding')).toBeNull()
		expect(plain.headers.get('vary')).toBe('Accept-Encoding')
		expect(await plain.text()).toBe(text)
		const refused = await get(`${url}/f/app.js`, { 'accept-encoding': 'gzip;q=0, br;q=0, zstd;q=0' })
		expect(refused.headers.get('content-encoding')).toBeNull()
		const onlyGz = await get(`${url}/only-gz/app.js`, { 'accept-encoding': 'zstd, br, gzip' })
		expect(onlyGz.headers.get('content-encoding')).toBe('gzip')
		const none = await get(`${url}/none/app.js`, { 'accept-encoding': 'gzip' })
		expect(none.headers.get('content-encoding')).toBeNull()
		expect(none.headers.get('vary')).toBeNull()
	})

	test('a stale sibling and a sibling that leads out of the root are ignored', async () => {
		const { url } = start(app())
		for (const name of ['stale.txt', 'linked.txt']) {
			const res = await get(`${url}/f/${name}`, { 'accept-encoding': 'gzip' })
			expect(res.headers.get('content-encoding')).toBeNull()
			expect(await res.text()).toBe(text)
		}
	})

	test('Range and If-Range apply to the sibling bytes; 304 and 412 to its ETag', async () => {
		const { url } = start(app())
		const full = await get(`${url}/f/app.js`, { 'accept-encoding': 'br' })
		const tag = full.headers.get('etag')!
		const part = await get(`${url}/f/app.js`, { 'accept-encoding': 'br', range: 'bytes=10-99', 'if-range': tag })
		expect(part.status).toBe(206)
		expect(part.headers.get('content-encoding')).toBe('br')
		expect(part.headers.get('content-range')).toBe(`bytes 10-99/${siblings.br.length}`)
		expect((await bytes(part)).equals(siblings.br.subarray(10, 100))).toBe(true)
		const suffix = await get(`${url}/f/app.js`, { 'accept-encoding': 'br', range: 'bytes=-5' })
		expect((await bytes(suffix)).equals(siblings.br.subarray(-5))).toBe(true)
		// The identity tag does not validate the br bytes: If-Range fails, the whole sibling is sent.
		const idTag = (await get(`${url}/f/app.js`)).headers.get('etag')!
		const voided = await get(`${url}/f/app.js`, { 'accept-encoding': 'br', range: 'bytes=10-99', 'if-range': idTag })
		expect(voided.status).toBe(200)
		expect((await bytes(voided)).equals(siblings.br)).toBe(true)
		const cached = await get(`${url}/f/app.js`, { 'accept-encoding': 'br', 'if-none-match': tag })
		expect(cached.status).toBe(304)
		expect(cached.headers.get('vary')).toBe('Accept-Encoding')
		const otherCoding = await get(`${url}/f/app.js`, { 'accept-encoding': 'gzip', 'if-none-match': tag })
		expect(otherCoding.status).toBe(200)
		const mismatch = await get(`${url}/f/app.js`, { 'accept-encoding': 'br', 'if-match': idTag })
		expect(mismatch.status).toBe(412)
		const head = await fetch(`${url}/f/app.js`, { method: 'HEAD', headers: { 'accept-encoding': 'zstd' }, decompress: false })
		expect(head.headers.get('content-encoding')).toBe('zstd')
		expect(head.headers.get('content-length')).toBe(String(siblings.zstd.length))
	})
})

describe('file(): on-the-fly compression', () => {
	test('off by default: a JSON file is sent as it is, by Range', async () => {
		const { url } = start(app())
		const res = await get(`${url}/f/data.json`, { 'accept-encoding': 'gzip' })
		expect(res.headers.get('content-encoding')).toBeNull()
		expect(res.headers.get('vary')).toBeNull()
		expect(res.headers.get('accept-ranges')).toBe('bytes')
	})

	test('compress: true compresses compressible types whole (200, no Range), with a coded ETag and 304', async () => {
		const { url } = start(app())
		const json = await Bun.file(join(dir, 'data.json')).text()
		for (const coding of ['gzip', 'br', 'zstd'] as const) {
			const res = await get(`${url}/fly/data.json`, { 'accept-encoding': coding, range: 'bytes=0-9' })
			expect(res.status).toBe(200)
			expect(res.headers.get('content-encoding')).toBe(coding)
			expect(res.headers.get('vary')).toBe('Accept-Encoding')
			expect(res.headers.get('accept-ranges')).toBe('none')
			expect(res.headers.get('etag')).toEndWith(`-${coding}"`)
			const body = await bytes(res)
			expect(body.length).toBeLessThan(json.length / 3)
			expect(decodeWhole(coding, body)).toBe(json)
			const again = await get(`${url}/fly/data.json`, { 'accept-encoding': coding, 'if-none-match': res.headers.get('etag')! })
			expect(again.status).toBe(304)
		}
		const plain = await get(`${url}/fly/data.json`, { range: 'bytes=0-9' })
		expect(plain.status).toBe(206)
		expect(plain.headers.get('vary')).toBe('Accept-Encoding')
	})

	test('tiny files and types that are compressed already are sent as they are; options choose codings and the size', async () => {
		const { url } = start(app())
		for (const name of ['tiny.json', 'photo.png']) {
			const res = await get(`${url}/fly/${name}`, { 'accept-encoding': 'gzip' })
			expect(res.headers.get('content-encoding')).toBeNull()
		}
		const small = await get(`${url}/fly-gz/tiny.json`, { 'accept-encoding': 'zstd, gzip;q=0.5' })
		expect(small.headers.get('content-encoding')).toBe('gzip')
		expect(decodeWhole('gzip', await bytes(small))).toBe('{"a":1}')
		// A sibling wins over compressing on the fly.
		const sib = await get(`${url}/fly/app.js`, { 'accept-encoding': 'gzip' })
		expect((await bytes(sib)).equals(siblings.gzip)).toBe(true)
	})
})

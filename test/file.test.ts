import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { mkdtemp, mkdir, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { connect } from 'node:net'
import { join } from 'node:path'
import { streaming } from '../plugins'
import { listen, until, type TestServer } from './support/server'
import { RawDownload } from './file-support/raw-get'

// Starlette's README fixture: multi-byte characters, so byte and character offsets differ.
const README = '# BáiZé\n\nPowerful and exquisite WSGI/ASGI framework/toolkit.\n\n'.repeat(8)
const readmeBytes = Buffer.from(README)
const SIZE = readmeBytes.length
let dir: string
let server: TestServer
let app: ReturnType<typeof makeApp>
const big = Buffer.alloc(24 * 1024 * 1024, 7)

const makeApp = (root: string) =>
	new Elysia()
		.use(streaming({ file: { root } }))
		.get('/files/*', ({ file, params }) => file(params['*']))
		.get('/dl/:name', ({ file, params }) => file(params.name, { download: true }))
		.get('/named/:name', ({ file, params }) => file(params.name, { download: 'résumé "final"\r\n.pdf' }))
		.get('/weak/:name', ({ file, params }) => file(params.name, { etag: 'weak', cacheControl: 'max-age=60' }))
		.get('/copy/:name', ({ file, params }) => file(params.name, { zeroCopy: false }))
		.get('/slow/:name', ({ file, params }) => file(params.name, { bytesPerSecond: 400_000 }))
		.get('/dot/*', ({ file, params }) => file(params['*'], { dotfiles: true }))
		.get('/bare/:name', ({ file, params }) => file(params.name, { etag: false, lastModified: false }))
		.get('/conns', ({ connections }) => connections.list())

beforeAll(async () => {
	dir = await mkdtemp(join(tmpdir(), 'sluice-file-'))
	await writeFile(join(dir, 'README.txt'), readmeBytes)
	await writeFile(join(dir, 'empty.txt'), '')
	await writeFile(join(dir, 'big.bin'), big)
	await writeFile(join(dir, '.secret'), 'dotfile')
	await mkdir(join(dir, 'docs'))
	await writeFile(join(dir, 'docs', 'nested.json'), '{"ok":true}')
	await writeFile(join(dir, 'stamp.txt'), 'stamped')
	await writeFile(join(dir, 'résumé.txt'), 'cv')
	await utimes(join(dir, 'stamp.txt'), 1_700_000_000, 1_700_000_000)
	app = makeApp(dir)
	server = listen(app)
})
afterAll(async () => {
	await server.stop()
	await rm(dir, { recursive: true, force: true })
})

const get = (path: string, headers: Record<string, string> = {}, method = 'GET') =>
	fetch(server.url + path, { headers, method })

describe('whole file', () => {
	test('200 with the bytes, Content-Length, Content-Type, Accept-Ranges, ETag, Last-Modified, inline', async () => {
		const res = await get('/files/README.txt')
		expect(res.status).toBe(200)
		expect(Buffer.from(await res.arrayBuffer()).equals(readmeBytes)).toBe(true)
		expect(res.headers.get('content-length')).toBe(String(SIZE))
		expect(res.headers.get('content-type')).toStartWith('text/plain')
		expect(res.headers.get('accept-ranges')).toBe('bytes')
		expect(res.headers.get('etag')).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/)
		expect(res.headers.get('last-modified')).toBe(new Date(Math.floor(Bun.file(join(dir, 'README.txt')).lastModified / 1000) * 1000).toUTCString())
		// Bun would add filename="README.txt" by itself; a served file is inline unless asked
		expect(res.headers.get('content-disposition')).toBe('inline')
	})
	test('nested names and types by extension; an empty file', async () => {
		const res = await get('/files/docs/nested.json')
		expect(res.headers.get('content-type')).toStartWith('application/json')
		expect(await res.json()).toEqual({ ok: true })
		const empty = await get('/files/empty.txt')
		expect(empty.status).toBe(200)
		expect(empty.headers.get('content-length')).toBe('0')
		expect(await empty.text()).toBe('')
	})
	test('HEAD: the same headers, no body', async () => {
		const head = await get('/files/README.txt', {}, 'HEAD')
		const full = await get('/files/README.txt')
		expect(head.status).toBe(200)
		for (const h of ['content-length', 'content-type', 'etag', 'last-modified', 'accept-ranges'])
			expect([h, head.headers.get(h)]).toEqual([h, full.headers.get(h)])
		expect((await head.arrayBuffer()).byteLength).toBe(0)
		await full.arrayBuffer()
		// fetch hides a HEAD body; on the wire nothing may follow the head
		const bytes = await new Promise<string>((resolve) => {
			const s = connect(server.port, '127.0.0.1')
			let got = ''
			s.on('data', (d: Buffer) => (got += d.toString('latin1')))
			s.on('close', () => resolve(got))
			s.write('HEAD /files/big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')
		})
		expect(bytes).toStartWith('HTTP/1.1 200')
		expect(bytes).toContain(`content-length: ${big.length}`)
		expect(bytes.endsWith('\r\n\r\n')).toBe(true)
	})
	test('dotfiles: true serves them', async () => {
		const res = await get('/dot/.secret')
		expect(res.status).toBe(200)
		expect(await res.text()).toBe('dotfile')
	})
	test('a missing file, a directory, a dotfile: 404 with a JSON message', async () => {
		for (const path of ['/files/nope.txt', '/files/docs', '/files/.secret', '/dl/nope.txt']) {
			const res = await get(path)
			expect([path, res.status]).toEqual([path, 404])
			expect(res.headers.get('content-type')).toStartWith('application/json')
			expect(await res.json()).toEqual({ error: 'File not found' })
		}
	})
})

describe('conditional requests (RFC 9110 §13)', () => {
	const validators = async () => {
		const res = await get('/files/stamp.txt')
		await res.arrayBuffer()
		return { etag: res.headers.get('etag')!, modified: res.headers.get('last-modified')! }
	}
	test('If-None-Match with the ETag (strong, weak form, list, *): 304, no body, validators kept', async () => {
		const { etag } = await validators()
		for (const value of [etag, `W/${etag}`, `"zzz", ${etag}`, '*']) {
			const res = await get('/files/stamp.txt', { 'if-none-match': value })
			expect([value, res.status]).toEqual([value, 304])
			expect(res.headers.get('etag')).toBe(etag)
			expect(await res.text()).toBe('')
		}
		expect((await get('/files/stamp.txt', { 'if-none-match': '"other"' })).status).toBe(200)
	})
	test('If-Modified-Since: 304 when not newer, 200 when newer, ignored when invalid or beside If-None-Match', async () => {
		const { modified } = await validators()
		expect(modified).toBe(new Date(1_700_000_000_000).toUTCString())
		expect((await get('/files/stamp.txt', { 'if-modified-since': modified })).status).toBe(304)
		expect((await get('/files/stamp.txt', { 'if-modified-since': new Date(1_800_000_000_000).toUTCString() })).status).toBe(304)
		expect((await get('/files/stamp.txt', { 'if-modified-since': new Date(1_600_000_000_000).toUTCString() })).status).toBe(200)
		expect((await get('/files/stamp.txt', { 'if-modified-since': 'yesterday-ish' })).status).toBe(200)
		expect((await get('/files/stamp.txt', { 'if-none-match': '"other"', 'if-modified-since': modified })).status).toBe(200)
	})
	test('If-Match and If-Unmodified-Since: 412 when they fail, 200 when they hold', async () => {
		const { etag, modified } = await validators()
		expect((await get('/files/stamp.txt', { 'if-match': '"other"' })).status).toBe(412)
		expect((await get('/files/stamp.txt', { 'if-match': `W/${etag}` })).status).toBe(412)
		expect((await get('/files/stamp.txt', { 'if-match': etag })).status).toBe(200)
		expect((await get('/files/stamp.txt', { 'if-unmodified-since': new Date(1_600_000_000_000).toUTCString() })).status).toBe(412)
		expect((await get('/files/stamp.txt', { 'if-unmodified-since': modified })).status).toBe(200)
	})
	test('weak ETags: If-None-Match still matches, If-Range never does; Cache-Control sent on 200 and 304', async () => {
		const first = await get('/weak/README.txt')
		await first.arrayBuffer()
		const etag = first.headers.get('etag')!
		expect(etag).toStartWith('W/"')
		expect(first.headers.get('cache-control')).toBe('max-age=60')
		const cached = await get('/weak/README.txt', { 'if-none-match': etag })
		expect(cached.status).toBe(304)
		expect(cached.headers.get('cache-control')).toBe('max-age=60')
		const ranged = await get('/weak/README.txt', { range: 'bytes=0-9', 'if-range': etag })
		expect(ranged.status).toBe(200)
		expect((await ranged.arrayBuffer()).byteLength).toBe(SIZE)
	})
})

test('etag: false and lastModified: false send neither; their preconditions and If-Range no longer apply', async () => {
	const res = await get('/bare/stamp.txt', { 'if-modified-since': new Date(1_800_000_000_000).toUTCString() })
	expect(res.status).toBe(200)
	expect(res.headers.get('etag')).toBeNull()
	expect(res.headers.get('last-modified')).toBeNull()
	expect(await res.text()).toBe('stamped')
	expect((await get('/bare/stamp.txt', { 'if-match': '"x"' })).status).toBe(412)
	const ranged = await get('/bare/stamp.txt', { range: 'bytes=0-1', 'if-range': new Date(1_700_000_000_000).toUTCString() })
	expect(ranged.status).toBe(200)
	expect(await ranged.text()).toBe('stamped')
	const plain = await get('/bare/stamp.txt', { range: 'bytes=0-1' })
	expect(plain.status).toBe(206)
	expect(await plain.text()).toBe('st')
})

describe('ranges (RFC 9110 §14, Starlette FileResponse cases)', () => {
	const slice = (a: number, b: number) => readmeBytes.subarray(a, b + 1)
	const expectRange = async (range: string, start: number, end: number, path = '/files/README.txt') => {
		const res = await get(path, { range })
		expect([range, res.status]).toEqual([range, 206])
		expect(res.headers.get('content-range')).toBe(`bytes ${start}-${end}/${SIZE}`)
		expect(res.headers.get('content-length')).toBe(String(end - start + 1))
		expect(Buffer.from(await res.arrayBuffer()).equals(slice(start, end))).toBe(true)
	}
	test('single, open, suffix, clipped at the end', async () => {
		await expectRange('bytes=0-99', 0, 99)
		await expectRange('bytes=3-3', 3, 3)
		await expectRange(`bytes=${SIZE - 10}-`, SIZE - 10, SIZE - 1)
		await expectRange('bytes=-10', SIZE - 10, SIZE - 1)
		await expectRange('bytes=-100000', 0, SIZE - 1)
		await expectRange(`bytes=100-${SIZE + 500}`, 100, SIZE - 1)
	})
	test('overlapping ranges merge into one (bytes=0-100, 50-200)', async () => {
		await expectRange('bytes=0-100, 50-200', 0, 200)
	})
	test('several ranges: multipart/byteranges, parts in order with their Content-Range', async () => {
		const res = await get('/files/README.txt', { range: 'bytes=100-200, 0-50' })
		expect(res.status).toBe(206)
		const type = res.headers.get('content-type')!
		expect(type).toStartWith('multipart/byteranges; boundary=')
		expect(res.headers.get('content-range')).toBeNull()
		const boundary = type.split('boundary=')[1]!
		const body = Buffer.from(await res.arrayBuffer())
		const expected = Buffer.concat([
			Buffer.from(`--${boundary}\r\nContent-Type: text/plain;charset=utf-8\r\nContent-Range: bytes 0-50/${SIZE}\r\n\r\n`),
			slice(0, 50),
			Buffer.from(`\r\n--${boundary}\r\nContent-Type: text/plain;charset=utf-8\r\nContent-Range: bytes 100-200/${SIZE}\r\n\r\n`),
			slice(100, 200),
			Buffer.from(`\r\n--${boundary}--\r\n`)
		])
		expect(body.equals(expected)).toBe(true)
	})
	test('unsatisfiable: 416 with Content-Range: bytes */size', async () => {
		for (const range of [`bytes=${SIZE}-`, `bytes=${SIZE + 1}-${SIZE + 10}`, 'bytes=-0']) {
			const res = await get('/files/README.txt', { range })
			expect([range, res.status]).toEqual([range, 416])
			expect(res.headers.get('content-range')).toBe(`bytes */${SIZE}`)
			await res.arrayBuffer()
		}
	})
	test('malformed Range, another unit, or Range on HEAD: ignored, 200 with the whole file', async () => {
		for (const range of ['bytes=', 'items=0-100', 'bytes=100-0', 'bytes=abc', 'bytes=0-1;2-3']) {
			const res = await get('/files/README.txt', { range })
			expect([range, res.status]).toEqual([range, 200])
			expect((await res.arrayBuffer()).byteLength).toBe(SIZE)
		}
		const head = await get('/files/README.txt', { range: 'bytes=0-9' }, 'HEAD')
		expect(head.status).toBe(200)
		expect(head.headers.get('content-length')).toBe(String(SIZE))
	})
	test('If-Range: a matching ETag or date gives the range, a stale one the whole file', async () => {
		const res = await get('/files/README.txt')
		await res.arrayBuffer()
		const etag = res.headers.get('etag')!
		const modified = res.headers.get('last-modified')!
		const ranged = async (ifRange: string) => {
			const r = await get('/files/README.txt', { range: 'bytes=0-9', 'if-range': ifRange })
			await r.arrayBuffer()
			return r.status
		}
		expect(await ranged(etag)).toBe(206)
		expect(await ranged(modified)).toBe(206)
		expect(await ranged('"stale"')).toBe(200)
		expect(await ranged(new Date(Date.parse(modified) - 1000).toUTCString())).toBe(200)
	})
	test('If-None-Match is evaluated before Range: 304, not 206', async () => {
		const res = await get('/files/README.txt')
		await res.arrayBuffer()
		const cached = await get('/files/README.txt', { range: 'bytes=0-9', 'if-none-match': res.headers.get('etag')! })
		expect(cached.status).toBe(304)
	})
	test('streamed path (zeroCopy: false) sends the same ranges and multipart bytes', async () => {
		// a streamed body goes out chunked (Bun drops Content-Length on it): check the bytes and Content-Range
		const res = await get('/copy/README.txt', { range: 'bytes=5-60' })
		expect(res.status).toBe(206)
		expect(res.headers.get('content-range')).toBe(`bytes 5-60/${SIZE}`)
		expect(Buffer.from(await res.arrayBuffer()).equals(slice(5, 60))).toBe(true)
		const full = await get('/copy/README.txt')
		expect(Buffer.from(await full.arrayBuffer()).equals(readmeBytes)).toBe(true)
	})
})

describe('Content-Disposition', () => {
	test('download: true uses the name', async () => {
		const res = await get('/dl/README.txt')
		await res.arrayBuffer()
		expect(res.headers.get('content-disposition')).toBe('attachment; filename="README.txt"')
	})
	test('a non-ASCII file name on disk: ASCII fallback and filename*', async () => {
		const res = await get('/dl/r%C3%A9sum%C3%A9.txt')
		expect(await res.text()).toBe('cv')
		expect(res.headers.get('content-disposition')).toBe(`attachment; filename="r_sum_.txt"; filename*=UTF-8''r%C3%A9sum%C3%A9.txt`)
	})
	test('a chosen name gets an ASCII fallback and filename*, no quote or newline leaks', async () => {
		const res = await get('/named/README.txt')
		await res.arrayBuffer()
		expect(res.headers.get('content-disposition')).toBe(
			`attachment; filename="r_sum_ _final_.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.pdf`
		)
	})
})

describe('connection registry and bandwidth', () => {
	// Earlier tests' downloads leave the registry within a poll interval of ending.
	beforeEach(() => until(() => app.decorator.connections.count === 0, 1000, 'earlier downloads to leave'))
	const conns = async () => (await (await get('/conns')).json()) as { kind: string; route: string; address: string; bytesSent: number; id: number }[]

	test('a zero-copy download is registered while it runs (route, client) and removed when it ends', async () => {
		const d = new RawDownload(server.port, '/files/big.bin')
		d.socket.pause()
		await until(() => d.head !== '' || d.socket.bytesRead > 0, 2000, 'response head')
		const live = (await conns()).filter((c) => c.kind === 'file')
		expect(live).toHaveLength(1)
		expect(live[0]!.route).toBe('/files/*')
		expect(live[0]!.address).toBe('127.0.0.1')
		d.socket.resume()
		await d.ended
		expect(d.bodyBytes).toBe(big.length)
		// Bun frees the request once sendfile is done; the transfer notices within a poll interval
		await until(() => app.decorator.connections.count === 0, 1000, 'download to leave the registry')
	})

	test('closing a zero-copy download only forgets it: Bun cannot cut sendfile short', async () => {
		const d = new RawDownload(server.port, '/files/big.bin')
		d.socket.pause()
		await until(() => app.decorator.connections.count === 1, 2000, 'download registered')
		const [c] = app.decorator.connections.list()
		expect(app.decorator.connections.close(c!.id)).toBe(true)
		expect(app.decorator.connections.count).toBe(0)
		d.socket.resume()
		await d.ended
		expect(d.bodyBytes).toBe(big.length)
	})

	test('a client that leaves mid-download is removed', async () => {
		const d = new RawDownload(server.port, '/files/big.bin')
		d.socket.pause()
		await until(() => app.decorator.connections.count === 1, 2000, 'download registered')
		d.socket.destroy()
		await until(() => app.decorator.connections.count === 0, 1000, 'download to leave the registry')
	})

	test('a streamed download counts bytes live and the connection manager can close it', async () => {
		const d = new RawDownload(server.port, '/copy/big.bin')
		await until(() => d.bodyBytes > 0, 2000, 'first bytes')
		d.socket.pause()
		await until(() => (app.decorator.connections.list()[0]?.bytesSent ?? 0) > 0, 2000, 'bytes counted')
		const [c] = await conns()
		expect(c!.kind).toBe('file')
		expect(c!.bytesSent).toBeGreaterThan(0)
		expect(c!.bytesSent).toBeLessThan(big.length)
		expect(app.decorator.connections.close(c!.id)).toBe(true)
		d.socket.resume()
		await d.ended
		expect(d.bodyBytes).toBeLessThan(big.length)
		expect(app.decorator.connections.count).toBe(0)
	})

	test('bytesPerSecond holds a download to its rate (400 KB/s: 200 KB take at least ~0.5 s)', async () => {
		const d = new RawDownload(server.port, '/slow/README.txt', { range: 'bytes=0-9' }, true)
		await d.ended
		expect(d.status).toBe(206)
		// never Content-Length beside chunked framing (the seed's defect)
		expect(d.header('transfer-encoding') !== undefined && d.header('content-length') !== undefined).toBe(false)
		expect(d.body().includes(readmeBytes.subarray(0, 10))).toBe(true)
		const started = performance.now()
		const res = await get('/slow/big.bin', { range: 'bytes=0-199999' })
		expect(res.status).toBe(206)
		// while it runs, the registry sees its bytes grow
		await until(() => (app.decorator.connections.list()[0]?.bytesSent ?? 0) > 0, 2000, 'paced bytes counted')
		const live = app.decorator.connections.list()[0]!
		expect(live.route).toBe('/slow/:name')
		expect(live.bytesSent).toBeLessThan(200_000)
		const body = Buffer.from(await res.arrayBuffer())
		const elapsed = performance.now() - started
		expect(body.equals(big.subarray(0, 200_000))).toBe(true)
		expect(elapsed).toBeGreaterThan(450)
	})
})

// The dashboard's engine and routes over real sockets (the page itself: dashboard-browser.test.ts).
import { afterEach, describe, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { streaming, ResponseStream, type ConnectionsOptions } from '../../plugins'
import { ConnectionRegistry, type Trouble } from '../../src/connections'
import { Dashboard, ProcessBoard, Rates, TOPICS_SHOWN, TroubleLog, tokenCookie, type DashboardSummary, type ConnectionsPage } from '../../src/connections/dashboard'
import { memory } from '../../src/hub'
import { listen, until, type TestServer } from '../support/server'
import { RawClient } from '../support/raw-http'
import { readSse, type SseReader } from '../support/sse-reader'

let server: TestServer | undefined
const clients: RawClient[] = []
const readers: SseReader[] = []
afterEach(async () => {
	for (const c of clients.splice(0)) c.destroy()
	for (const r of readers.splice(0)) r.close()
	await server?.stop()
	server = undefined
})

const TOKEN = 'open-sesame'
const bearer = { authorization: `Bearer ${TOKEN}` }
const cookie = { cookie: `sluice_dashboard=${TOKEN}` }

function start(connections: Omit<ConnectionsOptions, 'routes'> = {}) {
	const app = new Elysia()
		// The failing producer's error goes to the app's hooks: here, nowhere (the test looks at the page).
		.onError(() => new Response('failed', { status: 500 }))
		.use(
			streaming({
				broadcast: { slowConsumer: 'drop-oldest', maxUnsentBytes: 4096 },
				connections: {
					maxPerAddress: 0,
					...connections,
					routes: {
						// Like the examples': a bearer token, 401 without one, 403 with a wrong one.
						guard: ({ request }) => {
							const header = request.headers.get('authorization')
							if (!header) return new Response('token required', { status: 401 })
							return header === `Bearer ${TOKEN}`
						},
						snapshot: '/connections',
						dashboard: '/_sluice'
					}
				}
			})
		)
		.get('/s', ({ sse }) => sse(async (s) => void (await s.sleep(60_000))))
		.get('/fail', ({ sse }) =>
			sse(async (s) => {
				await s.send('tick', 1)
				throw new Error('producer failed')
			})
		)
		.get('/room', ({ subscribe }) => subscribe('room'))
		.get('/rooms', ({ subscribe }) => subscribe(['room', 'lobby']))
	server = listen(app)
	return { app, registry: app.decorator.connections, hub: app.decorator.broadcast, url: server.url, port: server.port }
}

async function open(port: number, path: string, headers: Record<string, string> = {}) {
	const client = await RawClient.request(port, path, { headers })
	clients.push(client)
	await client.waitFor((c) => c.status > 0)
	return client
}

/** True once the response's chunked body has ended (the connection may stay open). */
const ended = (c: RawClient) => c.closed || c.raw.subarray(-5).toString() === '0\r\n\r\n'

async function feed(url: string, query = '') {
	const reader = await readSse(`${url}/_sluice/feed${query}`, { headers: cookie })
	readers.push(reader)
	expect(reader.status).toBe(200)
	return reader
}
const latest = <T>(reader: SseReader, event: string): T | undefined => {
	const found = reader.events.findLast((e) => e.event === event)
	return found && JSON.parse(found.data)
}

describe('trouble, rates and processes', () => {
	test('the registry reports troubled ends, troubles met by a stream, and refusals with their route', () => {
		const registry = new ConnectionRegistry({ maxStreams: 3, maxPerAddress: 1 })
		const seen: Trouble[] = []
		registry.onTrouble((t) => seen.push(t))
		const streams = ['slow', 'stalled', 'error'].map((reason, i) => {
			const stream = new ResponseStream({ contentType: 'text/plain', heartbeatMs: 0 })
			registry.add(stream, { kind: 'sse', route: `/r${i}`, topics: [], address: `10.0.0.${i}` })
			return { stream, reason }
		})
		streams[0]!.stream.report('dropped', 3)
		streams[1]!.stream.report('replay-incomplete')
		expect(registry.admit('10.0.0.9', 'sse', '/full')).toMatchObject({ status: 503 })
		streams[2]!.stream.close('done')
		expect(registry.admit('10.0.0.0', 'sse', '/busy')).toMatchObject({ status: 429 })
		for (const { stream, reason } of streams.slice(0, 2)) stream.close(reason as 'slow' | 'stalled')
		expect(seen.map(({ kind, route, count }) => [kind, route, count])).toEqual([
			['dropped', '/r0', 3],
			['replay-incomplete', '/r1', 1],
			['refused-503', '/full', 1],
			['refused-429', '/busy', 1],
			['slow', '/r0', 1],
			['stalled', '/r1', 1]
		])
		// A stream that ended well is no trouble; one closed as failed is.
		const failed = new ResponseStream({ contentType: 'text/plain', heartbeatMs: 0 })
		registry.add(failed, { kind: 'ndjson', route: '/x', topics: [] })
		failed.close('error')
		expect(seen.at(-1)).toMatchObject({ kind: 'error', route: '/x', id: failed.id })
	})

	test('the trouble log counts every kind and keeps the last few of each, newest first', () => {
		const log = new TroubleLog(2)
		for (let i = 0; i < 5; i++) log.add({ kind: 'slow', route: `/r${i}`, count: 1 }, 1000 + i)
		log.add({ kind: 'dropped', route: '/d', count: 7 }, 2000)
		const { counts, recent } = log.summary()
		expect(counts).toMatchObject({ slow: 5, dropped: 7, error: 0, 'refused-503': 0 })
		expect(recent.slow!.map((t) => [t.route, t.at])).toEqual([['/r4', 1004], ['/r3', 1003]])
		expect(recent.dropped).toEqual([{ kind: 'dropped', route: '/d', count: 7, at: 2000 }])
		// One stream's troubles within a second are one entry: drop-oldest reports each frame.
		for (let i = 0; i < 50; i++) log.add({ kind: 'dropped', route: '/d', id: 9, count: 1 }, 3000 + i)
		log.add({ kind: 'dropped', route: '/d', id: 9, count: 1 }, 4500)
		expect(log.summary().recent.dropped!.map((t) => [t.count, t.at])).toEqual([[1, 4500], [50, 3000]])
		expect(log.summary().counts.dropped).toBe(58)
	})

	test('rates are per-second differences of the totals, over the time between samples; the history is bounded', () => {
		let totals = { opened: 0, closed: 0, events: 0, bytes: 0 }
		const rates = new Rates(() => totals, 3, 0)
		totals = { opened: 10, closed: 4, events: 1000, bytes: 50_000 }
		expect(rates.sample(2000)).toEqual({ at: 2000, opened: 5, closed: 2, events: 500, bytes: 25_000 })
		for (let t = 3000; t <= 6000; t += 1000) rates.sample(t)
		expect(rates.history().map((s) => [s.at, s.opened])).toEqual([[4000, 0], [5000, 0], [6000, 0]])
	})

	test('with 5,000 streams on 2,000 topics, an update stays small: the busiest topics, no addresses, one page of rows', async () => {
		const registry = new ConnectionRegistry({ maxStreams: 0, maxPerAddress: 0 })
		const dashboard = new Dashboard(registry)
		try {
			for (let i = 0; i < 5000; i++) {
				const stream = new ResponseStream({ contentType: 'text/event-stream', heartbeatMs: 0 })
				registry.add(stream, { kind: 'sse', route: '/t/:topic', topics: [`user:${i % 2000}`], address: `10.${i >> 8}.${i & 255}.1` })
			}
			const { summary, frame } = await dashboard.current()
			expect(summary.counts.total).toBe(5000)
			expect(summary.subscriptions).toBe(5000)
			expect(summary.topicCount).toBe(2000)
			expect(Object.keys(summary.counts.byTopic)).toHaveLength(TOPICS_SHOWN)
			// The busiest first: topics 0..999 have three subscribers, the others two.
			expect(Object.values(summary.counts.byTopic).every((n) => n === 3)).toBe(true)
			expect(frame.byteLength).toBeLessThan(16 * 1024)
			const page = dashboard.page(4990, 50)
			expect(page.rows.map((r) => r.topics[0])).toEqual(Array.from({ length: 10 }, (_, i) => `user:${(4990 + i) % 2000}`))
			for (const { id } of registry.list()) registry.close(id)
			expect(registry.count).toBe(0)
		} finally {
			dashboard.close()
		}
	})

	test('two processes on one transport each list both; one not heard from is forgotten', async () => {
		const transport = memory()
		const a = new ProcessBoard(() => ({ total: 2, byKind: { sse: 2 }, draining: false }), 200)
		const b = new ProcessBoard(() => ({ total: 5, byKind: { ndjson: 5 }, draining: true }), 200)
		a.attach(transport)
		b.attach(transport)
		a.publish()
		b.publish()
		await until(() => a.rows().length === 2 && b.rows().length === 2, 1000, 'both rows')
		expect(a.rows().map((r) => [r.self, r.total, r.draining])).toEqual([[true, 2, false], [false, 5, true]])
		expect(b.rows()[1]).toMatchObject({ id: a.id, byKind: { sse: 2 }, self: false })
		b.close()
		await until(() => a.rows().length === 1, 2000, 'b forgotten')
		a.close()
	})
})

describe('dashboard routes', () => {
	test('without the guard, the page, its script, its data stream and the close action answer 401 or 403', async () => {
		const { url, port } = start()
		const target = await open(port, '/s')
		const paths = ['/_sluice', '/_sluice/app.js', '/_sluice/feed']
		for (const path of paths) {
			expect([path, (await fetch(url + path)).status]).toEqual([path, 401])
			const wrong = await fetch(url + path, { headers: { authorization: 'Bearer nope' } })
			expect([path, wrong.status]).toEqual([path, 403])
			const wrongCookie = await fetch(url + path, { headers: { cookie: 'sluice_dashboard=nope' } })
			expect([path, wrongCookie.status]).toEqual([path, 403])
		}
		const page = await fetch(`${url}/_sluice`, { headers: bearer })
		const pageToken = /data-token="([^"]+)"/.exec(await page.text())![1]!
		const id = JSON.parse((await (await fetch(`${url}/connections`, { headers: bearer })).text())).connections[0].id
		// Even with the page's token and a same-origin request, no guard, no close.
		for (const headers of [{}, { authorization: 'Bearer nope' }, { cookie: 'sluice_dashboard=nope' }] as Record<string, string>[]) {
			const refused = await fetch(`${url}/_sluice/close/${id}`, {
				method: 'POST',
				headers: { ...headers, 'x-sluice-csrf': pageToken, 'sec-fetch-site': 'same-origin' }
			})
			expect([403, 401]).toContain(refused.status)
		}
		expect(ended(target)).toBe(false)
		// A wrong ?token= is not exchanged for a cookie.
		const wrong = await fetch(`${url}/_sluice?token=nope`, { redirect: 'manual' })
		expect(wrong.status).toBe(403)
		expect(wrong.headers.get('set-cookie')).toBeNull()
	})

	test('?token= once: a redirect that drops it, and an HttpOnly, SameSite=Strict cookie of the dashboard path that lets the page in', async () => {
		const { url } = start()
		const answer = await fetch(`${url}/_sluice?token=${TOKEN}&x=1`, { redirect: 'manual' })
		expect(answer.status).toBe(303)
		expect(answer.headers.get('location')).toBe('/_sluice?x=1')
		expect(answer.headers.get('referrer-policy')).toBe('no-referrer')
		const setCookie = answer.headers.get('set-cookie')!
		expect(setCookie.split('; ')).toEqual([`sluice_dashboard=${TOKEN}`, 'Path=/_sluice', 'HttpOnly', 'SameSite=Strict', 'Max-Age=43200'])
		expect(tokenCookie(new Request(url, { headers: { cookie: `a=b; ${setCookie.split(';')[0]}` } }))).toBe(TOKEN)
		const page = await fetch(`${url}/_sluice`, { headers: cookie })
		expect(page.status).toBe(200)
		expect(page.headers.get('content-security-policy')).toContain("connect-src 'self'")
		const html = await page.text()
		expect(html).toContain('<script type="module" src="/_sluice/app.js">')
		const script = await fetch(`${url}/_sluice/app.js`, { headers: cookie })
		expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
		// Bundled from the package's source: sluice/client's reader is in it, nothing is imported from elsewhere.
		const code = await script.text()
		expect(code).toContain('text/event-stream')
		expect(code).not.toMatch(/\bimport\s*[({"']|https?:\/\/(?!www\.w3\.org)/)
	})

	test('the feed: the numbers of /connections, and pages of the connection table, updated as streams come and go', async () => {
		const { url, port } = start()
		const reader = await feed(url, '?offset=200&limit=50')
		for (let i = 0; i < 239; i++) await open(port, '/s', { 'user-agent': `client-${i}` })
		await open(port, '/room')
		// 240 streams and the feed itself.
		await until(() => latest<DashboardSummary>(reader, 'summary')?.counts.total === 241, 3000, '241 streams on the page')
		const snapshot = (await (await fetch(`${url}/connections`, { headers: bearer })).json()) as any
		const summary = latest<DashboardSummary>(reader, 'summary')!
		// The summary leaves the addresses to the table.
		expect(summary.counts).toEqual({ ...snapshot.counts, byAddress: {} })
		expect(snapshot.counts.byAddress).toEqual({ '127.0.0.1': 241 })
		expect(summary.counts.byTopic).toEqual({ room: 1 })
		expect(summary.processes).toHaveLength(1)
		const page = latest<ConnectionsPage>(reader, 'connections')!
		expect(page).toMatchObject({ offset: 200, limit: 50, total: 241 })
		expect(page.rows.map((r) => r.id)).toEqual(snapshot.connections.slice(200, 241).map((c: { id: number }) => c.id))
		expect(page.rows[10]).toMatchObject({ kind: 'sse', route: '/s', address: '127.0.0.1', userAgent: 'client-209' })
		// No viewer gets more than 200 rows, whatever it asks for.
		const big = await feed(url, '?limit=100000')
		await until(() => latest(big, 'connections') !== undefined, 2000, 'a page')
		expect(latest<ConnectionsPage>(big, 'connections')!.rows).toHaveLength(200)
		for (const c of clients.splice(0, 100)) c.destroy()
		await until(() => latest<DashboardSummary>(reader, 'summary')?.counts.total === 142, 3000, 'the page to follow the closes')
	})

	test('trouble on the page: dropped frames, an incomplete replay, a failed producer, each with its route', async () => {
		const { url, port, hub } = start()
		const reader = await feed(url)
		const slow = await open(port, '/room')
		await until(() => hub.count('room') === 1, 1000, 'the subscriber')
		slow.pause()
		const resume = await open(port, '/room', { 'last-event-id': '999' })
		const big = 'x'.repeat(32_000)
		for (let i = 0; i < 2000 && hub.subscribersOf('room')[0]!.dropped === 0; i++) await hub.publish('room', 'say', big)
		expect(hub.subscribersOf('room')[0]!.dropped).toBeGreaterThan(0)
		await open(port, '/fail')
		await until(() => {
			const counts = latest<DashboardSummary>(reader, 'summary')?.trouble.counts
			// Every frame the hub dropped, counted on the page.
			const dropped = hub.subscribersOf('room').reduce((n, sub) => n + sub.dropped, 0)
			return !!counts && counts.dropped === dropped && counts['replay-incomplete'] === 1 && counts.error === 1
		}, 3000, 'the troubles on the page')
		const { trouble } = latest<DashboardSummary>(reader, 'summary')!
		expect(trouble.recent.dropped![0]).toMatchObject({ route: '/room', kind: 'dropped' })
		expect(trouble.recent['replay-incomplete']![0]).toMatchObject({ route: '/room' })
		expect(trouble.recent.error![0]).toMatchObject({ route: '/fail' })
		expect(ended(resume)).toBe(false)
	})

	test('trouble on the page: frames dropped on a stream of many topics, with its route', async () => {
		const { url, port, hub } = start()
		const reader = await feed(url)
		const slow = await open(port, '/rooms')
		await until(() => hub.count('room') === 1 && hub.count('lobby') === 1, 1000, 'the stream on both topics')
		slow.pause()
		const member = hub.subscribersOf('room')[0]!
		const big = 'x'.repeat(32_000)
		for (let i = 0; i < 2000 && member.dropped === 0; i++) await hub.publish('room', 'say', big)
		expect(member.dropped).toBeGreaterThan(0)
		await until(() => latest<DashboardSummary>(reader, 'summary')?.trouble.counts.dropped === member.dropped, 3000, 'the drops on the page')
		expect(latest<DashboardSummary>(reader, 'summary')!.trouble.recent.dropped![0]).toMatchObject({ route: '/rooms', kind: 'dropped' })
		expect(ended(slow)).toBe(false)
	})

	test('close: a same-origin POST with the page token closes the stream; a cross-site one, or one without the token, does not', async () => {
		const { url, port, registry } = start()
		const target = await open(port, '/s')
		const id = registry.list((c) => c.route === '/s')[0]!.id
		const html = await (await fetch(`${url}/_sluice`, { headers: cookie })).text()
		const pageToken = /data-token="([^"]+)"/.exec(html)![1]!
		const post = (headers: Record<string, string>, path = `/_sluice/close/${id}`) =>
			fetch(url + path, { method: 'POST', headers: { ...cookie, ...headers } })
		for (const headers of [
			{ 'sec-fetch-site': 'same-origin' },
			{ 'sec-fetch-site': 'cross-site', 'x-sluice-csrf': pageToken },
			{ origin: 'http://evil.example', 'x-sluice-csrf': pageToken },
			{ 'x-sluice-csrf': pageToken },
			{ 'sec-fetch-site': 'same-origin', 'x-sluice-csrf': pageToken.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')) }
		] as Record<string, string>[])
			expect([JSON.stringify(headers), (await post(headers)).status]).toEqual([JSON.stringify(headers), 403])
		expect(ended(target)).toBe(false)
		const closed = await post({ origin: url, 'x-sluice-csrf': pageToken })
		expect(closed.status).toBe(200)
		expect(await closed.json()).toEqual({ closed: id })
		await until(() => ended(target), 2000, 'the client to see its stream end')
		expect((await post({ 'sec-fetch-site': 'same-origin', 'x-sluice-csrf': pageToken })).status).toBe(404)
		expect((await post({ 'sec-fetch-site': 'same-origin', 'x-sluice-csrf': pageToken }, '/_sluice/close/abc')).status).toBe(404)
	})

	test('drain: the page is told the server is stopping', async () => {
		const { url, app } = start()
		const reader = await feed(url)
		await until(() => latest(reader, 'summary') !== undefined, 2000, 'a summary')
		const stopped = app.stop()
		await until(() => reader.events.some((e) => e.event === 'shutdown'), 2000, 'the farewell')
		await stopped
		server = undefined
	})
})

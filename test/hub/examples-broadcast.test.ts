// The broadcast, chat and analytics examples, each started as a process and used over the wire.
import { afterEach, expect, test } from 'bun:test'
import { startExample, type ExampleProcess } from '../support/example'
import { RawClient } from '../support/raw-http'
import { parseEvents } from './sse-events'
import { bearer, CHAT_SECRET, chatToken } from '../support/chat'

const running: { app: ExampleProcess; clients: RawClient[] }[] = []
afterEach(async () => {
	for (const { app, clients } of running.splice(0)) {
		for (const c of clients) c.destroy()
		await app.stop()
	}
})

async function start(name: string, env: Record<string, string>) {
	const app = await startExample(name, { env })
	const entry = { app, clients: [] as RawClient[] }
	running.push(entry)
	const port = Number(new URL(app.url).port)
	const open = async (path: string, headers: Record<string, string> = {}) => {
		const c = await RawClient.request(port, path, { headers })
		entry.clients.push(c)
		await c.waitFor((x) => x.body.length > 0)
		return c
	}
	const post = (path: string, body?: unknown, headers: Record<string, string> = {}) =>
		fetch(app.url + path, {
			method: 'POST',
			headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
			body: body === undefined ? undefined : JSON.stringify(body)
		})
	return { app, open, post }
}

const dataOf = (c: RawClient, event = 'message') =>
	parseEvents(c.body)
		.filter((e) => (e.event ?? 'message') === event)
		.map((e) => JSON.parse(e.data))

test('examples/broadcast.ts: POST /broadcast reaches every subscriber; server messages; heartbeats when idle', async () => {
	const { app, open, post } = await start('broadcast', { BROADCAST_INTERVAL_MS: '400', HEARTBEAT_MS: '150' })
	expect(app.output()).toMatch(/curl -N http:\/\/localhost:\d+\/broadcast-stream/)
	const a = await open('/broadcast-stream')
	const b = await open('/broadcast-stream')
	expect(a.head).toMatch(/content-type: text\/event-stream/i)
	const sent = await post('/broadcast', { message: 'hello all', sender: 'ann' })
	expect(sent.status).toBe(200)
	const answer = (await sent.json()) as { status: string; recipients: number; id: string }
	expect(answer).toMatchObject({ status: 'broadcast_sent', recipients: 2 })
	for (const c of [a, b]) {
		await c.waitFor((x) => dataOf(x).some((m) => m.type === 'manual_broadcast'))
		expect(dataOf(c).find((m) => m.type === 'manual_broadcast')).toMatchObject({ message: 'hello all', sender: 'ann' })
		await c.waitFor((x) => dataOf(x).some((m) => m.type === 'broadcast'))
		expect(dataOf(c).find((m) => m.type === 'broadcast').message).toMatch(/^Broadcast message \d+$/)
		// Idle for longer than the heartbeat interval: comment frames keep the stream alive.
		await c.waitFor((x) => x.body.includes('\n:\n\n'))
	}
	// A bad body is refused, and nothing is broadcast.
	const bad = await post('/broadcast', { message: '' })
	expect(bad.status).toBe(422)
	expect(a.body).not.toContain('"message":""')
})

test('examples/chat.ts: join and leave, messages to everyone, the last 10 on join', async () => {
	const { app, open, post } = await start('chat', { CHAT_SECRET })
	const [aliceToken, bobToken] = [chatToken('Alice'), chatToken('Bob')]
	const alice = await open('/chat/Alice', bearer(aliceToken))
	const bob = await open('/chat/Bob', bearer(bobToken))
	await alice.waitFor((x) => dataOf(x, 'join').some((m) => m.user === 'Bob'))
	expect(dataOf(alice, 'join').find((m) => m.user === 'Bob')).toMatchObject({ type: 'user_joined', clients_count: 2 })
	expect((await post('/chat/send', { message: 'hi Alice' }, bearer(bobToken))).status).toBe(200)
	for (const c of [alice, bob]) {
		await c.waitFor((x) => dataOf(x).some((m) => m.message === 'hi Alice'))
		expect(dataOf(c).find((m) => m.message === 'hi Alice')).toMatchObject({ type: 'chat_message', sender: 'Bob' })
	}
	bob.destroy()
	await alice.waitFor((x) => dataOf(x, 'leave').some((m) => m.user === 'Bob'))
	expect(dataOf(alice, 'leave')[0]).toMatchObject({ type: 'user_left', user: 'Bob', clients_count: 1 })
	let lastId = 0
	for (let n = 1; n <= 12; n++) lastId = Number(((await (await post('/chat/send', { message: `m${n}` }, bearer(aliceToken))).json()) as { id: string }).id)
	const carol = await open(`/chat/Carol?token=${chatToken('Carol')}`)
	await carol.waitFor((x) => dataOf(x, 'join').some((m) => m.user === 'Carol'))
	const events = parseEvents(carol.body)
	// The last 10 frames of the room, in order, then her own join.
	expect(events.slice(0, 10).map((e) => Number(e.id))).toEqual(Array.from({ length: 10 }, (_, i) => lastId - 9 + i))
	expect(events.slice(0, 10).map((e) => JSON.parse(e.data).message)).toEqual(['m3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9', 'm10', 'm11', 'm12'])
	expect(events[10]!.event).toBe('join')
	// Bad input is refused.
	expect((await post('/chat/send', { sender: 'Alice' }, bearer(aliceToken))).status).toBe(422)
	expect((await fetch(`${app.url}/chat/${'x'.repeat(40)}`)).status).toBe(422)
	// The page is served.
	const page = await fetch(`${app.url}/`)
	expect(page.headers.get('content-type')).toContain('text/html')
	expect(await page.text()).toContain('/chat/send')
})

test('examples/analytics.ts: the current state first, then updates', async () => {
	const { app, open, post } = await start('analytics', { ANALYTICS_INTERVAL_MS: '600000' })
	await post('/track/page-view', { visitor: 'v1' })
	await post('/track/page-view', { visitor: 'v1' })
	await post('/track/error')
	const c = await open('/analytics-stream')
	await c.waitFor((x) => dataOf(x, 'update').length === 1)
	expect(dataOf(c, 'update')[0]).toMatchObject({ page_views: 2, unique_visitors: 1, api_calls: 0, errors: 1 })
	expect((await post('/track/api-call')).status).toBe(200)
	await c.waitFor((x) => dataOf(x, 'update').length === 2)
	expect(dataOf(c, 'update')[1]).toMatchObject({ page_views: 2, unique_visitors: 1, api_calls: 1, errors: 1 })
	expect((await post('/track/nonsense')).status).toBe(422)
	const page = await fetch(`${app.url}/`)
	expect(await page.text()).toContain('/analytics-stream')
})

test('examples/broadcast.ts, as issue 10 found it: 600 POSTs of 1,940 characters fill the ring to within bytes; 30 clients resuming from id 1 all get every frame', async () => {
	const { app, post } = await start('broadcast', { BROADCAST_INTERVAL_MS: '3600000' })
	// Each character of the sender's name adds one byte to each of the ~511 frames kept: this one
	// leaves the 1 MiB ring a few bytes short of full (checked below).
	const message = 'm'.repeat(1940)
	for (let i = 0; i < 600; i++) expect((await post('/broadcast', { message, sender: 'meyou' })).status).toBe(200)
	const port = Number(new URL(app.url).port)
	const clients = await Promise.all(
		Array.from({ length: 30 }, () => RawClient.request(port, '/broadcast-stream', { headers: { 'Last-Event-ID': '1' } }))
	)
	running.at(-1)!.clients.push(...clients)
	await Promise.all(clients.map((c) => c.waitFor((x) => x.raw.includes('id: 600\n') || x.raw.includes('sluice:slow-consumer'), 15_000)))
	// Before issue 10's fix, every one of them got 0 frames and `sluice:slow-consumer`.
	for (const c of clients) expect(parseEvents(c.body).filter((e) => e.event === 'sluice:slow-consumer')).toEqual([])
	const frames = [...clients[0]!.body.matchAll(/id: \d+\n[^]*?\n\n/g)].map((m) => Buffer.byteLength(m[0]))
	expect(1024 * 1024 - frames.reduce((a, b) => a + b, 0)).toBeLessThan(100)
	for (const c of clients) {
		const events = parseEvents(c.body)
		const ids = events.filter((e) => e.id).map((e) => Number(e.id))
		expect(ids).toEqual(Array.from({ length: 600 - ids[0]! + 1 }, (_, i) => ids[0]! + i))
		expect(ids.length).toBe(frames.length)
	}
}, 60_000)

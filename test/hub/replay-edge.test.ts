// A history ring filled to within bytes of its limit: every reconnecting client that reads gets
// every frame, in order, and none is cut off as a slow consumer (issue 10: before the replay was
// sent as the client reads, the opening frame and the replay-incomplete notice tipped it over).
import { afterAll, describe, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { streaming, encodeSseBytes } from '../../plugins'
import { HubEvents } from '../../src/hub'
import { listen } from '../support/server'
import { RawClient } from '../support/raw-http'
import { parseEvents } from './sse-events'

const MAX_BYTES = 1024 * 1024 // the history's default, and the slow-consumer limit's
const MAX_FRAMES = 1000
const PUBLISHES = 600

/** Message length of publish `id` on a topic of base length `base`: odd sizes, not round numbers. */
const lengthOf = (base: number, id: number) => base + ((id * 37) % 11)
const frameBytes = (base: number, id: number) =>
	`id: ${id}\n`.length + encodeSseBytes({ data: 'x'.repeat(lengthOf(base, id)) }).byteLength

/** What the ring holds after PUBLISHES frames: the oldest id kept and the bytes left spare. */
function fill(base: number): { oldest: number; spare: number } {
	const sizes: number[] = []
	let bytes = 0
	for (let id = 1; id <= PUBLISHES; id++) {
		sizes.push(frameBytes(base, id))
		bytes += sizes.at(-1)!
		while (sizes.length > MAX_FRAMES || bytes > MAX_BYTES) bytes -= sizes.shift()!
	}
	return { oldest: PUBLISHES - sizes.length + 1, spare: MAX_BYTES - bytes }
}

// Every base length in a band whose ring ends within 100 bytes of its limit (0 included).
const edges = Array.from({ length: 450 }, (_, i) => 1750 + i)
	.map((base) => ({ base, ...fill(base) }))
	.filter((e) => e.spare < 100)

const app = new Elysia()
	.use(streaming())
	.get('/feed/:topic', ({ subscribe, params }) => subscribe(params.topic, { heartbeatMs: 0 }))
	// As examples/broadcast.ts opens its streams: with a `retry:` frame.
	.get('/retry/:topic', ({ subscribe, params }) => subscribe(params.topic, { heartbeatMs: 0, retryMs: 2000 }))
const server = listen(app)
afterAll(() => server.stop())

async function publishAll(topic: string, base: number): Promise<void> {
	const hub = app.decorator.broadcast
	for (let id = 1; id <= PUBLISHES; id++) {
		const frame = await hub.publish(topic, 'message', 'x'.repeat(lengthOf(base, id)))
		expect(frame.id).toBe(String(id))
	}
}

/** Reconnects with `lastEventId` and reads until the last frame, a slow-consumer notice, or the end. */
async function reconnect(path: string, lastEventId: string): Promise<RawClient> {
	const client = await RawClient.request(server.port, path, { headers: { 'Last-Event-ID': lastEventId } })
	const done = (c: RawClient) => c.raw.includes(`id: ${PUBLISHES}\n`) || c.raw.includes(HubEvents.slowConsumer) || c.raw.includes('\r\n0\r\n\r\n')
	await client.waitFor(done, 15_000)
	client.destroy()
	return client
}

/** Every frame from `oldest` to the last, in order, once; the notice only when frames were missed. */
function expectWhole(client: RawClient, oldest: number, missed: boolean) {
	const events = parseEvents(client.body)
	expect(events.filter((e) => e.event === HubEvents.slowConsumer)).toEqual([])
	const notices = events.filter((e) => e.event === HubEvents.replayIncomplete)
	expect(notices.length).toBe(missed ? 1 : 0)
	const ids = events.filter((e) => e.event === undefined).map((e) => Number(e.id))
	expect(ids).toEqual(Array.from({ length: PUBLISHES - oldest + 1 }, (_, i) => oldest + i))
}

describe('replay of a history filled to the byte edge', () => {
	test('the sweep finds rings within 100 bytes of the limit, one of them full to the byte', () => {
		expect(edges.length).toBeGreaterThanOrEqual(20)
		expect(edges.some((e) => e.spare === 0)).toBe(true)
	})

	test('30 clients reconnect with Last-Event-ID: 1 to a ring a few bytes short of full: all get every frame', async () => {
		const edge = edges.reduce((a, b) => (b.spare < a.spare ? b : a))
		await publishAll('crowd', edge.base)
		const clients = await Promise.all(
			Array.from({ length: 30 }, (_, i) => reconnect(i % 2 ? '/retry/crowd' : '/feed/crowd', '1'))
		)
		for (const c of clients) expectWhole(c, edge.oldest, true)
	}, 30_000)

	test('every fill near the limit, frames of odd sizes, with and without a retry frame, resumed from before and from inside the ring', async () => {
		for (const { base, oldest } of edges) {
			const topic = `edge-${base}`
			await publishAll(topic, base)
			const clients = await Promise.all([
				reconnect(`/feed/${topic}`, '1'),
				reconnect(`/retry/${topic}`, '1'),
				reconnect(`/feed/${topic}`, String(oldest - 1)),
				reconnect(`/retry/${topic}`, String(oldest - 1))
			])
			clients.forEach((c, i) => expectWhole(c, oldest, i < 2))
		}
	}, 60_000)
})

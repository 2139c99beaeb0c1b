// Reconnecting with Last-Event-ID while publishing goes on: every missed frame once, in order, then live.
import { afterAll, describe, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { streaming } from '../../plugins'; import { MemoryTransport, type Transport } from '../../src/hub'
import { listen } from '../support/server'
import { RawClient } from '../support/raw-http'
import { idsOf } from './sse-events'
import { lateHistory } from './transports'

const CLIENTS = 40
const FRAMES_EACH = 150

async function replayUnderLoad(transport: Transport) {
	const app = new Elysia()
		.use(streaming({ transport }))
		.get('/feed', ({ subscribe }) => subscribe('feed', { heartbeatMs: 0 }))
	const server = listen(app)
	const hub = app.decorator.broadcast
	let latest = 0
	let running = true
	// Bursts of 1 to 5 frames, every millisecond or so, until the clients are done.
	const publisher = (async () => {
		while (running) {
			const burst = 1 + Math.floor(Math.random() * 5)
			for (let i = 0; i < burst; i++) hub.publish('feed', 'tick', { at: Date.now() }).then((f) => (latest = Math.max(latest, Number(f.id))))
			await Bun.sleep(1)
		}
	})()
	try {
		while (latest < 200) await Bun.sleep(5)
		const runs = Array.from({ length: CLIENTS }, async (_, i) => {
			await Bun.sleep(i * 7)
			// Somewhere in the recent past (always inside the 1,000-frame history).
			const from = Math.max(0, latest - Math.floor(Math.random() * 200))
			const client = await RawClient.request(server.port, '/feed', { headers: { 'Last-Event-ID': String(from) } })
			await client.waitFor((c) => c.body.includes(`id: ${from + FRAMES_EACH}\n`), 10_000)
			client.destroy()
			return { from, ids: idsOf(client.body).slice(0, FRAMES_EACH) }
		})
		for (const { from, ids } of await Promise.all(runs))
			expect(ids).toEqual(Array.from({ length: FRAMES_EACH }, (_, k) => from + 1 + k))
	} finally {
		running = false
		await publisher
		await server.stop()
	}
}

describe('replay under concurrent publishing', () => {
	test('memory transport', () => replayUnderLoad(new MemoryTransport()), 30_000)
	test('a transport whose history answers late (as over a network)', () => replayUnderLoad(lateHistory(15)), 30_000)
})

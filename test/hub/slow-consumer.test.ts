// A client that stops reading: bounded server memory, no delay for the others, told why.
import { afterAll, describe, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { streaming } from '../../plugins'; import { HubEvents } from '../../src/hub'
import { listen, until } from '../support/server'
import { RawClient } from '../support/raw-http'
import parsePrometheus from 'parse-prometheus-text-format'
import { idsOf, parseEvents, TailReader } from './sse-events'

const LIMIT = 1024 * 1024 // the default
const payload = 'x'.repeat(32 * 1024)

function server(slowConsumer: 'disconnect' | 'drop-oldest') {
	const app = new Elysia()
		.use(streaming({ broadcast: { slowConsumer } }))
		.get('/feed', ({ subscribe }) => subscribe('feed', { heartbeatMs: 0 }))
	return { app, ...listen(app) }
}

describe('slow consumers', () => {
	const disconnect = server('disconnect')
	const dropOldest = server('drop-oldest')
	afterAll(async () => {
		await disconnect.stop()
		await dropOldest.stop()
	})

	test('disconnect (default): the paused client is cut past its limit with a last frame; the others get every frame at once', async () => {
		const { app, port } = disconnect
		const hub = app.decorator.broadcast
		const { connections } = app.decorator
		const closedWith: string[] = []
		connections.onClose((_, reason) => closedWith.push(reason))
		const slow = await RawClient.request(port, '/feed')
		const fast = await Promise.all([1, 2].map(() => TailReader.get(port, '/feed')))
		await slow.waitFor((x) => x.body.length > 0)
		await until(() => fast.every((c) => c.bytes > 0))
		slow.pause()
		// Subscribers are kept in arrival order: the slow one came first.
		const slowSub = hub.subscribersOf('feed')[0]!
		let maxQueued = 0
		let published = 0
		// Far more than the kernel's socket buffers and the limit together.
		while (!slowSub.stream.closed && published < 2000) {
			const frame = await hub.publish('feed', 'tick', payload)
			published++
			maxQueued = Math.max(maxQueued, slowSub.queuedBytes)
			// The readers get each frame while the slow one sits there.
			await until(() => fast.every((c) => c.has(frame.id)), 1000, `frame ${frame.id} at the readers`)
		}
		expect(slowSub.stream.closeReason).toBe('slow')
		expect(maxQueued).toBeLessThanOrEqual(LIMIT)
		expect(hub.count('feed')).toBe(2)
		expect(connections.count).toBe(2)
		// The connection manager saw it end as a slow consumer, and its metrics count it.
		expect(closedWith).toEqual(['slow'])
		const metric = (name: string, labels: Record<string, string> = {}) =>
			Number(
				parsePrometheus(connections.metrics())
					.find((f) => f.name === name)
					?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value
			)
		expect(metric('sluice_slow_consumer_disconnects_total')).toBe(1)
		expect(metric('sluice_streams_closed_total', { reason: 'slow' })).toBe(1)
		expect(metric('sluice_streams_closed_total', { reason: 'stalled' })).toBe(0)
		// Once it reads again, it finds why it was cut, with a retry hint; its reconnect resumes from history.
		slow.resume()
		// The response ends (the last chunk of its chunked body); the connection may stay for keep-alive.
		await until(() => slow.raw.subarray(-7).toString() === '\r\n0\r\n\r\n', 5000, 'the response to end')
		const events = parseEvents(slow.body)
		const last = events.at(-1)!
		expect(last.event).toBe(HubEvents.slowConsumer)
		expect(JSON.parse(last.data)).toEqual({ reason: 'slow consumer', limitBytes: LIMIT })
		// The hint is spread (retryJitter 0.5): 1000 to 1500 ms, so cut-off clients do not return together.
		const retry = Number(/\nretry: (\d+)\n/.exec(slow.body)?.[1])
		expect(retry).toBeGreaterThanOrEqual(1000)
		expect(retry).toBeLessThanOrEqual(1500)
		const seen = idsOf(slow.body)
		expect(seen).toEqual(Array.from({ length: seen.length }, (_, i) => i + 1))
		const again = await RawClient.request(port, '/feed', { headers: { 'Last-Event-ID': String(seen.at(-1)) } })
		await again.waitFor((x) => x.raw.includes(`id: ${published}\n`), 5000)
		expect(idsOf(again.body)[0]).toBe(seen.at(-1)! + 1)
		again.destroy()
		for (const c of fast) c.socket.destroy()
	}, 30_000)

	test('drop-oldest: the paused client stays, holds at most its limit, and is told how many it missed', async () => {
		const { app, port } = dropOldest
		const hub = app.decorator.broadcast
		const slow = await RawClient.request(port, '/feed')
		await slow.waitFor((x) => x.body.length > 0)
		slow.pause()
		const [sub] = hub.subscribersOf('feed')
		let maxQueued = 0
		let last = ''
		for (let n = 0; n < 1000 && sub!.dropped < 50; n++) {
			last = (await hub.publish('feed', 'tick', payload)).id
			maxQueued = Math.max(maxQueued, sub!.queuedBytes)
			if (n % 20 === 0) await Bun.sleep(1)
		}
		expect(sub!.dropped).toBeGreaterThanOrEqual(50)
		expect(maxQueued).toBeLessThanOrEqual(LIMIT)
		expect(sub!.stream.closed).toBe(false)
		slow.resume()
		await slow.waitFor((x) => x.raw.includes(`id: ${last}\n`), 10_000)
		const events = parseEvents(slow.body)
		const notice = events.find((e) => e.event === HubEvents.dropped)!
		expect(JSON.parse(notice.data).count).toBe(sub!.dropped)
		const ids = idsOf(slow.body)
		// In order, none twice, the newest kept, exactly the dropped ones missing.
		expect(ids).toEqual([...ids].sort((a, b) => a - b))
		expect(new Set(ids).size).toBe(ids.length)
		expect(ids.at(-1)).toBe(Number(last))
		expect(ids.length).toBe(Number(last) - sub!.dropped)
		slow.destroy()
		await until(() => hub.count('feed') === 0, 100)
	}, 30_000)
})

// SIGTERM / SIGINT on the broadcast, chat and analytics examples with clients connected:
// every client gets the connection manager's last frame, and the process exits within the grace.
import { afterEach, expect, test } from 'bun:test'
import { startExample, type ExampleProcess } from '../support/example'
import { RawClient } from '../support/raw-http'
import { parseEvents } from './sse-events'
import { CHAT_SECRET, chatToken } from '../support/chat'

/** The drain's grace period (the connection manager's default, which the examples keep). */
const GRACE_MS = 5000

const running: ExampleProcess[] = []
const clients: RawClient[] = []
afterEach(async () => {
	for (const c of clients.splice(0)) c.destroy()
	for (const p of running.splice(0)) await p.stop()
})

const cases = [
	{ name: 'broadcast', path: '/broadcast-stream', signal: 'SIGTERM' },
	{ name: 'chat', path: `/chat/Ann?token=${chatToken('Ann')}`, signal: 'SIGTERM' },
	{ name: 'analytics', path: '/analytics-stream', signal: 'SIGTERM' },
	{ name: 'chat', path: `/chat/Bob?token=${chatToken('Bob')}`, signal: 'SIGINT' }
] as const

for (const { name, path, signal } of cases)
	test(`examples/${name}.ts: on ${signal} every open client gets event: shutdown with a retry hint, and the process exits`, async () => {
		const app = await startExample(name, { env: { CHAT_SECRET } })
		running.push(app)
		const port = Number(new URL(app.url).port)
		const open = await Promise.all(
			[1, 2].map(async () => {
				const c = await RawClient.request(port, path)
				clients.push(c)
				await c.waitFor((x) => x.status === 200 && x.body.length > 0)
				return c
			})
		)
		const sentAt = performance.now()
		const exit = await app.signal(signal)
		const took = performance.now() - sentAt
		running.splice(running.indexOf(app), 1)
		expect(exit).toEqual({ exitCode: 0, signalCode: null })
		expect(took).toBeLessThan(GRACE_MS)
		for (const c of open) {
			// The response was ended by the server (the last chunk of its chunked body), not cut.
			expect(c.raw.subarray(-5).toString()).toBe('0\r\n\r\n')
			const last = parseEvents(c.body).at(-1)!
			expect(last.event).toBe('shutdown')
			expect(JSON.parse(last.data)).toEqual({ reason: 'server shutting down' })
			// The retry hint is spread by retryJitter (0.5): 1000 to 1500 ms.
			const [, retry] = /event: shutdown\nretry: (\d+)\ndata: \{"reason":"server shutting down"\}\n\n$/.exec(c.body) ?? []
			expect(Number(retry)).toBeGreaterThanOrEqual(1000)
			expect(Number(retry)).toBeLessThanOrEqual(1500)
		}
	})

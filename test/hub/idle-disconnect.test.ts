import { expect, test } from 'bun:test'
import { heapStats } from 'bun:jsc'
import type { Socket } from 'bun'
import { Elysia } from 'elysia'
import { streaming } from '../../plugins'
import { listen, until } from '../support/server'
import { burnCpu } from '../support/sse-socket'

// A stream keeps its request's abort signal, not the request: an idle subscriber lets the request
// (and the headers read at open) go, 0.9 KB each (docs/benchmarks.md). Its disconnect must still
// be seen once the requests are collected, however the client leaves, with every core busy.

const CLIENTS = 200

test('idle subscribers let their requests go, and are still seen leaving after a collection', async () => {
	const app = new Elysia()
		.use(streaming({ connections: { maxPerAddress: 0 } }))
		.get('/room', ({ subscribe }) => subscribe('room'))
	const server = listen(app)
	const stopBurners = burnCpu(2, 60)
	const sockets: Socket<{ open: boolean }>[] = []
	try {
		const requestsBefore = requestObjects()
		for (let i = 0; i < CLIENTS; i++)
			sockets.push(
				await Bun.connect<{ open: boolean }>({
					hostname: '127.0.0.1',
					port: server.port,
					data: { open: false },
					socket: {
						// Headers Sluice reads at open: a user agent, and a Last-Event-ID on every other one.
						open: (s) =>
							void s.write(
								`GET /room HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: idle-${i}\r\n${i % 2 ? 'Last-Event-ID: 0\r\n' : ''}\r\n`
							),
						data: (s) => void (s.data.open = true),
						error: () => {}
					}
				})
			)
		await until(() => sockets.every((s) => s.data.open), 10_000, 'every subscriber to get its opening frame')
		expect(app.decorator.broadcast.count('room')).toBe(CLIENTS)
		for (let i = 0; i < 3; i++) {
			Bun.gc(true)
			await Bun.sleep(10)
		}
		// The requests are gone (a few may be in flight elsewhere in the process); their streams are not.
		expect(requestObjects() - requestsBefore).toBeLessThan(CLIENTS / 10)
		expect(app.decorator.connections.count).toBe(CLIENTS)

		// Half leave with a FIN, half with a reset.
		sockets.forEach((s, i) => (i % 2 ? s.end() : s.terminate()))
		await until(() => app.decorator.connections.count === 0, 10_000, 'the server to see every client leave')
		expect(app.decorator.broadcast.count('room')).toBe(0)
	} finally {
		for (const s of sockets) s.terminate()
		await stopBurners()
		await server.stop()
	}
})

/** Request objects alive on the JS heap, of either type name Bun gives them. */
function requestObjects(): number {
	const counts = heapStats().objectTypeCounts
	return (counts.Request ?? 0) + (counts.BunRequest ?? 0)
}

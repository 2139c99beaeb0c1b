import { expect, test } from 'bun:test'
import type { Socket } from 'bun'
import { Elysia } from 'elysia'
import { streaming } from '../../plugins'
import { listen, until } from '../support/server'

// One ticker beats every stream of an interval. Streams that end leave it (a storm lets many go at
// once) and are not beaten again; the streams that stay, and those that join after, still are.

const HEARTBEAT_MS = 50
/** A heartbeat as it arrives in a chunked body: a chunk of its own, `:\n\n`. */
const BEAT = '\r\n:\n\n'

interface Client {
	beats: number
	text: string
}

async function open(port: number): Promise<Socket<Client>> {
	return Bun.connect<Client>({
		hostname: '127.0.0.1',
		port,
		data: { beats: 0, text: '' },
		socket: {
			open: (s) => void s.write('GET /room HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n'),
			data: (s, chunk) => {
				const text = s.data.text + chunk.toString('latin1')
				s.data.beats += text.split(BEAT).length - 1
				s.data.text = text.slice(-BEAT.length)
			},
			error: () => {}
		}
	})
}

test('streams that end leave the heartbeat ticker; those that stay or join later are still beaten', async () => {
	const app = new Elysia()
		.use(streaming({ connections: { maxPerAddress: 0 }, broadcast: { sse: { heartbeatMs: HEARTBEAT_MS } } }))
		.get('/room', ({ subscribe }) => subscribe('room'))
	const server = listen(app)
	const clients: Socket<Client>[] = []
	try {
		for (let i = 0; i < 60; i++) clients.push(await open(server.port))
		await until(() => clients.every((c) => c.data.beats >= 1), 10_000, 'a heartbeat on every stream')
		// Two thirds leave at once: more than half the ticker's streams end between two ticks.
		const leaving = clients.slice(0, 40)
		const staying = clients.slice(40)
		for (const c of leaving) c.terminate()
		await until(() => app.decorator.connections.count === 20, 10_000, 'the server to see 40 leave')
		const late = await Promise.all(Array.from({ length: 10 }, () => open(server.port)))
		const from = staying.map((c) => c.data.beats)
		await until(
			() => staying.every((c, i) => c.data.beats >= from[i]! + 3) && late.every((c) => c.data.beats >= 3),
			10_000,
			'three more heartbeats on each stream that stayed or joined'
		)
		expect(app.decorator.connections.count).toBe(30)
		clients.push(...late)
	} finally {
		for (const c of clients) c.terminate()
		await server.stop()
	}
})

import { afterEach, describe, expect, test } from 'bun:test'
import { createParser, type EventSourceMessage } from 'eventsource-parser'
import { startExample, type ExampleProcess } from '../support/example'
import { RawClient } from '../support/raw-http'

const running: ExampleProcess[] = []
const clients: RawClient[] = []
afterEach(async () => {
	for (const c of clients.splice(0)) c.destroy()
	for (const p of running.splice(0)) await p.stop()
})

async function example(name: string, env: Record<string, string>) {
	const process = await startExample(name, { env })
	running.push(process)
	return { process, port: Number(new URL(process.url).port) }
}

async function open(port: number, path: string) {
	const client = await RawClient.request(port, path)
	clients.push(client)
	await client.waitFor((c) => c.status === 200)
	return client
}

/** The events a client has received so far, parsed by eventsource-parser. */
function eventsOf(client: RawClient): EventSourceMessage[] {
	const events: EventSourceMessage[] = []
	createParser({ onEvent: (e) => events.push(e) }).feed(client.body)
	return events
}

const latest = (client: RawClient) => {
	const last = eventsOf(client).at(-1)
	return last ? JSON.parse(last.data) : undefined
}

/** Waits until the client's latest event satisfies `predicate`. */
const reports = (client: RawClient, predicate: (data: any) => boolean) =>
	client.waitFor(() => {
		const data = latest(client)
		return data !== undefined && predicate(data)
	}, 5000)

describe('examples/managed-stream.ts', () => {
	test('reports the live count, which falls when clients leave; the snapshot route agrees', async () => {
		const { process, port } = await example('managed-stream', { INTERVAL_MS: '50', ADMIN_TOKEN: 'test-token' })
		expect(process.output()).toContain(`curl -N http://127.0.0.1:${port}/managed-stream`)
		const all = await Promise.all([1, 2, 3, 4].map(() => open(port, '/managed-stream')))
		await reports(all[0]!, (d) => d.active_connections === 4)
		const first = eventsOf(all[0]!)[0]!
		expect(first.event).toBe('message')
		expect(JSON.parse(first.data)).toMatchObject({ message: 'Managed message 0' })

		all[1]!.destroy()
		all[2]!.destroy()
		all[3]!.destroy()
		await reports(all[0]!, (d) => d.active_connections === 1)

		const admin = { headers: { authorization: 'Bearer test-token' } }
		const snapshot = (await (await fetch(`${process.url}/connections`, admin)).json()) as any
		expect(snapshot.counts.byRoute).toEqual({ '/managed-stream': 1 })
		expect(snapshot.connections[0].id).toBe(latest(all[0]!).connection_id)
	})

	test('on SIGTERM every client gets a last frame with a retry hint, and the process exits', async () => {
		const { process, port } = await example('managed-stream', { INTERVAL_MS: '50' })
		const clientsOpen = await Promise.all([1, 2].map(() => open(port, '/managed-stream')))
		await reports(clientsOpen[0]!, (d) => d.active_connections === 2)
		running.splice(running.indexOf(process), 1)
		// stop() sends SIGTERM and waits for the exit: Elysia's own stop() would never return here.
		await process.stop()
		for (const client of clientsOpen) {
			const last = eventsOf(client).at(-1)!
			expect(last.event).toBe('shutdown')
			// retryMs 2000, spread by the default retryJitter (0.5).
			const retry = Number(/\nretry: (\d+)\n/.exec(client.body)?.[1])
			expect(retry).toBeGreaterThanOrEqual(2000)
			expect(retry).toBeLessThanOrEqual(3000)
		}
	})
})

describe('examples/connection-status.ts', () => {
	test('reports live counts that go down when clients leave, and ends after its updates', async () => {
		const { port } = await example('connection-status', { INTERVAL_MS: '50', UPDATES: '20' })
		const all = await Promise.all([1, 2, 3].map(() => open(port, '/stream/status')))
		await reports(all[0]!, (d) => d.active_connections === 3 && d.total_connections === 3)
		all[1]!.destroy()
		all[2]!.destroy()
		await reports(all[0]!, (d) => d.active_connections === 1 && d.total_connections === 3)
		expect(latest(all[0]!).by_route).toEqual({ '/stream/status': 1 })

		// The stream is finite, as in the seed: after its updates it ends, and is unregistered.
		await all[0]!.waitFor((c) => c.raw.includes('0\r\n\r\n'), 5000)
		const events = eventsOf(all[0]!)
		expect(events).toHaveLength(20)
		expect(events.map((e) => e.id)).toEqual(Array.from({ length: 20 }, (_, i) => String(i + 1)))
		const late = await open(port, '/stream/status')
		await reports(late, (d) => d.update_number === 1)
		expect(latest(late)).toMatchObject({ active_connections: 1, total_connections: 4 })
	})
})

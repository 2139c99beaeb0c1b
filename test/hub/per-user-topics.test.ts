import { expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { streaming } from '../../plugins'
import { listen, until } from '../support/server'
import { burnCpu, SseSocket } from '../support/sse-socket'

// A topic per user: thousands of topics of one subscriber each. The counts the transport shares
// are kept key by key (a join costs one key, not every topic's count), and a topic that nothing
// was published on leaves nothing behind once its subscriber has gone.

const USERS = 600

/** Instances of a class on the JS heap, by the name a heap snapshot gives them. */
function instancesOf(className: string): number {
	for (let i = 0; i < 3; i++) Bun.gc(true)
	const { nodes, nodeClassNames } = Bun.generateHeapSnapshot() as unknown as { nodes: number[]; nodeClassNames: string[] }
	const index = nodeClassNames.indexOf(className)
	let n = 0
	// JSC's snapshot: each node is [id, size, class name index, flags].
	for (let i = 2; i < nodes.length; i += 4) if (nodes[i] === index) n++
	return n
}

test('per-user topics: shared counts follow every topic, and topics nothing was published on leave nothing behind', async () => {
	const app = new Elysia()
		.use(streaming({ connections: { maxPerAddress: 0 } }))
		.get('/u/:id', ({ subscribe, params }) => subscribe(`user:${params.id}`, { heartbeatMs: 0 }))
		.get('/cluster', ({ clusterConnections }) => clusterConnections())
	const server = listen(app)
	const stopBurners = burnCpu(2, 60)
	const sockets: SseSocket[] = []
	const cluster = async (): Promise<{ total: number; byTopic: Record<string, number> }> =>
		(await fetch(`${server.url}/cluster`)).json() as never
	try {
		const ringsBefore = instancesOf('HistoryRing')
		for (let i = 0; i < USERS; i++) sockets.push(await SseSocket.open(server.port, `/u/${i}`))
		await until(() => sockets.every((s) => s.status === 200), 15_000, 'every subscriber to get its response')
		// One frame on user 0's topic: its history must outlive its subscriber.
		await app.decorator.broadcast.publish('user:0', 'message', 'kept')

		let counts = await cluster()
		await until(async () => (counts = await cluster()).total === USERS, 5000, 'the shared counts to have every subscriber')
		expect(Object.keys(counts.byTopic)).toHaveLength(USERS)
		expect(Object.values(counts.byTopic).every((n) => n === 1)).toBe(true)

		// The even users leave: their topics go from the counts, the odd ones' stay.
		sockets.forEach((s, i) => i % 2 === 0 && s.terminate())
		await until(async () => (counts = await cluster()).total === USERS / 2, 10_000, 'the shared counts to lose the even users')
		expect(Object.keys(counts.byTopic).sort()).toEqual(
			Array.from({ length: USERS / 2 }, (_, k) => `user:${2 * k + 1}`).sort()
		)

		sockets.forEach((s) => s.terminate())
		await until(async () => (counts = await cluster()).total === 0, 10_000, 'the shared counts to lose every user')
		expect(counts.byTopic).toEqual({})
		expect(app.decorator.connections.count).toBe(0)

		// Only the topic that was published on keeps its history (a few rings may be elsewhere).
		expect(instancesOf('HistoryRing') - ringsBefore).toBeLessThan(USERS / 20)
		const back = await SseSocket.open(server.port, '/u/0', { lastEventId: 0 })
		sockets.push(back)
		await until(() => back.ids.length === 1, 5000, 'the replay of the frame published on user 0')
		expect(back.ids).toEqual([1])
	} finally {
		for (const s of sockets) s.terminate()
		await stopBurners()
		await server.stop()
	}
})

// A reconnect storm on a busy machine: N subscribers drop at once while publishing goes on and
// reconnect at once with their last ids; every one ends with every frame, once, in order, and none
// is cut off. Bounded: 200 raw clients, a few seconds, CPU burners killed in finally.
import { expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { streaming } from '../../plugins'
import { listen, until } from '../support/server'
import { burnCpu, SseSocket } from '../support/sse-socket'

const CLIENTS = 200
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

test(`storm: ${CLIENTS} subscribers drop and reconnect at once with their last ids, cores busy; all gapless, none cut off`, async () => {
	const stopBurning = burnCpu(2)
	const app = new Elysia()
		// Every client is 127.0.0.1: no per-address limit in the way.
		.use(streaming({ connections: { maxPerAddress: 0 } }))
		.get('/feed', ({ subscribe }) => subscribe('feed', { heartbeatMs: 0 }))
	const server = listen(app)
	const hub = app.decorator.broadcast
	let publishing = true
	let published = 0
	const first: SseSocket[] = []
	const second: SseSocket[] = []
	try {
		// Last-Event-ID 0 on a new topic: each client's sequence must be exactly 1..last.
		first.push(...(await Promise.all(Array.from({ length: CLIENTS }, () => SseSocket.open(server.port, '/feed', { lastEventId: 0, event: 'tick' })))))
		await until(() => hub.count('feed') === CLIENTS, 10_000, 'every client subscribed')
		// Frames of odd sizes (80 to 1,100 bytes), in bursts, until the storm is over.
		const publisher = (async () => {
			while (publishing) {
				const burst = 1 + (published % 8)
				for (let i = 0; i < burst; i++) {
					published++
					void hub.publish('feed', 'tick', 'x'.repeat(80 + ((published * 131) % 1021)))
				}
				await Bun.sleep(1)
			}
		})()
		await until(() => first.every((c) => c.ids.length >= 20), 15_000, 'every client reading live frames')

		for (const c of first) c.terminate()
		await until(() => hub.count('feed') === 0, 5000, 'the server to see every client leave')
		// Frames go on while they are away: each resumes with a replay of a few pages.
		const resumeFrom = first.map((c) => c.lastId)
		const awayFrom = published
		await until(() => published >= awayFrom + 300, 10_000, '300 frames published while the clients are away')
		const missed = published - Math.max(...resumeFrom)
		second.push(
			...(await Promise.all(resumeFrom.map((id) => SseSocket.open(server.port, '/feed', { lastEventId: id, event: 'tick' }))))
		)
		await until(() => hub.count('feed') === CLIENTS, 10_000, 'every client back')
		await Bun.sleep(300)
		publishing = false
		await publisher
		const last = (await hub.publish('feed', 'tick', 'last')).id
		await until(() => second.every((c) => c.lastId === Number(last) || c.closed), 20_000, 'every client to reach the last frame')

		console.log(`storm: ${CLIENTS} clients, ${last} frames, resumed after ${Math.min(...resumeFrom)}..${Math.max(...resumeFrom)}, replays of ${missed} frames or more`)
		for (let i = 0; i < CLIENTS; i++) {
			const before = first[i]!
			const after = second[i]!
			expect([after.closed, after.ended, after.status]).toEqual([false, false, 200])
			expect(after.notices).toEqual([])
			expect(before.notices).toEqual([])
			expect(after.ids[0]).toBe(resumeFrom[i]! + 1)
			expect([...before.ids, ...after.ids]).toEqual(range(1, Number(last)))
		}
	} finally {
		publishing = false
		for (const c of [...first, ...second]) c.terminate()
		await server.stop()
		await stopBurning()
	}
}, 60_000)

// A reconnect storm across a crash: 200 clients on process A, A killed with SIGKILL while B keeps
// publishing, all reconnect to B at once with their last ids; every sequence gapless and
// duplicate-free through Redis, none cut off. CPU burners keep the cores busy meanwhile.
import { afterAll, describe, expect, test } from 'bun:test'
import { type ClusterNode, startNode } from '../support/cluster'
import { dropTestKeys, uniquePrefix } from '../support/redis-server'
import { needService, redisAnswers, redisUrl } from '../support/services'
import { until } from '../support/server'
import { burnCpu, SseSocket } from '../support/sse-socket'

const { skip } = needService('redis', await redisAnswers())
const CLIENTS = 200
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)
const nodes: ClusterNode[] = []

afterAll(async () => {
	await Promise.all(nodes.map((n) => n.kill()))
	if (!skip) await dropTestKeys(redisUrl)
})

describe.skipIf(skip)('reconnect storm across a crash (redis transport)', () => {
	test(`${CLIENTS} clients on A; A is killed (-9); all resume on B with their ids, gapless and duplicate-free`, async () => {
		const stopBurning = burnCpu(2)
		const prefix = uniquePrefix('storm')
		const [a, b] = await Promise.all([0, 1].map(() => startNode('redis/fixtures/node.ts', { REDIS_URL: redisUrl, PREFIX: prefix })))
		nodes.push(a!, b!)
		let publishing = true
		let published = 0
		const first: SseSocket[] = []
		const second: SseSocket[] = []
		try {
			// Last-Event-ID 0 on a new topic: each client's sequence must be exactly 1..last.
			first.push(...(await Promise.all(Array.from({ length: CLIENTS }, () => SseSocket.open(a!.port, '/stream/s', { lastEventId: 0 })))))
			await until(() => first.every((c) => c.status === 200), 10_000, 'every client on A')
			const publish = async (n: number) => {
				const res = await fetch(`${b!.url}/publish/s`, {
					method: 'POST',
					headers: { 'content-type': 'application/json' },
					body: JSON.stringify({ n, pad: 'x'.repeat((n * 131) % 700) })
				})
				expect(res.status).toBe(200)
				return ((await res.json()) as { id: string }).id
			}
			// B publishes, four at a time, until the storm is over.
			const publisher = (async () => {
				while (publishing) await Promise.all([1, 2, 3, 4].map(() => publish(++published)))
			})()
			await until(() => first.every((c) => c.ids.length >= 30), 15_000, 'every client reading on A')

			await a!.kill()
			await until(() => first.every((c) => c.closed), 5000, 'every connection to A to drop')
			const resumeFrom = first.map((c) => c.lastId)
			const awayFrom = published
			await until(() => published >= awayFrom + 100, 10_000, 'frames published while the clients are away')
			second.push(...(await Promise.all(resumeFrom.map((id) => SseSocket.open(b!.port, '/stream/s', { lastEventId: id })))))
			await until(() => second.every((c) => c.ids.length > 0), 10_000, 'every client replayed on B')
			const backAt = published
			await until(() => published >= backAt + 100, 10_000, 'frames published after the clients are back')
			publishing = false
			await publisher
			const last = Number(await publish(++published))
			await until(() => second.every((c) => c.lastId === last || c.closed), 20_000, 'every client to reach the last frame')
			console.log(`storm across a crash: ${CLIENTS} clients, ${last} frames, resumed on B after ${Math.min(...resumeFrom)}..${Math.max(...resumeFrom)}`)

			for (let i = 0; i < CLIENTS; i++) {
				const before = first[i]!
				const after = second[i]!
				expect([after.closed, after.ended, after.status]).toEqual([false, false, 200])
				expect(after.notices).toEqual([])
				expect(after.ids[0]).toBe(resumeFrom[i]! + 1)
				expect([...before.ids, ...after.ids]).toEqual(range(1, last))
			}
		} finally {
			publishing = false
			for (const c of [...first, ...second]) c.terminate()
			await stopBurning()
		}
	}, 60_000)
})
